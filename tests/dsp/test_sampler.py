"""Sampler voice: slice choice and pitch, exact one-shots, release, granular cloud, blocks."""

import numpy as np
import pytest

from dsp import sampler

SR = 48000.0


def sine(freq_hz, seconds=0.5, amp=0.5):
    t = np.arange(int(seconds * SR)) / SR
    return (amp * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def note_hz(note):
    return 440.0 * 2 ** ((note - 69) / 12)


def render(bank, table, params, notes, n, block=128, seed=1):
    """notes: [(frame, note, velocity)] with velocity 0 = note off."""
    st = sampler.prepare(SR, seed=seed)
    out = np.zeros((2, n), np.float32)
    j = 0
    notes = sorted(notes, key=lambda e: e[0])
    for b0 in range(0, n, block):
        b1 = min(b0 + block, n)
        while j < len(notes) and notes[j][0] < b1:
            frame, note, vel = notes[j]
            if vel > 0:
                assert sampler.note_on(st, note, vel, frame - b0)
            else:
                assert sampler.note_off(st, note, frame - b0)
            j += 1
        sampler.process(st, bank, table, params, out[:, b0:b1])
    return out


def band_energy(x, lo_hz, hi_hz):
    spec = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(x.size, 1 / SR)
    return spec[(f >= lo_hz) & (f < hi_hz)].sum()


def peak_hz(x):
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size), 8 * x.size))
    return np.argmax(spec) * SR / (8 * x.size)


@pytest.fixture
def tonal():
    return sampler.pack_bank([sine(note_hz(60)), sine(note_hz(72))], [60.0, 72.0])


def test_pitch_mode_plays_the_nearest_slice_transposed(tonal):
    bank, table = tonal
    params = sampler.default_params()
    for note, expected in ((64, note_hz(64)), (70, note_hz(70)), (60, note_hz(60))):
        out = render(bank, table, params, [(0, note, 1.0)], int(0.3 * SR))
        assert peak_hz(out[0, 1000:10000]) == pytest.approx(expected, rel=0.005)


def test_index_mode_plays_the_slice_itself_exactly(tonal):
    bank, table = tonal
    params = sampler.default_params()
    params[sampler.P_MODE] = sampler.MODE_INDEX
    params[sampler.P_ATTACK_MS] = 0.0
    at = 300
    out = render(bank, table, params, [(at, sampler.BASE_NOTE + 1, 0.5)], int(0.6 * SR))
    slice1 = bank[0, int(table[1, 0]): int(table[1, 0] + table[1, 1])]
    np.testing.assert_array_equal(out[0, :at], 0.0)
    np.testing.assert_allclose(out[0, at: at + slice1.size - 1], 0.5 * slice1[:-1], atol=1e-7)
    np.testing.assert_array_equal(out[0], out[1])
    assert not out[0, at + slice1.size:].any()  # the voice ended with its slice


def test_note_off_releases_linearly_over_release_ms(tonal):
    bank, table = tonal
    params = sampler.default_params()
    params[sampler.P_RELEASE_MS] = 50.0
    off = 9600
    out = render(bank, table, params, [(0, 60, 1.0), (off, 60, 0.0)], int(0.4 * SR))
    held = render(bank, table, params, [(0, 60, 1.0)], int(0.4 * SR))
    release = int(0.05 * SR)
    np.testing.assert_array_equal(out[:, :off], held[:, :off])
    k = np.arange(release)
    big = np.abs(held[0, off + k]) > 0.1
    gain = out[0, off + k][big] / held[0, off + k][big]
    np.testing.assert_allclose(gain, 1.0 - (k[big] + 1) / release, atol=1e-3)  # linear
    assert not out[0, off + release + 1:].any()


def test_granular_cloud_follows_position_and_pitch():
    # a bank whose first half is 300 Hz and second half 1200 Hz: position picks the half
    bank, table = sampler.pack_bank([sine(300.0, 1.0), sine(1200.0, 1.0)], [None, None])
    params = sampler.default_params()
    params[sampler.P_MODE] = sampler.MODE_GRANULAR
    params[sampler.P_GRAIN_MS] = 60.0
    params[sampler.P_DENSITY_HZ] = 40.0
    params[sampler.P_SPRAY] = 0.02  # grains stay inside the half, at varied phases

    def energy_near(note, freq):
        out = render(bank, table, params, [(0, note, 1.0)], int(0.5 * SR))[0, 4800:]
        assert 0.05 < np.sqrt(np.mean(out ** 2)) < 0.5
        return band_energy(out, 0.8 * freq, 1.25 * freq) / band_energy(out, 20.0, 20000.0)

    for position, freq, other in ((0.25, 300.0, 1200.0), (0.75, 1200.0, 300.0)):
        params[sampler.P_POSITION] = position
        assert energy_near(60, freq) > 0.9 and energy_near(60, other) < 0.01
    params[sampler.P_POSITION] = 0.25
    params[sampler.P_PITCH_ST] = 12.0  # an octave up: 300 Hz grains read at 600 Hz
    assert energy_near(60, 600.0) > 0.9
    assert energy_near(72, 1200.0) > 0.9  # and the note adds its own octave


@pytest.mark.parametrize("block", [1, 7, 64, 4096])
def test_output_does_not_depend_on_the_block_size(block, tonal):
    bank, table = tonal
    params = sampler.default_params()
    params[sampler.P_MODE] = sampler.MODE_GRANULAR
    params[sampler.P_SPRAY] = 0.3
    notes = [(100, 60, 1.0), (5000, 67, 0.7), (12000, 60, 0.0), (20000, 67, 0.0)]
    ref = render(bank, table, params, notes, 30000, block=128)
    np.testing.assert_array_equal(render(bank, table, params, notes, 30000, block=block), ref)


def test_the_seventeenth_note_steals_the_oldest_and_an_empty_bank_is_silent(tonal):
    bank, table = tonal
    params = sampler.default_params()
    notes = [(k, 40 + k, 0.1) for k in range(sampler.N_VOICES + 1)]
    out = render(bank, table, params, notes, 4800)
    assert np.isfinite(out).all() and np.abs(out).max() <= 0.1 * sampler.N_VOICES * 0.5
    empty_bank, empty_table = sampler.empty_bank()
    assert not render(empty_bank, empty_table, params, [(0, 60, 1.0)], 4800).any()
    st = sampler.prepare(SR)
    assert not sampler.note_on(st, 128, 1.0, 0) and not sampler.note_on(st, 60, 0.0, 0)
    with pytest.raises(ValueError):
        sampler.pack_bank([sine(100.0)], [])


def test_no_allocation(assert_no_nrt_alloc, tonal):
    bank, table = tonal
    st = sampler.prepare(SR)
    params = sampler.default_params()
    params[sampler.P_MODE] = sampler.MODE_GRANULAR
    out = np.zeros((2, 128), np.float32)
    assert_no_nrt_alloc(sampler.note_on, st, 60, 1.0, 3)
    sampler.note_on(st, 64, 1.0, 10)
    assert_no_nrt_alloc(sampler.process, st, bank, table, params, out)
    assert_no_nrt_alloc(sampler.note_off, st, 60, 0)
