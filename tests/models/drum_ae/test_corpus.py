"""Procedural drum loops: repeatable, levels in range, split streams disjoint."""

from __future__ import annotations

import numpy as np

from dsp.analysis.similarity import detect_onsets
from models.drum_ae import corpus


def test_clips_are_repeatable_and_levels_in_range():
    a = corpus.clip(3, 2.0)
    assert np.array_equal(a, corpus.clip(3, 2.0))
    assert a.dtype == np.float32 and a.shape == (96000,)
    for seed in range(6):
        peak_db = 20 * np.log10(np.max(np.abs(corpus.clip(seed, 1.0))))
        assert -25.0 < peak_db < -0.9


def test_loops_have_hits_and_heldout_differs():
    x = corpus.heldout(0, 4.0)
    assert detect_onsets(x, corpus.SAMPLE_RATE_HZ).size >= 6
    assert not np.array_equal(x, corpus.clip(0, 4.0))


def test_batch_shape():
    b = corpus.batch(10, 3, 4096)
    assert b.shape == (3, 1, 4096)
    assert np.array_equal(b[1, 0], corpus.clip(11, 4096 / corpus.SAMPLE_RATE_HZ))
