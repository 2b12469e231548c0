"""The input strip and master bus as the engine runs them (kernels are tested in tests/dsp)."""

import numpy as np
import pyebur128 as eb
import pytest

from dsp import loudness
from engine import kernels
from engine.offline.render import render_array

SR = 48000


def _noise(seconds: float, level: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    x = rng.standard_normal((n, 2))
    # drum-like bursts on top of the noise bed: the limiter's worst case
    env = 1.0 + 3.0 * (np.sin(2 * np.pi * 2 * np.arange(n) / SR) > 0.95)
    return (level * x * env[:, None]).astype(np.float32)


def _true_peak_pyebur128(y: np.ndarray) -> float:
    st = eb.R128State(2, SR, eb.MeasurementMode.MODE_TRUE_PEAK)
    st.add_frames(np.ascontiguousarray(y, dtype=np.float64).reshape(-1), y.shape[0])
    return 20 * np.log10(max(eb.get_true_peak(st, c) for c in range(2)))


@pytest.mark.parametrize("ceiling_dbtp", [-1.0, -3.0])
def test_overdriven_input_leaves_the_engine_under_the_limiter_ceiling(ceiling_dbtp):
    x = _noise(3.0, 10 ** (20 / 20) * 0.3)  # about +20 dB over full scale
    y, engine = render_array(x, SR, {"limiter_ceiling_dbtp": ceiling_dbtp,
                                     "stem_worker_gain_db": -80.0}, insert="none")
    ours = loudness.measure(y.T.copy(), SR)["true_peak_dbtp"]
    assert ours <= ceiling_dbtp + 0.1
    assert _true_peak_pyebur128(y) <= ceiling_dbtp + 0.1
    assert engine.snapshot()["gain_reduction_db"]["limiter"] >= 0.0
    # the limiter, not the safety clipper, did the work
    assert engine.snapshot()["safety_limited_blocks"] == 0


def test_master_latency_is_the_limiter_lookahead():
    x = np.zeros((SR // 10, 2), dtype=np.float32)
    x[1000] = 0.1
    y, engine = render_array(x, SR, {"input_hpf_hz": 10.0, "master_width": 1.0,
                                     "stem_worker_gain_db": -80.0}, insert="none")
    lat = engine.snapshot()["latency"]["master_lookahead_frames"]
    assert lat == round(kernels.LIMITER_LOOKAHEAD_MS * 1e-3 * SR)
    # filters smear the impulse, but its energy arrives exactly `lat` later
    assert abs(int(np.argmax(np.abs(y[:, 0]))) - (1000 + lat)) <= 2


def test_mid_eq_boost_raises_that_band_by_its_gain():
    t = np.arange(SR) / SR
    tone = (0.05 * np.sin(2 * np.pi * 2000 * t)).astype(np.float32)
    x = np.stack([tone, tone], axis=1)
    base, _ = render_array(x, SR, {"stem_worker_gain_db": -80.0}, insert="none")
    boosted, _ = render_array(x, SR, {"stem_worker_gain_db": -80.0, "eq_mid_gain_db": 6.0,
                                      "eq_mid_freq_hz": 2000.0}, insert="none")

    def rms(y):
        return np.sqrt(np.mean(y[SR // 2:, 0] ** 2))

    assert 20 * np.log10(rms(boosted) / rms(base)) == pytest.approx(6.0, abs=0.1)


def test_width_zero_makes_the_output_mono():
    x = _noise(0.5, 0.05, seed=3)
    y, _ = render_array(x, SR, {"master_width": 0.0, "stem_worker_gain_db": -80.0},
                        insert="none")
    settled = y[SR // 10:]
    assert np.max(np.abs(settled[:, 0] - settled[:, 1])) < 1e-4 * np.max(np.abs(settled))
