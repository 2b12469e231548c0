"""The drum autoencoder: streaming equals whole clips, nothing looks past its block."""

from __future__ import annotations

import numpy as np
import torch

from models.drum_ae.network import BANDS, COMPRESSION, LATENT_DIMS, DrumAE


def _model() -> DrumAE:
    torch.manual_seed(0)
    return DrumAE().eval()


def _audio(frames: int, seed: int = 0) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    return torch.from_numpy((0.2 * rng.standard_normal((1, 1, frames))).astype(np.float32))


def _stream(m: DrumAE, x: torch.Tensor, eps: torch.Tensor, noise: torch.Tensor,
            block: int) -> tuple[torch.Tensor, torch.Tensor]:
    es, ds = m.encoder_states(), m.decoder_states()
    zs, ys = [], []
    f = block // COMPRESSION
    for k in range(x.shape[-1] // block):
        z, _, _, es = m.encode_stream(x[..., k * block:(k + 1) * block],
                                      eps[..., k * f:(k + 1) * f], es)
        y, ds = m.decode_stream(z, noise[..., k * block // BANDS:(k + 1) * block // BANDS], ds)
        zs.append(z)
        ys.append(y)
    return torch.cat(zs, -1), torch.cat(ys, -1)


def test_block_streaming_equals_the_whole_clip():
    m = _model()
    n = 24 * COMPRESSION
    x = _audio(n)
    eps = torch.randn(1, LATENT_DIMS, n // COMPRESSION)
    noise = torch.randn(1, BANDS, n // BANDS)
    with torch.no_grad():
        z_whole, y_whole = _stream(m, x, eps, noise, n)
        for block in (COMPRESSION, 4 * COMPRESSION):
            z, y = _stream(m, x, eps, noise, block)
            assert torch.allclose(z, z_whole, atol=1e-5)
            assert torch.allclose(y, y_whole, atol=1e-5)


def test_output_never_depends_on_later_blocks():
    m = _model()
    n = 16 * COMPRESSION
    x = _audio(n)
    later = x.clone()
    cut = 9 * COMPRESSION
    later[..., cut:] = _audio(n - cut, seed=5)
    eps = torch.zeros(1, LATENT_DIMS, n // COMPRESSION)
    noise = torch.randn(1, BANDS, n // BANDS)
    with torch.no_grad():
        za, ya = _stream(m, x, eps, noise, COMPRESSION)
        zb, yb = _stream(m, later, eps, noise, COMPRESSION)
    assert torch.equal(za[..., :9], zb[..., :9])
    assert torch.equal(ya[..., :cut], yb[..., :cut])
    assert not torch.equal(ya[..., cut:], yb[..., cut:])  # the change is heard after it


def test_training_pass_shapes_and_posterior():
    m = _model()
    y, mean, std = m(_audio(8 * COMPRESSION))
    assert y.shape == (1, 1, 8 * COMPRESSION)
    assert mean.shape == std.shape == (1, LATENT_DIMS, 8)
    assert bool((std > 0).all())
