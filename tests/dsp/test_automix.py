"""Auto-mix kernel: it reaches a style's targets, measured by independent meters
(pyebur128 for loudness, scipy filters for brightness and width), and leaves audio
untouched when off."""

from __future__ import annotations

import numpy as np
import pyebur128
import pytest
from scipy.signal import butter, lfilter, sosfilt

from dsp import automix
from dsp.bs1770 import k_weighting_coefficients

FS = 48000


def noise_mix(seconds: float, level: float, side: float, dark_hz: float, seed: int = 0):
    """Stereo noise: a low-passed (dark) mid plus an independent side at ``side`` x."""
    rng = np.random.default_rng(seed)
    n = int(seconds * FS)
    sos = butter(1, dark_hz, "lowpass", fs=FS, output="sos")
    mid = sosfilt(sos, rng.standard_normal(n))
    sid = side * sosfilt(sos, rng.standard_normal(n))
    x = level * np.stack([mid + sid, mid - sid]) / np.std(mid)
    return x.astype(np.float32)


def run(x, amount=1.0, lufs=-16.0, bright=-12.0, width=-8.0, blocks=(128,)):
    state = automix.prepare(FS)
    automix.set_params(state, amount, lufs, bright, width)
    y = x.copy()
    i, k = 0, 0
    while i < y.shape[1]:
        n = blocks[k % len(blocks)]
        automix.process(state, y[:, i: i + n])
        i, k = i + n, k + 1
    return y, state


def integrated_lufs(x) -> float:
    meter = pyebur128.R128State(2, FS, pyebur128.MeasurementMode.MODE_I)
    meter.add_frames(np.ascontiguousarray(x.T, dtype=np.float64).reshape(-1), x.shape[1])
    return pyebur128.get_loudness_global(meter)


def brightness_db(x) -> float:
    mid, side = 0.5 * (x[0] + x[1]), 0.5 * (x[0] - x[1])
    sos = butter(2, automix.SPLIT_HZ, "highpass", fs=FS, output="sos")
    high = np.sum(sosfilt(sos, mid) ** 2) + np.sum(sosfilt(sos, side) ** 2)
    return 10 * np.log10(high / (np.sum(mid.astype(float) ** 2) + np.sum(side.astype(float) ** 2)))


def width_db(x) -> float:
    b, a = k_weighting_coefficients(FS)
    def k(v):
        return lfilter(b[1], a[1], lfilter(b[0], a[0], v.astype(float)))
    mid, side = k(0.5 * (x[0] + x[1])), k(0.5 * (x[0] - x[1]))
    return 10 * np.log10(np.sum(side ** 2) / np.sum(mid ** 2))


@pytest.mark.parametrize("start, target", [
    # (level, side, dark_hz) of the input; (lufs, brightness_db, width_db) of the style
    ((0.02, 0.1, 800.0), (-22.0, -10.0, -16.0)),  # quiet, bright, narrow: up, darker, wider
    ((0.3, 0.8, 3000.0), (-20.0, -5.5, -12.0)),  # loud, bright, wide: down, darker, narrower
])
def test_the_mix_settles_on_the_style_targets(start, target):
    x = noise_mix(40.0, *start)
    y, _ = run(x, 1.0, *target)
    tail = y[:, -15 * FS:]  # after the 3 s averages and the 3 dB/s slew have settled
    assert abs(integrated_lufs(tail) - target[0]) < 0.5
    assert abs(brightness_db(tail) - target[1]) < 1.0
    assert abs(width_db(tail) - target[2]) < 0.5
    # and the input really was away from them
    head = x[:, -15 * FS:]
    assert abs(integrated_lufs(head) - target[0]) > 6.0
    assert abs(brightness_db(head) - target[1]) > 2.5
    assert abs(width_db(head) - target[2]) > 3.0


def test_readings_agree_with_the_independent_meters():
    x = noise_mix(20.0, 0.05, 0.3, 2000.0)
    _, state = run(x, amount=0.0)
    r = automix.readings(state)
    tail = x[:, -10 * FS:]
    assert abs(r["loudness_lufs"] - integrated_lufs(tail)) < 0.3
    assert abs(r["brightness_db"] - brightness_db(tail)) < 0.3
    assert abs(r["width_db"] - width_db(tail)) < 0.3
    assert (r["gain_db"], r["shelf_db"], r["side_db"]) == (0.0, 0.0, 0.0)


def test_amount_zero_leaves_the_audio_bit_for_bit():
    x = noise_mix(3.0, 0.1, 0.5, 3000.0)
    y, _ = run(x, amount=0.0)
    assert np.array_equal(y, x)


def test_half_amount_applies_half_the_correction_in_db():
    x = noise_mix(30.0, 0.02, 0.1, 800.0)
    _, full = run(x, 1.0)
    _, half = run(x, 0.5)
    for key in ("gain_db", "shelf_db", "side_db"):
        full_db, half_db = automix.readings(full)[key], automix.readings(half)[key]
        assert abs(half_db - 0.5 * full_db) < 0.05 * abs(full_db) + 0.05, key


def test_the_output_does_not_depend_on_the_block_size():
    x = noise_mix(6.0, 0.02, 0.2, 1000.0)
    a, _ = run(x, blocks=(128,))
    b, _ = run(x, blocks=(1, 7, 300, 64, 1000, 33))
    assert np.array_equal(a, b)


def test_silence_holds_the_corrections_and_stays_silent():
    x = noise_mix(20.0, 0.02, 0.2, 1000.0)
    y, state = run(x)
    before = automix.readings(state)
    silence = np.zeros((2, 5 * FS), np.float32)
    automix.process(state, silence)
    after = automix.readings(state)
    assert before == after  # gated: no rise in the gaps
    assert before["gain_db"] > 6.0  # it was raising this quiet mix
    assert np.max(np.abs(silence[:, FS // 10:])) == 0.0  # past the filters' last ringing


def test_corrections_stay_within_their_ranges_and_rates():
    # near-silent, pure-bass, mono-ish input asks for more than the ranges allow
    x = noise_mix(30.0, 0.01, 0.001, 100.0)
    state = automix.prepare(FS)
    automix.set_params(state, 1.0, -8.0, -3.0, 0.0)
    gains = []
    for i in range(0, x.shape[1], FS // 10):
        automix.process(state, x[:, i: i + FS // 10].copy())
        gains.append(automix.readings(state))
    g = np.array([r["gain_db"] for r in gains])
    assert g.max() == automix.GAIN_RANGE_DB[1]
    assert np.max(np.diff(g)) <= automix.RATE_DB_PER_S * 0.1 + 1e-9
    assert max(r["shelf_db"] for r in gains) == automix.SHELF_RANGE_DB[1]
    assert max(r["side_db"] for r in gains) == automix.SIDE_RANGE_DB[1]


def test_non_finite_input_never_reaches_the_state():
    x = noise_mix(5.0, 0.02, 0.2, 1000.0)
    x[:, FS: FS + 100] = np.nan
    x[0, 2 * FS] = np.inf
    y, state = run(x)
    assert np.all(np.isfinite(state))
    assert np.all(np.isfinite(y))
    assert np.max(np.abs(y[:, FS: FS + 100])) < np.max(np.abs(y[:, FS - 100: FS]))


def test_process_never_allocates(assert_no_nrt_alloc):
    state = automix.prepare(FS)
    automix.set_params(state, 1.0, -16.0, -12.0, -8.0)
    assert_no_nrt_alloc(automix.process, state, np.zeros((2, 256), np.float32))


def test_at_a_rate_too_low_for_the_split_it_stays_off():
    state = automix.prepare(8000)
    automix.set_params(state, 1.0, -16.0, -12.0, -8.0)
    x = np.random.default_rng(0).standard_normal((2, 8000)).astype(np.float32)
    y = x.copy()
    automix.process(state, y)
    assert np.array_equal(y, x)
    assert automix.readings(state)["loudness_lufs"] == -np.inf


def test_a_quiet_passage_after_a_loud_burst_is_still_heard():
    # a shout at the start must not leave the level gated at the shout's
    loud = noise_mix(1.0, 0.3, 0.3, 2000.0, seed=1)
    quiet = noise_mix(40.0, 0.01, 0.3, 2000.0, seed=2)  # the shout (+30 dB) fades from
    # the 3 s average: after 40 s it weighs 1000 x exp(-40 / 3), under 0.2 %
    state = automix.prepare(FS)  # amount 0: the reading is of the input itself (no shelf)
    automix.process(state, loud.copy())
    automix.process(state, quiet.copy())
    assert abs(automix.readings(state)["loudness_lufs"] - integrated_lufs(quiet)) < 0.5


def test_an_unreachable_brightness_does_not_wind_up_the_trim():
    x = noise_mix(60.0, 0.05, 0.3, 6000.0)
    state = automix.prepare(FS)
    automix.set_params(state, 1.0, -20.0, -20.0, -10.0)  # far darker than 9 dB of shelf makes
    automix.process(state, x[:, : 30 * FS].copy())
    assert automix.readings(state)["shelf_db"] == automix.SHELF_RANGE_DB[0]
    # a target this material already has: the shelf goes back at its 3 dB/s, not held by
    # a trim wound up while it sat at the clamp
    automix.set_params(state, 1.0, -20.0, automix.readings(state)["brightness_db"], -10.0)
    automix.process(state, x[:, 30 * FS: 40 * FS].copy())
    assert abs(automix.readings(state)["shelf_db"]) < 1.0


def test_the_split_filter_is_scipys_butterworth():
    from scipy.signal import butter

    from dsp.automix import butterworth_highpass

    for rate in (16000.0, 44100.0, 48000.0, 96000.0):
        b, a = butter(2, 2000.0, "highpass", fs=rate)
        np.testing.assert_allclose(butterworth_highpass(2000.0, rate),
                                   [b[0], b[1], b[2], a[1], a[2]], rtol=1e-12, atol=1e-15)
