"""The torch twin equals the Numba channel strip and master (the training is only as good as
this), its gradients are the recursion's, and the numpy predictor equals the network."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dsp import channel_strip as cs
from dsp import mastering
from models.automix import one_pole, predictor, train, twin

SR = 48000


def _program(seed: int) -> np.ndarray:
    """Noise with a loud burst and a quiet stretch: the compressor attacks and releases."""
    rng = np.random.default_rng(seed)
    x = 0.2 * rng.standard_normal((2, SR))
    x[:, 4000:9000] *= 4.0
    x[:, 20000:30000] *= 0.05
    x[1] = 0.7 * x[1] + 0.3 * x[0]
    return x.astype(np.float32)


def _random_strip(rng: np.random.Generator) -> np.ndarray:
    p = cs.defaults()
    for i, spec in enumerate(cs.STRIP_PARAMS):
        u = rng.random()
        p[i] = spec.low * (spec.high / spec.low) ** u if spec.log else \
            spec.low + (spec.high - spec.low) * u
    return p


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_strip_twin_equals_numba_strip(seed):
    rng = np.random.default_rng(seed)
    x = _program(seed)
    p = _random_strip(rng)
    p[cs.INDEX["comp_threshold_db"]] = -30.0  # make sure the compressor works
    y = cs.process(x, SR, p)
    yt = twin.strip(torch.from_numpy(x.astype(np.float64))[None], SR,
                    torch.from_numpy(p)[None])[0].numpy()
    assert np.abs(y).max() > 0.05
    np.testing.assert_allclose(yt, y, rtol=0, atol=1e-3)
    assert np.abs(yt - y).max() < 1e-5  # in fact float32 rounding


def test_master_twin_equals_mastering_chain():
    x = _program(7)
    m = mastering.defaults()
    m[:5] = -24.0, 3.0, 5.0, 4.0, 2.0  # the cuts stay off: they are correction only
    y = mastering.pre_limiter(x, SR, m)
    yt = twin.master(torch.from_numpy(x.astype(np.float64))[None], SR,
                     torch.from_numpy(m)[None])[0].numpy()
    np.testing.assert_allclose(yt, y, rtol=0, atol=1e-5)


def test_one_pole_gradient_matches_finite_differences():
    rng = np.random.default_rng(3)
    target = torch.tensor(rng.uniform(0, 12, (2, 400)), dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda u: one_pole.smooth(u, 0.9, 0.99), (target,),
                                    eps=1e-6, atol=1e-6)


def test_numpy_predictor_equals_the_torch_network(tmp_path):
    torch.manual_seed(0)
    net = train.Network()
    net.export(tmp_path / "p.npz")
    ours = predictor.Predictor(tmp_path / "p.npz")
    x = np.random.default_rng(1).standard_normal(train.N_INPUTS).astype(np.float32)
    want = train.scale(net(torch.from_numpy(x)[None]).double())[0].detach().numpy()
    got = ours.predict(x[:-predictor.N_STYLE].reshape(predictor.MAX_STEMS, -1),
                       x[-predictor.N_STYLE:])
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)
    low, high, _ = predictor.output_ranges()
    assert np.all(got >= low) and np.all(got <= high)


def test_shipped_weights_load_and_fit_the_layout():
    p = predictor.Predictor()
    assert p.layers[0][0].shape == (train.HIDDEN[0], train.N_INPUTS)
    assert p.layers[-1][0].shape == (predictor.N_OUTPUTS, train.HIDDEN[-1])
