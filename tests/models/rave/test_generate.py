"""Latent generators and the style bank (models/rave/generate.py): pure numpy."""

from __future__ import annotations

import numpy as np
import pytest

from models.rave import latent
from models.rave.generate import LfoPattern, RandomWalk, SequencePlayer, StyleBank

FRAME_S = 2048 / 44100


def test_random_walk_keeps_the_prior_spread_and_tempo_speeds_it_up():
    slow = RandomWalk(16, FRAME_S, seed=3).next(6000, 1.0)
    fast = RandomWalk(16, FRAME_S, seed=3).next(6000, 2.0)
    # Stationary deviation 1 (the VAE prior) at any tempo: the exact OU step.
    assert abs(slow[:, 500:].std() - 1.0) < 0.1
    assert abs(fast[:, 500:].std() - 1.0) < 0.1
    # Small steps of an OU walk grow with sqrt(dt): twice the tempo, ~1.41x the motion.
    ratio = np.abs(np.diff(fast)).mean() / np.abs(np.diff(slow)).mean()
    assert 1.3 < ratio < 1.5
    np.testing.assert_array_equal(RandomWalk(16, FRAME_S, seed=3).next(100), slow[:, :100])


def test_lfo_pattern_at_double_tempo_skips_every_other_frame():
    fast = LfoPattern(8, FRAME_S, seed=1).next(50, 2.0)
    slow = LfoPattern(8, FRAME_S, seed=1).next(100, 1.0)
    np.testing.assert_allclose(fast, slow[:, 1::2], atol=1e-5)
    assert np.abs(slow).max() <= 1.5 + 1e-6
    # Continuous across calls: two halves equal one run.
    p = LfoPattern(8, FRAME_S, seed=1)
    np.testing.assert_allclose(np.concatenate([p.next(40), p.next(60)], 1), slow, atol=1e-5)


def _ramp(dims: int = 4, frames: int = 10) -> np.ndarray:
    return (np.arange(frames)[None, :] + 100 * np.arange(dims)[:, None]).astype(np.float32)


def test_sequence_player_matches_offline_tempo_and_loops():
    z = _ramp()
    np.testing.assert_array_equal(SequencePlayer(z).next(10, 1.0), z)
    # 0.5x: the offline time-axis interpolation, away from its clamped last frame.
    np.testing.assert_allclose(SequencePlayer(z).next(18, 0.5), latent.tempo(z, 0.5)[:, :18])
    np.testing.assert_array_equal(SequencePlayer(z).next(5, 2.0), z[:, ::2])
    player = SequencePlayer(z)
    player.next(9, 1.0)
    # Frame 9, then halfway between the last frame and the first (the loop point), then 0.
    np.testing.assert_allclose(player.next(3, 0.5)[0], [9.0, 4.5, 0.0])


def test_sequence_player_keeps_its_position_when_the_material_changes():
    player = SequencePlayer(_ramp(frames=10))
    player.next(7)
    player.set(_ramp(frames=5) + 1000)
    np.testing.assert_array_equal(player.next(2)[0], [1002.0, 1003.0])  # 7 wraps to 2


def test_style_bank_weights_and_blends():
    refs = [np.full((2, 6), 1.0), np.full((2, 4), 2.0), np.full((2, 5), 4.0)]
    bank = StyleBank(refs)
    np.testing.assert_allclose(bank.weights(0.25), [0.5, 0.5, 0.0])
    np.testing.assert_allclose(bank.weights(0.5), [0.0, 1.0, 0.0])
    np.testing.assert_allclose(bank.weights(1.0), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(bank.blend(0.0), refs[0])
    blend = bank.blend(0.75)
    assert blend.shape == (2, 4)  # cut to the shorter of the two blended
    np.testing.assert_allclose(blend, 3.0)
    np.testing.assert_allclose(StyleBank(refs[:1]).weights(0.7), [1.0])


def test_bad_input_is_refused_by_name():
    with pytest.raises(ValueError, match="tempo"):
        RandomWalk(4, FRAME_S).next(1, 3.0)
    with pytest.raises(ValueError, match="different latent sizes"):
        StyleBank([np.zeros((2, 3)), np.zeros((3, 3))])
    with pytest.raises(ValueError, match="at least one frame"):
        SequencePlayer(np.zeros((2, 0)))
    with pytest.raises(ValueError, match="style"):
        StyleBank([np.zeros((2, 3))]).weights(1.5)


def test_a_player_can_take_over_another_ones_position():
    old = SequencePlayer(_ramp(frames=10))
    old.next(6, 0.5)
    assert old.position == 3.0
    new = SequencePlayer(_ramp(frames=8) + 1000)
    new.seek(old.position)
    np.testing.assert_array_equal(new.next(2)[0], [1003.0, 1004.0])
    new.seek(11.0)
    assert new.position == 3.0
