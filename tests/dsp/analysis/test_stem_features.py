"""The predictor's stem features: the one-pass sums against numpy's own arithmetic."""

import math

import numpy as np
import pytest

from dsp.analysis import mix_figures, stem_features

RATE = stem_features.FEATURE_RATE_HZ


def stem(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    left = 0.3 * rng.standard_normal(n) * np.linspace(0.05, 1.0, n)  # a crescendo
    right = 0.6 * left + 0.1 * rng.standard_normal(n)
    return np.stack([left, right]).astype(np.float32)


def reference(x: np.ndarray) -> dict[str, float]:
    """What the features read, computed the plain numpy way."""
    x = x.astype(np.float64)
    left, right = x
    mono = 0.5 * (left + right)
    power = float(np.mean(x * x))
    block = round(stem_features.BLOCK_S * RATE)
    n_blocks = x.shape[1] // block
    blocks = np.mean(x[:, : n_blocks * block].reshape(2, n_blocks, block) ** 2, axis=(0, 2))
    return {"rms_db": 10 * math.log10(power), "peak_db": 20 * math.log10(np.abs(x).max()),
            "ms": mix_figures.ms_ratio(x),
            "balance_db": 10 * math.log10(np.mean(left ** 2) / np.mean(right ** 2)),
            "corr": float(np.dot(left, right) / math.sqrt(np.dot(left, left)
                                                         * np.dot(right, right))),
            "zcr": float(np.mean(np.abs(np.diff(np.signbit(mono).astype(np.int8))))),
            "blocks_db": 10 * np.log10(blocks)}


@pytest.mark.parametrize("seed", [0, 1])
def test_the_sums_equal_numpys(seed):
    x = stem(seed, 5 * RATE + 1234)  # whole 100 ms blocks and a remainder
    f = stem_features.features(x, RATE).astype(np.float64)
    ref = reference(x)
    assert f[2] == pytest.approx((ref["rms_db"] + 20.0) / 20.0, abs=1e-6)
    assert f[3] == pytest.approx((ref["peak_db"] + 10.0) / 20.0, abs=1e-6)
    assert f[12] == pytest.approx(ref["ms"], abs=1e-6)
    assert f[13] == pytest.approx(ref["balance_db"] / 12.0, abs=1e-6)
    assert f[14] == pytest.approx(ref["corr"], abs=1e-6)
    assert f[30] == pytest.approx(math.log10(ref["zcr"]) + 2.0, abs=1e-6)
    heard = ref["blocks_db"][ref["blocks_db"] > stem_features.ACTIVE_DB]
    dyn = np.percentile(heard, 95) - np.percentile(heard, 10)
    assert f[6] == pytest.approx((dyn - 10.0) / 10.0, abs=1e-6)
    assert f[7] == pytest.approx(np.std(heard) / 10.0, abs=1e-6)
    assert dyn > 5.0  # the crescendo: the figure is not a constant


def test_a_stem_shorter_than_a_block_is_read():
    x = stem(2, 1000)  # 42 ms
    f = stem_features.features(x, RATE)
    assert np.all(np.isfinite(f))
    assert f[6] == pytest.approx(-1.0)  # one block: no dynamic range
    assert f[2] == pytest.approx((reference(x)["rms_db"] + 20.0) / 20.0, abs=1e-6)
