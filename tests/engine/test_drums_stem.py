import numpy as np
import pytest

from dsp import drums
from engine.engine import Engine
from presets.registry import DRUM_VOICES

SR = 48000


def test_registry_drum_voices_follow_the_synth():
    assert DRUM_VOICES == drums.VOICE_NAMES


def _run(e: Engine, blocks: int) -> np.ndarray:
    x = np.zeros((128, 2), dtype=np.float32)
    out = []
    for _ in range(blocks):
        y = np.zeros_like(x)
        e.process(x, y)
        out.append(y)
    return np.concatenate(out)


def test_a_trigger_sounds_at_the_top_of_the_next_block_through_the_drums_stem():
    e = Engine(SR, 2, 2, None, input_strip=False, master_bus=False,
               params={"stem_drums_gain_db": 0.0})
    _run(e, 3)
    assert e.trigger_drum(DRUM_VOICES.index("kick"), 1.0)
    y = _run(e, 40)
    assert np.flatnonzero(np.abs(y[:, 0]) > 0)[0] == 0
    assert np.abs(y).max() > 0.5


def test_drum_parameters_reach_the_synth():
    levels = {}
    for level_db in (0.0, -12.0):
        e = Engine(SR, 2, 2, None, input_strip=False, master_bus=False,
                   params={"stem_drums_gain_db": 0.0, "drum_snare_level_db": level_db})
        e.trigger_drum(DRUM_VOICES.index("snare"), 1.0)
        levels[level_db] = np.abs(_run(e, 40)).max()
    assert 20 * np.log10(levels[-12.0] / levels[0.0]) == pytest.approx(-12.0, abs=0.2)


def test_bad_triggers_are_refused():
    e = Engine(SR, 2, 2, None)
    with pytest.raises(ValueError, match="drum voice 9"):
        e.trigger_drum(9, 1.0)
    with pytest.raises(ValueError, match="velocity"):
        e.trigger_drum(0, 0.0)
