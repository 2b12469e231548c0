"""Drum synthesizer: onsets, pitch, decay, level, brightness, choke, determinism, real time."""


import numpy as np
import pytest

from dsp import drums

SR = 48000.0
VOICES = list(range(drums.N_VOICES))


def render_one(voice, seconds=1.5, at=480, velocity=1.0, params=None, block=256, seed=1):
    """One hit at frame ``at`` through trigger/process in blocks; float32 (2, n)."""
    if params is None:
        params = drums.default_params()
    state = drums.prepare(SR, seed=seed)
    n = int(seconds * SR)
    out = np.zeros((2, n), dtype=np.float32)
    for b0 in range(0, n, block):
        b1 = min(b0 + block, n)
        if b0 <= at < b1:
            assert drums.trigger(state, voice, velocity, at - b0)
        drums.process(state, params, out[:, b0:b1])
    return out


def params_with(voice, column, value):
    params = drums.default_params()
    params[voice, column] = value
    return params


def decay_time_s(x, threshold_db=-40.0, window_s=0.005):
    """Time from onset to the last 5 ms RMS window above max RMS + threshold_db."""
    mono = x.astype(np.float64).sum(axis=0)
    onset = np.flatnonzero(mono)[0]
    w = int(window_s * SR)
    frames = mono[onset : onset + (mono.size - onset) // w * w].reshape(-1, w)
    rms = np.sqrt((frames**2).mean(axis=1))
    above = np.flatnonzero(rms > rms.max() * 10 ** (threshold_db / 20))
    return (above[-1] + 0.5) * window_s


def spectral_centroid_hz(x):
    power = np.abs(np.fft.rfft(x.astype(np.float64).sum(axis=0))) ** 2
    f = np.fft.rfftfreq(x.shape[1], 1 / SR)
    return float((power * f).sum() / power.sum())


@pytest.mark.parametrize("voice", VOICES)
@pytest.mark.parametrize("at", [0, 1, 127, 128, 1000])
def test_onset_is_sample_accurate(voice, at):
    out = render_one(voice, seconds=0.05, at=at, block=128)
    for ch in range(2):
        assert np.flatnonzero(out[ch])[0] == at


def pattern():
    """A busy pattern: every voice, overlaps, a choke, simultaneous hits."""
    rng = np.random.default_rng(3)
    hits = [
        (int(p), int(v), float(vel))
        for p, v, vel in zip(
            rng.integers(0, 20000, 40),
            rng.integers(0, drums.N_VOICES, 40),
            rng.uniform(0.1, 1, 40),
            strict=True,
        )
    ]
    hits += [
        (5000, drums.HAT_OPEN, 1.0),
        (5300, drums.HAT_CLOSED, 0.8),
        (7000, drums.KICK, 1.0),
        (7000, drums.SNARE, 0.7),
    ]
    return sorted(hits, key=lambda h: h[0])


def render_blocks(hits, n, block, params):
    state = drums.prepare(SR)
    out = np.zeros((2, n), dtype=np.float32)
    j = 0
    for b0 in range(0, n, block):
        b1 = min(b0 + block, n)
        while j < len(hits) and hits[j][0] < b1:
            p, v, vel = hits[j]
            assert drums.trigger(state, v, vel, p - b0)
            j += 1
        drums.process(state, params, out[:, b0:b1])
    return out


def test_block_size_invariance():
    hits = pattern()
    params = drums.default_params()
    params[:, drums.PARAM_TUNE] = np.linspace(-5, 5, drums.N_VOICES)
    n = 24000
    ref = render_blocks(hits, n, 4096, params)
    assert np.abs(ref).max() > 0.1
    for block in (1, 7, 64, 128):
        np.testing.assert_array_equal(render_blocks(hits, n, block, params), ref)


def test_offsets_past_the_block_carry_over():
    hits = pattern()
    params = drums.default_params()
    n = 24000
    ref = render_blocks(hits, n, 128, params)
    state = drums.prepare(SR)
    for p, v, vel in hits:  # all queued up front with absolute offsets
        assert drums.trigger(state, v, vel, p)
    out = np.zeros((2, n), dtype=np.float32)
    for b0 in range(0, n, 100):
        drums.process(state, params, out[:, b0 : b0 + 100])
    np.testing.assert_array_equal(out, ref)


def peak_frequency_hz(x, start_s=0.08):
    seg = x[0, int(start_s * SR) :].astype(np.float64)
    spec = np.abs(np.fft.rfft(seg * np.hanning(seg.size), n=1 << 20))
    return np.fft.rfftfreq(1 << 20, 1 / SR)[np.argmax(spec)]


@pytest.mark.parametrize("tune, expected_hz", [(0.0, 50.0), (12.0, 100.0), (-12.0, 25.0)])
def test_kick_pitch_after_sweep(tune, expected_hz):
    params = params_with(drums.KICK, drums.PARAM_TUNE, tune)
    f = peak_frequency_hz(render_one(drums.KICK, seconds=1.5, at=0, params=params))
    assert abs(12 * np.log2(f / expected_hz)) < 1.0


def test_kick_octave_up_doubles_pitch():
    f0 = peak_frequency_hz(render_one(drums.KICK, at=0))
    f12 = peak_frequency_hz(
        render_one(drums.KICK, at=0, params=params_with(drums.KICK, drums.PARAM_TUNE, 12.0))
    )
    assert f12 / f0 == pytest.approx(2.0, rel=0.02)


@pytest.mark.parametrize("voice", VOICES)
def test_decay_multiplier_scales_decay_time(voice):
    # Short hats need a finer envelope window; 5 ms smooths the low voices' cycles.
    window_s = 0.001 if voice in (drums.HAT_CLOSED, drums.HAT_OPEN) else 0.005
    t1 = decay_time_s(render_one(voice, seconds=2.5, at=0), window_s=window_s)
    doubled = params_with(voice, drums.PARAM_DECAY, 2.0)
    t2 = decay_time_s(render_one(voice, seconds=2.5, at=0, params=doubled), window_s=window_s)
    assert t2 / t1 == pytest.approx(2.0, rel=0.10)


@pytest.mark.parametrize("voice", VOICES)
def test_level_minus_6_db_halves_peak(voice):
    p0 = np.abs(render_one(voice, seconds=0.3)).max()
    p6 = np.abs(render_one(voice, seconds=0.3, params=params_with(voice, 2, -6.0))).max()
    assert p6 / p0 == pytest.approx(0.5, rel=0.02)
    muted = render_one(voice, seconds=0.3, params=params_with(voice, 2, drums.LEVEL_MIN_DB))
    assert not muted.any()


@pytest.mark.parametrize("voice", VOICES)
def test_half_velocity_is_about_6_db_down(voice):
    p1 = np.abs(render_one(voice, seconds=0.3, velocity=1.0)).max()
    p05 = np.abs(render_one(voice, seconds=0.3, velocity=0.5)).max()
    assert 20 * np.log10(p05 / p1) == pytest.approx(-6.0, abs=1.5)


def test_brightness():
    for hat in (drums.HAT_CLOSED, drums.HAT_OPEN):
        assert spectral_centroid_hz(render_one(hat, seconds=1.0)) > 5000.0
    assert spectral_centroid_hz(render_one(drums.KICK, seconds=1.0)) < 300.0
    for tom in (drums.TOM_LOW, drums.TOM_MID, drums.TOM_HIGH):
        assert spectral_centroid_hz(render_one(tom, seconds=1.0)) < 1000.0


def test_closed_hat_chokes_open_hat():
    params = drums.default_params()
    params[drums.HAT_CLOSED, drums.PARAM_LEVEL] = drums.LEVEL_MIN_DB  # the closed hat is muted
    n = int(0.5 * SR)
    choke_at = 4800
    open_only = render_blocks([(0, drums.HAT_OPEN, 1.0)], n, 128, params)
    choked = render_blocks(
        [(0, drums.HAT_OPEN, 1.0), (choke_at, drums.HAT_CLOSED, 1.0)], n, 128, params
    )
    np.testing.assert_array_equal(choked[:, :choke_at], open_only[:, :choke_at])
    assert np.abs(open_only[:, choke_at + 240 :]).max() > 0.05  # it would still ring
    assert not choked[:, choke_at + 240 :].any()  # silent 5 ms after the closed hat


def test_release_chokes_an_open_hat_at_its_offset():
    params = drums.default_params()
    n = int(0.5 * SR)
    open_only = render_blocks([(0, drums.HAT_OPEN, 1.0)], n, 128, params)
    state = drums.prepare(SR)
    released = np.zeros((2, n), dtype=np.float32)
    release_at = 4800 + 77  # mid-block: the choke must start at that very frame
    assert drums.trigger(state, drums.HAT_OPEN, 1.0, 0)
    for b0 in range(0, n, 128):
        if b0 <= release_at < b0 + 128:
            assert drums.release(state, drums.HAT_OPEN, release_at - b0)
        drums.process(state, params, released[:, b0:b0 + 128])
    np.testing.assert_array_equal(released[:, :release_at + 1], open_only[:, :release_at + 1])
    assert np.abs(released[:, release_at + 1]).max() < np.abs(open_only[:, release_at + 1]).max()
    assert not released[:, release_at + 240:].any()
    assert not drums.release(state, drums.N_VOICES, 0)


def test_voice_stealing_and_bounds():
    rng = np.random.default_rng(7)
    params = drums.default_params()
    params[:, drums.PARAM_LEVEL] = drums.LEVEL_MAX_DB
    params[:, drums.PARAM_DECAY] = drums.DECAY_MAX
    params[:, drums.PARAM_TUNE] = rng.uniform(-20, 20, drums.N_VOICES)  # clamped
    state = drums.prepare(SR)
    out = np.zeros((2, 128), dtype=np.float32)
    peak = 0.0
    for _ in range(400):
        for _ in range(rng.integers(0, 4)):
            drums.trigger(
                state,
                int(rng.integers(0, drums.N_VOICES)),
                rng.uniform(0, 1.5),
                int(rng.integers(0, 128)),
            )
        out[:] = 0.0
        drums.process(state, params, out)
        assert np.isfinite(out).all()
        peak = max(peak, float(np.abs(out).max()))
        assert drums.active_voices(state) <= drums.N_SLOTS
    assert drums.active_voices(state) == drums.N_SLOTS  # stealing kept every slot busy
    assert 0.5 < peak < 4.0 * drums.N_SLOTS
    drums.reset(state)
    out[:] = 0.0
    drums.process(state, params, out)
    assert not out.any() and drums.active_voices(state) == 0


def test_trigger_rejects():
    state = drums.prepare(SR, max_events=2)
    assert not drums.trigger(state, drums.N_VOICES, 1.0, 0)
    assert not drums.trigger(state, -1, 1.0, 0)
    assert not drums.trigger(state, drums.KICK, 0.0, 0)
    assert drums.trigger(state, drums.KICK, 1.0, 0)
    assert drums.trigger(state, drums.KICK, 1.0, 0)
    assert not drums.trigger(state, drums.KICK, 1.0, 0)  # queue full


def test_seed_determinism():
    a = render_one(drums.SNARE, seconds=0.2, seed=5)
    b = render_one(drums.SNARE, seconds=0.2, seed=5)
    c = render_one(drums.SNARE, seconds=0.2, seed=6)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_render_pattern_matches_process():
    rng = np.random.default_rng(11)
    seconds = 10.0
    events = [
        (float(t), int(v), float(vel))
        for t, v, vel in zip(
            rng.uniform(0, seconds, 300),
            rng.integers(0, drums.N_VOICES, 300),
            rng.uniform(0.2, 1.0, 300),
            strict=True,
        )
    ]
    params = drums.default_params()
    params[:, drums.PARAM_DECAY] = 1.5
    got = drums.render_pattern(events, seconds, SR, params)
    assert got.shape == (2, int(seconds * SR)) and got.dtype == np.float32
    hits = sorted(((round(t * SR), v, vel) for t, v, vel in events), key=lambda h: h[0])
    np.testing.assert_array_equal(got, render_blocks(hits, got.shape[1], 128, params))


def test_no_allocation(assert_no_nrt_alloc):
    state = drums.prepare(SR)
    params = drums.default_params()
    out = np.zeros((2, 64), dtype=np.float32)
    assert_no_nrt_alloc(drums.trigger, state, drums.HAT_OPEN, 1.0, 3)
    drums.trigger(state, drums.HAT_CLOSED, 1.0, 10)
    for v in VOICES:
        drums.trigger(state, v, 0.8, 20)
    assert_no_nrt_alloc(drums.process, state, params, out)
    assert_no_nrt_alloc(drums.reset, state)
