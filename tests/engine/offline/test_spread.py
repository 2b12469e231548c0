"""Pan spreading: centred mono stems are moved apart until the sum reaches 80 % of the
target M/S ratio, the bass stays in the middle, and the Gram-matrix estimate agrees with
the ratio measured on the placed audio."""

from __future__ import annotations

import numpy as np

from dsp import channel_strip as cs
from dsp.analysis.mix_figures import ms_ratio
from engine.offline import spread


def test_spread_reaches_the_share_of_the_target_and_keeps_the_bass_central():
    rng = np.random.default_rng(0)
    mono = [rng.standard_normal(48000).astype(np.float32) for _ in range(4)]
    unplaced = [np.stack([m, m]) for m in mono]
    strips = np.tile(cs.defaults(), (4, 1))
    way = spread.directions(np.array([80.0, 1500.0, 3000.0, 900.0]),
                            np.array([-10.0, -12.0, -14.0, -20.0]))
    assert way[0] == 0.0 and sorted(way[1:]) == [-1.0, 1.0, 1.0]
    placed, amount = spread.spread(unplaced, strips, 0.6, way)
    assert 0.0 < amount <= 2.0
    assert placed[0, cs.INDEX["pan"]] == 0.0
    total = sum(cs.place(u, p) for u, p in zip(unplaced, placed, strict=True))
    assert abs(ms_ratio(total) - spread.SHARE_OF_TARGET * 0.6) < 0.02


def test_wide_material_is_left_alone():
    rng = np.random.default_rng(1)
    unplaced = [rng.standard_normal((2, 48000)).astype(np.float32) for _ in range(3)]
    strips = np.tile(cs.defaults(), (3, 1))
    placed, amount = spread.spread(unplaced, strips, 0.6, np.array([1.0, -1.0, 1.0]))
    assert amount == 0.0 and np.array_equal(placed, strips)
