"""Beatbox hits on the input play drum voices through the whole engine, within 10 ms."""

from __future__ import annotations

import numpy as np
import pytest

from dsp import beatbox
from engine.bench.trigger_latency import first_sound
from engine.offline.render import render_array
from models.beatbox.corpus import HIT_PREROLL_S, make_hits

SR = 48000
SLOT_S = 2.0  # each hit alone: the drum before it has rung out (-80 dB)
DRY_MUTED = {"stem_dry_gain_db": -80.0, "beatbox_trigger": 1.0}


@pytest.fixture(scope="module")
def isolated():
    """Held-out hits, one per slot of silence; (audio (n, 1), onsets, labels)."""
    hits = make_hits(40, seed=3, split="heldout", sample_rate_hz=SR)
    slot = int(SLOT_S * SR)
    x = np.zeros((slot * len(hits), 1), np.float32)
    onsets, labels = [], []
    preroll = round(HIT_PREROLL_S * SR)
    for k, (audio, label) in enumerate(hits):
        n = min(audio.size, slot)
        x[k * slot + preroll: k * slot + n, 0] = audio[preroll:n]  # silence, then the hit
        onsets.append(k * slot + preroll)
        labels.append(label)
    return x, np.array(onsets), np.array(labels)


def test_onset_to_drum_latency_is_under_10_ms(isolated):
    x, onsets, labels = isolated
    y, engine = render_array(x, SR, DRY_MUTED, insert="none")
    slot = int(SLOT_S * SR)
    latencies_ms, silent_drums = [], 0
    for onset, label in zip(onsets, labels, strict=True):
        first = first_sound(y, onset - slot // 4, onset + slot // 2)
        if first is None:
            silent_drums += label != beatbox.OTHER
            continue
        latencies_ms.append(1e3 * (first - onset) / SR)
    latencies_ms = np.array(latencies_ms)
    drums_in = int(np.sum(labels != beatbox.OTHER))
    assert len(latencies_ms) >= 0.85 * drums_in, (len(latencies_ms), drums_in)
    assert silent_drums <= 0.15 * drums_in
    # window (6 ms) + limiter lookahead (2 ms) + detection (a fraction of a ms on most hits)
    assert latencies_ms.min() >= 8.0
    assert np.median(latencies_ms) < 9.0
    assert np.percentile(latencies_ms, 90) <= 10.0, latencies_ms
    assert engine.snapshot()["nonfinite_replaced"] == 0


def test_trigger_off_plays_no_drums(isolated):
    x, _, _ = isolated
    y, _ = render_array(x[: 10 * SR], SR, {**DRY_MUTED, "beatbox_trigger": 0.0},
                        insert="none")
    assert not y.any()


def test_drum_stem_gain_blends_the_trigger_path(isolated):
    x, _, _ = isolated
    x = x[: 10 * SR]
    full, _ = render_array(x, SR, DRY_MUTED, insert="none")
    quieter, _ = render_array(x, SR, {**DRY_MUTED, "stem_drums_gain_db": -12.0},
                              insert="none")
    ratio_db = 20 * np.log10(np.sqrt(np.mean(quieter ** 2)) / np.sqrt(np.mean(full ** 2)))
    assert -12.5 < ratio_db < -11.5
