"""gui.pacing: full frame rate while the performer works the window, the refresh rate else."""

from __future__ import annotations

import pytest

from gui.pacing import ACTIVE_FRAME_RATE_HZ, IDLE_AFTER_S, IDLE_FRAME_RATE_HZ, FramePacer


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
        pacer.note_frame(0.2)  # far too slow: still every refresh
    assert pacer.rate_hz(0.2, True) == IDLE_FRAME_RATE_HZ
