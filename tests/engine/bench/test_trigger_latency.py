"""Which passes a live latency hit is taken from (engine/trigger_latency.py), without JACK."""

from __future__ import annotations

import numpy as np

from engine.bench.trigger_latency import (
    HIT_WATCH_S,
    XRUN_NOTICE_S,
    HitTrain,
    hit_delays_frames,
    play_passes,
    undisturbed_hits,
)

SR = 48000
CYCLE = 128
SLOT = 24000
ONSETS = np.array([1000, 1000 + SLOT, 1000 + 2 * SLOT])
AFTER = round((HIT_WATCH_S + XRUN_NOTICE_S) * SR)


def train() -> HitTrain:
    signal = np.zeros(4 * SLOT, np.float32)
    signal[ONSETS] = 0.5
    return HitTrain(signal, ONSETS.copy(), SLOT)


def test_an_xrun_disturbs_the_hits_whose_watched_span_it_falls_in():
    xruns = np.array([ONSETS[0] - CYCLE, ONSETS[1] + AFTER, ONSETS[2] - CYCLE - 1])
    # the first span starts one cycle before the onset (inclusive), the second ends at AFTER
    assert undisturbed_hits(train(), xruns, CYCLE, SR).tolist() == [False, True, True]
    xruns = np.array([ONSETS[1] + AFTER - 1])
    assert undisturbed_hits(train(), xruns, CYCLE, SR).tolist() == [True, False, True]
    assert undisturbed_hits(train(), np.zeros(0, np.int64), CYCLE, SR).all()


class FakeProbe:
    """Plays back scripted passes: each a (delay in frames, xrun frames) pair."""

    frames_per_cycle = CYCLE

    def __init__(self, passes: list[tuple[int, list[int]]]) -> None:
        self.passes = list(passes)

    def play(self, signal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        delay, xruns = self.passes.pop(0)
        recording = np.zeros((signal.size, 2), np.float32)
        recording[delay:, 0] = signal[: signal.size - delay]
        return recording, np.array(xruns, dtype=np.int64)


def test_each_hit_comes_from_the_first_pass_without_an_xrun_near_it():
    # pass 1 (loop 400) disturbs hit 1, pass 2 (loop 528) disturbs hit 2, pass 3 is clean
    probe = FakeProbe([(400, [ONSETS[1] + 10]), (528, [ONSETS[2] + 10]), (656, [])])
    passes = play_passes(probe, train(), max_passes=5, sample_rate_hz=SR)
    assert passes.xruns_per_pass == [1, 1]  # every hit taken after two passes: no third
    assert passes.hits_taken_per_pass == [2, 1]
    assert hit_delays_frames(train(), passes) == [400, 528, 400]
    assert probe.passes == [(656, [])]


def test_a_hit_never_undisturbed_is_reported_missing():
    probe = FakeProbe([(400, [ONSETS[0]]), (400, [ONSETS[0]])])
    passes = play_passes(probe, train(), max_passes=2, sample_rate_hz=SR)
    assert passes.as_dict() == {"xruns_per_pass": [1, 1], "hits_taken_per_pass": [2, 0],
                                "hits_never_undisturbed": 1}
    assert hit_delays_frames(train(), passes) == [None, 400, 400]
