"""The voice gate: the model path is silent until the voice reaches it."""

from __future__ import annotations

import numpy as np

from models.rave.voice_gate import HOLD_S, SILENCE_PEAK, VoiceGate

SR = 48000
DELAY = 500


def _gains(gate: VoiceGate, x: np.ndarray, block: int = 128) -> np.ndarray:
    return np.concatenate([gate.gains(x[:, i:i + block]) for i in range(0, x.shape[1], block)])


def test_closed_on_silence_and_open_exactly_when_the_voice_is_answered():
    gate = VoiceGate(SR, DELAY)
    x = np.zeros((2, SR), np.float32)
    assert not _gains(gate, x).any()  # nothing heard: nothing passes
    onset = 10_000
    x[0, onset:onset + 1000] = 0.1
    gate.reset()
    g = _gains(gate, x)
    assert not g[: onset + DELAY - gate.fade].any()  # before the answer can start: shut
    assert np.all(g[onset + DELAY: onset + 1000 + DELAY + gate.hold] == 1.0)  # answer open
    assert not g[onset + 1000 + DELAY + gate.hold + gate.fade:].any()  # then shut again
    ramp = g[onset + DELAY - gate.fade: onset + DELAY]
    assert np.all(np.diff(ramp) > 0) and ramp[0] < 0.1  # a fade in, not a step


def test_the_same_gains_at_any_block_size():
    x = np.zeros((1, 3 * SR), np.float32)
    x[0, 5000:9000] = 0.2
    x[0, 5000 + int(HOLD_S * SR) + 30_000:] = 0.2 * SILENCE_PEAK  # under the threshold
    x[0, 100_000:100_050] = 0.3
    whole = VoiceGate(SR, DELAY).gains(x)
    for block in (1, 7, 128, 4096):
        np.testing.assert_array_equal(_gains(VoiceGate(SR, DELAY), x, block), whole)


def test_a_generator_keeps_it_open_without_input():
    gate = VoiceGate(SR, DELAY)
    g = gate.gains(np.zeros((1, 4 * DELAY), np.float32), keep_open=True)
    assert g[DELAY] == 1.0 and g[-1] == 1.0
