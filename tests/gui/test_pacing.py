"""gui.pacing: full frame rate while the performer works the window, the refresh rate else."""

from __future__ import annotations

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
