"""The streaming note transcriber: notes, microtonal pitch, joins, blocks, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from dsp import transcriber
from models.continuo.transcribe import transcribe

SR = 48000


def _voice(segments, sr: int = SR, seed: int = 0) -> np.ndarray:
    """Harmonic tones: ``segments`` of (seconds, float MIDI pitch or None for silence,
    level dBFS); phase runs on across joined tones (legato, no click)."""
    rng = np.random.default_rng(seed)
    f0, amp = [], []
    for dur, midi, level_db in segments:
        n = int(dur * sr)
        f0.append(np.full(n, 440.0 * 2 ** (((midi or 69) - 69) / 12)))
        amp.append(np.full(n, 0.0 if midi is None else 10 ** (level_db / 20)))
    f0, amp = np.concatenate(f0), np.concatenate(amp)
    # 5 ms ramps at every level change
    ramp = np.ones(int(0.005 * sr)) / int(0.005 * sr)
    amp = np.convolve(amp, ramp, mode="same")
    phase = 2 * np.pi * np.cumsum(f0) / sr
    x = sum(np.sin(k * phase) / k ** 1.5 for k in range(1, 8)) * amp
    return (x + 1e-4 * rng.standard_normal(x.size)).astype(np.float32)


def _events(x: np.ndarray, block: int) -> np.ndarray:
    st = transcriber.prepare(SR)
    ev = np.zeros((transcriber.MAX_EVENTS, transcriber.EV_SIZE))
    rows = []
    for start in range(0, x.size, block):
        chunk = x[None, start: start + block]
        k = transcriber.process(st, chunk, chunk.shape[1], ev)
        rows += [np.append(r, start + r[transcriber.EV_OFFSET]) for r in ev[:k]]
    return np.array(rows)


def test_a_held_tone_is_one_note_at_its_pitch_from_its_start_to_its_end():
    x = _voice([(0.3, None, 0), (0.5, 57.0, -20), (0.3, None, 0)])
    notes = transcribe(x, SR).notes
    assert len(notes) == 1
    n = notes[0]
    assert n.pitch == pytest.approx(57.0, abs=0.03)
    assert abs(n.start_s - 0.3) < 0.01
    assert abs(n.end_s - 0.8) < 0.03


def test_microtonal_pitch_is_reported_not_rounded():
    x = _voice([(0.2, None, 0), (0.6, 64.3, -18), (0.2, None, 0)])
    (n,) = transcribe(x, SR).notes
    assert n.pitch == pytest.approx(64.3, abs=0.03)


def test_a_legato_step_is_two_notes_and_a_gap_between_repeats_is_two_notes():
    x = _voice([(0.2, None, 0), (0.4, 57.0, -20), (0.4, 60.0, -20), (0.1, None, 0),
                (0.4, 60.0, -20), (0.2, None, 0)])
    notes = transcribe(x, SR).notes
    assert [round(n.pitch) for n in notes] == [57, 60, 60]
    assert abs(notes[1].start_s - 0.6) < 0.04  # the change is stamped near the step
    assert abs(notes[2].start_s - 1.1) < 0.01


def test_a_level_dip_on_a_held_pitch_re_articulates_the_note():
    x = _voice([(0.2, None, 0), (0.4, 62.0, -16), (0.05, 62.0, -34), (0.4, 62.0, -16),
                (0.2, None, 0)])
    notes = transcribe(x, SR).notes
    assert [round(n.pitch) for n in notes] == [62, 62]
    assert 0.6 < notes[1].start_s < 0.67


def test_vibrato_bends_the_note_instead_of_splitting_it():
    t = np.arange(int(0.8 * SR)) / SR
    midi = 60.0 + 0.4 * np.sin(2 * np.pi * 5.5 * t)
    phase = 2 * np.pi * np.cumsum(440.0 * 2 ** ((midi - 69) / 12)) / SR
    x = np.concatenate([np.zeros(4800), 0.1 * (np.sin(phase) + 0.3 * np.sin(2 * phase)),
                        np.zeros(4800)]).astype(np.float32)
    (n,) = transcribe(x, SR).notes
    bends = np.array([p for _, p in n.bends])
    assert len(bends) > 20
    assert bends.max() == pytest.approx(60.4, abs=0.06)
    assert bends.min() == pytest.approx(59.6, abs=0.06)


def test_events_do_not_depend_on_the_block_size():
    x = _voice([(0.1, None, 0), (0.3, 55.0, -20), (0.3, 59.0, -12), (0.1, None, 0)])
    ref = _events(x, 128)
    assert (ref[:, transcriber.EV_KIND] == transcriber.EV_NOTE_ON).sum() == 2
    for block in (32, 100, 1024):
        got = _events(x, block)
        # the same events at the same input frames: offsets are per block, positions not
        np.testing.assert_array_equal(got[:, [0, 1, 2, 4, 5]], ref[:, [0, 1, 2, 4, 5]])


def test_silence_noise_and_clicks_make_no_notes():
    rng = np.random.default_rng(1)
    noise = (0.05 * rng.standard_normal(SR)).astype(np.float32)
    clicks = np.zeros(SR, np.float32)
    clicks[::4800] = 0.9
    for x in (np.zeros(SR, np.float32), noise, clicks):
        assert transcribe(x, SR).notes == []


def test_absurd_input_makes_no_note_and_no_nan():
    x = np.full((2, 4096), 1e200)
    st = transcriber.prepare(SR)
    ev = np.zeros((transcriber.MAX_EVENTS, transcriber.EV_SIZE))
    k = transcriber.process(st, x, 4096, ev)
    assert np.all(np.isfinite(ev[:k]))
    assert not np.any(ev[:k, transcriber.EV_KIND] == transcriber.EV_NOTE_ON)


def test_bad_signals_are_refused():
    with pytest.raises(ValueError, match="NaN"):
        transcribe(np.array([0.0, np.nan], np.float32), SR)
    with pytest.raises(ValueError, match="non-empty"):
        transcribe(np.zeros(0, np.float32), SR)


def test_the_kernel_does_not_allocate(assert_no_nrt_alloc):
    st = transcriber.prepare(SR)
    ev = np.zeros((transcriber.MAX_EVENTS, transcriber.EV_SIZE))
    x = _voice([(0.2, 60.0, -20)])[None, :128].astype(np.float64)
    assert_no_nrt_alloc(transcriber.process, st, x, 128, ev)
