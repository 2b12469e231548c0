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


def _blend_levels(blend: float) -> tuple[float, float]:
    """Peak of (worker stem alone, drums stem alone) at a drum_blend setting, via an
    input sine through a pass-through worker and a kick on the drum synth."""
    from engine.worker import PassThrough

    peaks = []
    for source in ("worker", "drums"):
        e = Engine(SR, 2, 2, PassThrough(256), input_strip=False, master_bus=False,
                   params={"stem_dry_gain_db": -80.0, "drum_blend": blend})
        t = np.arange(128 * 60) / SR
        x = np.zeros((t.size, 2), np.float32)
        if source == "worker":
            x[:] = (0.5 * np.sin(2 * np.pi * 1000.0 * t))[:, None]
        else:
            e.trigger_drum(DRUM_VOICES.index("kick"), 1.0)
        y = np.zeros_like(x)
        for i in range(0, t.size, 128):
            e.process(x[i:i + 128], y[i:i + 128])
        peaks.append(float(np.abs(y[-128 * 20:] if source == "worker" else y).max()))
    return peaks[0], peaks[1]


def test_drum_blend_crossfades_the_trigger_and_model_stems():
    worker_mid, drums_mid = _blend_levels(0.5)
    assert worker_mid == pytest.approx(0.5, abs=0.01)  # both paths at full level
    assert drums_mid > 0.5
    worker_0, drums_0 = _blend_levels(0.0)  # trigger path alone
    assert worker_0 < 1e-3 and drums_0 == pytest.approx(drums_mid, rel=1e-6)
    worker_1, drums_1 = _blend_levels(1.0)  # model path alone
    assert drums_1 < 1e-3 and worker_1 == pytest.approx(worker_mid, rel=1e-6)
    worker_q, drums_q = _blend_levels(0.75)  # the trigger path at half level
    assert worker_q == pytest.approx(worker_mid, rel=1e-6)
    assert drums_q == pytest.approx(0.5 * drums_mid, rel=1e-3)


def _kit_engine(kit_on: float) -> tuple[Engine, np.ndarray]:
    """An engine whose bank holds one 'kick' slice (a 2 kHz burst no synth voice makes),
    mapped to the kick voice."""
    from dsp import sampler

    t = np.arange(2400) / SR
    burst = (0.6 * np.sin(2 * np.pi * 2000.0 * t) * np.exp(-t / 0.01)).astype(np.float32)
    bank = sampler.pack_bank([burst], [None])
    kit = np.full(len(DRUM_VOICES), -1.0)
    kit[DRUM_VOICES.index("kick")] = 0
    e = Engine(SR, 2, 2, None, input_strip=False, master_bus=False, bank=bank, kit_map=kit,
               params={"stem_dry_gain_db": -80.0, "drum_kit_samples": kit_on})
    return e, burst


def test_kit_slices_replace_the_synth_voice_for_mapped_classes():
    e, burst = _kit_engine(1.0)
    _run(e, 2)
    e.trigger_drum(DRUM_VOICES.index("kick"), 1.0)
    y = _run(e, 30)[:, 0]
    # The slice, at its own pitch and level, from the top of the block.
    np.testing.assert_allclose(y[:burst.size], burst, atol=2e-3)
    # An unmapped voice (a tom) still plays the synth.
    e.trigger_drum(DRUM_VOICES.index("tom_low"), 1.0)
    tom = _run(e, 30)[:, 0]
    assert np.abs(tom).max() > 0.2
    # Kit off: the kick is the synth's again (mostly below 200 Hz, not the 2 kHz burst).
    e_off, _ = _kit_engine(0.0)
    _run(e_off, 2)
    e_off.trigger_drum(DRUM_VOICES.index("kick"), 1.0)
    synth = _run(e_off, 30)[:, 0]
    assert np.abs(synth[:burst.size] - burst).max() > 0.3
