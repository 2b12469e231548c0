"""TorchRng draws what torch's CPU generator draws, so the ONNX path needs no torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.rave.torch_rng import TorchRng

# torch computes the float path in float32 (vectorised log/sin/cos), TorchRng in float64
# rounded once: normals up to ~5 in size agree within a few float32 ulps
TOL = 4e-6
SHAPES = [(1,), (1, 3, 2), (1, 8, 1), (15,), (16,), (17,), (1, 16, 3), (2, 5, 7), (1, 4, 256)]


@pytest.mark.parametrize("seed", [0, 5, 20261207, 2**32 + 3])
def test_randn_and_rand_follow_torch_across_sizes_and_calls(seed: int) -> None:
    ours = TorchRng(seed)
    torch.manual_seed(seed)
    for shape in SHAPES:  # one generator through every size: each draw moves it like torch
        expected = torch.randn(*shape).numpy()
        got = ours.randn(*shape)
        assert got.shape == shape and got.dtype == np.float32
        np.testing.assert_allclose(got, expected, atol=TOL)
        if expected.size < 16:  # the double path: no float32 rounding inside, so exact
            np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(ours.rand(*shape), torch.rand(*shape).numpy())


def test_a_seed_restarts_the_stream_and_clears_the_cached_normal() -> None:
    rng = TorchRng(1)
    first = rng.randn(3)  # odd count: one normal of the last pair stays cached
    rng.manual_seed(1)
    np.testing.assert_array_equal(rng.randn(3), first)
    torch.manual_seed(1)
    torch.randn(3)
    np.testing.assert_array_equal(rng.randn(1), torch.randn(1).numpy())  # the cached one


def test_unseeded_generators_differ() -> None:
    assert not np.array_equal(TorchRng().randn(64), TorchRng().randn(64))
