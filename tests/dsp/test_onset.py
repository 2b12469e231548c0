
import numpy as np
import pytest
from scipy.signal import butter, sosfilt

from dsp import onset

mir_eval = pytest.importorskip("mir_eval")

SR = 44100


def drum_track(seed, duration_s=12.0, sr=SR, min_gap_s=0.07):
    """Kicks, snares and hats at random times (>= min_gap_s apart) and levels (-30 … 0 dB),
    over white noise at -50 dBFS RMS. Returns (float32 signal, onset times in s, kinds)."""
    rng = np.random.default_rng(seed)
    n = int(duration_s * sr)
    x = np.zeros(n)
    times = []
    t = 0.2
    while True:
        t += min_gap_s + rng.exponential(0.15)
        if t > duration_s - 0.5:
            break
        times.append(t)
    hat_hp = butter(4, 7000, "highpass", fs=sr, output="sos")
    snare_bp = butter(2, [1000, 5000], "bandpass", fs=sr, output="sos")
    kinds = []
    for t in times:
        kind = int(rng.integers(3))
        kinds.append(kind)
        level = 10 ** (rng.uniform(-30, 0) / 20)
        if kind == 0:  # kick: 150 -> 50 Hz sine sweep plus a short noise click
            tt = np.arange(int(0.35 * sr)) / sr
            freq = 50 + 100 * np.exp(-tt / 0.04)
            hit = np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-tt / 0.15)
            n_click = int(0.002 * sr)
            click = rng.uniform(-1, 1, n_click) * np.exp(-np.arange(n_click) / (0.0005 * sr))
            hit[:n_click] += 0.5 * click
        elif kind == 1:  # snare: two tones plus band-passed noise
            tt = np.arange(int(0.25 * sr)) / sr
            tone = np.sin(2 * np.pi * 185 * tt) + 0.6 * np.sin(2 * np.pi * 330 * tt)
            hit = 0.5 * tone * np.exp(-tt / 0.06)
            hit += 0.8 * sosfilt(snare_bp, rng.standard_normal(tt.size)) * np.exp(-tt / 0.08)
        else:  # closed hat: high-passed noise
            tt = np.arange(int(0.12 * sr)) / sr
            hit = sosfilt(hat_hp, rng.standard_normal(tt.size)) * np.exp(-tt / 0.03)
        hit *= 0.9 * level / np.max(np.abs(hit))
        i0 = int(round(t * sr))
        m = min(hit.size, n - i0)
        x[i0 : i0 + m] += hit[:m]
    x += rng.standard_normal(n) * 10 ** (-50 / 20)
    return x.astype(np.float32), np.array(times), np.array(kinds)


def detect(x, block=None, **kwargs):
    state = onset.prepare(SR, **kwargs)
    if block is None:
        block = x.shape[0]
    rows = []
    out = np.zeros((block // 64 + 8, 2))
    for i in range(0, x.shape[0], block):
        k = onset.process(state, x[i : i + block], out)
        rows.append(out[:k].copy())
    return np.concatenate(rows), state


def test_f_measure_and_latency_on_synthetic_drums():
    f_scores = []
    errors = []
    lat = None
    for seed in (0, 1, 2):
        x, times, _ = drum_track(seed)
        found, state = detect(x)
        lat = onset.latency_samples(state)
        est = found[:, 0] / SR
        f, p, r = mir_eval.onset.f_measure(times, est, window=0.01)
        f_scores.append(f)
        print(f"seed {seed}: {len(times)} onsets, F={f:.3f} P={p:.3f} R={r:.3f}")
        for i, j in mir_eval.util.match_events(times, est, 0.01):
            errors.append(est[j] - times[i])
    errors_ms = np.array(errors) * 1e3
    lat_ms = lat / SR * 1e3
    emitted_ms = lat_ms + errors_ms  # time from the true onset to the detection being emitted
    print(
        f"F mean {np.mean(f_scores):.3f}, position error {errors_ms.mean():+.2f} ± "
        f"{errors_ms.std():.2f} ms, latency_samples {lat} ({lat_ms:.2f} ms), measured emission "
        f"delay mean {emitted_ms.mean():.2f} ms, max {emitted_ms.max():.2f} ms"
    )
    assert min(f_scores) >= 0.95
    assert abs(errors_ms.mean()) < 1.0  # the delay compensation is centred
    assert lat_ms < 10.0


def test_latency_matches_emission_time():
    x, _, _ = drum_track(5, duration_s=3.0)
    state = onset.prepare(SR)
    hop = int(state[onset._HOP])
    lat = onset.latency_samples(state)
    out = np.zeros((8, 2))
    n_found = 0
    for i in range(0, x.shape[0] - hop + 1, hop):
        # Blocks of one hop end exactly where a frame is analysed, i.e. where it is emitted.
        for row in out[: onset.process(state, x[i : i + hop], out)]:
            assert row[0] + lat == i + hop - 1
            n_found += 1
    assert n_found > 5


def test_no_false_onsets_in_noise_and_steady_tone():
    rng = np.random.default_rng(7)
    n = 3 * SR
    noise = (rng.standard_normal(n) * 10 ** (-50 / 20)).astype(np.float32)
    assert detect(noise)[0].shape[0] == 0
    t = np.arange(n) / SR
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32) + noise
    found = detect(tone)[0]
    assert found.shape[0] <= 1 and (found.shape[0] == 0 or found[0, 0] < 0.05 * SR)


def test_min_interval():
    x, _, _ = drum_track(3, duration_s=6.0)
    found = detect(x, min_interval_ms=100.0)[0]
    assert np.all(np.diff(found[:, 0]) >= 0.1 * SR)


def test_block_size_invariance():
    x, times, _ = drum_track(4, duration_s=2.5)
    whole, _ = detect(x)
    assert whole.shape[0] >= 3
    for block in (1, 7, 64, 128, 4096):
        np.testing.assert_array_equal(detect(x, block)[0], whole)


def test_reset_restarts_the_sample_count():
    x, _, _ = drum_track(4, duration_s=2.5)
    first, state = detect(x)
    onset.reset(state)
    out = np.zeros((64, 2))
    k = onset.process(state, x, out)
    np.testing.assert_array_equal(out[:k], first)


def test_fft_matches_numpy():
    n = 256
    cos_tab, sin_tab, bitrev = onset.fft_tables(n)
    rng = np.random.default_rng(0)
    z = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    re, im = z.real.copy(), z.imag.copy()
    onset.fft_inplace(re, im, cos_tab, sin_tab, bitrev)
    np.testing.assert_allclose(re + 1j * im, np.fft.fft(z), atol=1e-9)


def test_no_allocation_in_process(assert_no_nrt_alloc):
    state = onset.prepare(SR)
    x = np.zeros(1024, dtype=np.float32)
    assert_no_nrt_alloc(onset.process, state, x, np.zeros((4, 2)))
    assert_no_nrt_alloc(onset.reset, state)
    assert_no_nrt_alloc(onset.latency_samples, state)
