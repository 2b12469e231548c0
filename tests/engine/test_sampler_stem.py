"""The sampler voice in the engine: notes from the note ring play the bank on its stem."""

from __future__ import annotations

import numpy as np
import pytest

from dsp import sampler
from engine.engine import Engine
from presets.registry import SAMPLER_MODES

SR = 48000


def test_registry_names_the_sampler_modes_in_order():
    assert SAMPLER_MODES == sampler.MODES


def _bank():
    t = np.arange(SR // 2) / SR
    slices = [(0.5 * np.sin(2 * np.pi * f * t)).astype(np.float32) for f in (220.0, 440.0)]
    return sampler.pack_bank(slices, [57.0, 69.0])


def _play(engine: Engine, frames: int, events: dict[int, tuple[int, float]]) -> np.ndarray:
    """Run ``frames`` in 128-frame blocks, queueing ``events[block] = (note, velocity)``."""
    out = np.zeros((frames, 2), np.float32)
    for k, start in enumerate(range(0, frames, 128)):
        if k in events:
            assert engine.note(*events[k])
        block = out[start: start + 128]
        engine.process(np.zeros((block.shape[0], 0), np.float32), block)
    return out


def _engine(**params) -> Engine:
    return Engine(SR, 0, 2, master_bus=False, input_strip=False, bank=_bank(),
                  params={"stem_sampler_pan": 0.0, **params})


def test_a_note_plays_its_slice_on_the_sampler_stem_with_its_velocity():
    loud = _play(_engine(sampler_mode=1.0, sampler_attack_ms=0.0), 9600, {0: (37, 1.0)})
    soft = _play(_engine(sampler_mode=1.0, sampler_attack_ms=0.0), 9600, {0: (37, 0.5)})
    slice1 = _bank()[0][0, SR // 2: SR // 2 + 9600]
    # note 37 in index mode is slice 1 (440 Hz), at unity on both sides at centre pan
    np.testing.assert_allclose(loud[:, 0], slice1, atol=1e-6)
    np.testing.assert_array_equal(loud[:, 0], loud[:, 1])
    np.testing.assert_allclose(soft, 0.5 * loud, atol=1e-6)


def test_note_off_releases_and_the_stem_gain_applies():
    engine = _engine(sampler_release_ms=20.0)
    out = _play(engine, 24000, {0: (69, 1.0), 50: (69, 0.0)})
    off = 50 * 128
    assert np.abs(out[off - 960: off]).max() > 0.3
    assert not out[off + int(0.02 * SR) + 128:].any()  # silent once the release is over
    quiet = _play(_engine(sampler_release_ms=20.0, stem_sampler_gain_db=-12.0), 24000,
                  {0: (69, 1.0), 50: (69, 0.0)})
    ratio_db = 20 * np.log10(np.abs(quiet[:off]).max() / np.abs(out[:off]).max())
    assert ratio_db == pytest.approx(-12.0, abs=0.1)


def test_without_a_bank_notes_are_silent_and_bad_notes_are_refused():
    engine = Engine(SR, 0, 2, master_bus=False, input_strip=False)
    assert engine.bank_slices == 0
    assert not _play(engine, 4800, {0: (60, 1.0)}).any()
    with pytest.raises(ValueError, match="out of range"):
        engine.note(128, 1.0)
    with pytest.raises(ValueError, match="out of range"):
        engine.note(60, 1.5)


def test_process_refuses_mismatched_buffers():
    engine = Engine(SR, 2, 2, master_bus=False, input_strip=False)
    with pytest.raises(ValueError, match="float32 inp"):
        engine.process(np.zeros((128, 2), np.float32), np.zeros((64, 2), np.float32))
    with pytest.raises(ValueError, match="float32 inp"):
        engine.process(np.zeros((128, 1), np.float32), np.zeros((128, 2), np.float32))
    with pytest.raises(ValueError, match="float32 inp"):
        engine.process(np.zeros((128, 2)), np.zeros((128, 2), np.float32))


def test_a_macro_scans_the_granular_position():
    """Texture drives grain_position: the cloud moves from the 220 Hz to the 440 Hz slice."""
    def dominant_hz(macro: float) -> float:
        engine = _engine(sampler_mode=2.0, grain_spray=0.02, macro_texture=macro)
        engine.modulation.assign_macro("texture", "grain_position", 0.25, 0.75)
        out = _play(engine, 24000, {0: (60, 1.0)})[4800:, 0]
        spec = np.abs(np.fft.rfft(out))
        return float(np.fft.rfftfreq(out.size, 1 / SR)[np.argmax(spec)])

    assert dominant_hz(0.0) == pytest.approx(220.0, rel=0.1)
    assert dominant_hz(1.0) == pytest.approx(440.0, rel=0.1)
