"""gui.pacing: full frame rate while the performer works the window, the refresh rate else."""

from __future__ import annotations

import time

import pytest

from gui.pacing import (
    ACTIVE_FRAME_RATE_HZ,
    IDLE_AFTER_S,
    IDLE_BUDGET,
    IDLE_FRAME_RATE_HZ,
    MIN_FRAME_RATE_HZ,
    FramePacer,
)


def test_idle_until_input_then_active_for_a_while():
    pacer = FramePacer()
    assert pacer.rate_hz(0.0, False) == IDLE_FRAME_RATE_HZ
    assert pacer.rate_hz(5.0, True) == ACTIVE_FRAME_RATE_HZ
    assert pacer.rate_hz(5.0 + 0.9 * IDLE_AFTER_S, False) == ACTIVE_FRAME_RATE_HZ
    assert pacer.rate_hz(5.0 + IDLE_AFTER_S, False) == IDLE_FRAME_RATE_HZ
    # input keeps it active from its own time on
    assert pacer.rate_hz(20.0, True) == ACTIVE_FRAME_RATE_HZ
    assert pacer.rate_hz(20.5, True) == ACTIVE_FRAME_RATE_HZ
    assert pacer.rate_hz(21.4, False) == ACTIVE_FRAME_RATE_HZ
    assert pacer.rate_hz(21.6, False) == IDLE_FRAME_RATE_HZ


def test_idle_rate_is_the_widget_refresh_rate():
    from gui.app import REFRESH_HZ  # an idle window still shows every refresh

    assert IDLE_FRAME_RATE_HZ >= REFRESH_HZ
    assert ACTIVE_FRAME_RATE_HZ > IDLE_FRAME_RATE_HZ


def test_a_worked_window_keeps_to_its_share_of_a_core():
    from gui.pacing import ACTIVE_BUDGET

    pacer = FramePacer()
    for _ in range(100):
        pacer.note_frame(0.015)  # a software renderer's frame
    assert pacer.rate_hz(0.0, True) * 0.015 == pytest.approx(ACTIVE_BUDGET)
    for _ in range(200):
        pacer.note_frame(0.002)  # a GPU's
    assert pacer.rate_hz(0.1, True) == ACTIVE_FRAME_RATE_HZ
    for _ in range(300):
        pacer.note_frame(0.2)  # far too slow: as slow as meters may go, worked or not
    assert pacer.rate_hz(0.2, True) == MIN_FRAME_RATE_HZ
    assert pacer.rate_hz(9.0, False) == MIN_FRAME_RATE_HZ


def test_an_untouched_window_keeps_to_its_share_of_a_core():
    pacer = FramePacer()
    for _ in range(100):
        pacer.note_frame(0.019)  # a frame of the whole window in software, here
    assert pacer.rate_hz(0.0, False) * 0.019 == pytest.approx(IDLE_BUDGET)
    for _ in range(200):
        pacer.note_frame(0.002)  # a GPU's: every refresh
    assert pacer.rate_hz(0.1, False) == IDLE_FRAME_RATE_HZ


def test_the_cpu_per_busy_second_counts_the_renderers_threads(monkeypatch):
    from gui import cpu_time

    cpu = iter([10.0, 10.5, 10.5])
    monkeypatch.setattr(cpu_time, "drawing_cpu_s", lambda: next(cpu))
    scale = cpu_time.CpuPerBusy()
    assert scale.update(0.0, 0.0) == 1.0  # nothing measured yet
    assert scale.update(0.5, 0.2) == 1.0  # within the period: not re-read
    assert scale.update(1.0, 0.4) == pytest.approx(0.5 / 0.4)  # 0.5 s of CPU in 0.4 s busy
    assert scale.update(2.0, 0.8) == 0.25  # idle renderer threads: floored


def test_the_drawing_cpu_is_read_from_this_process():
    from gui.cpu_time import drawing_cpu_s

    before = drawing_cpu_s()
    end = time.thread_time() + 0.2
    while time.thread_time() < end:  # this (the main) thread spins
        pass
    assert drawing_cpu_s() - before >= 0.15
