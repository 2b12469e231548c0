"""How often the window draws: smoothly while the performer works it, slowly otherwise.

Every DearPyGui frame redraws the whole window. Without a GPU (Mesa's software renderer,
as under Xvfb here) a frame costs ~10 ms of CPU, so 30 frames a second take a third of a
core from the audio and the model even while nobody touches the screen. The meters and
widgets only change 10 times a second (``REFRESH_HZ`` in ``gui/app.py``), so an untouched
window draws at that rate, and any mouse movement, click or active text field brings back
the full rate for a second. The full rate is capped so that drawing takes at most
``ACTIVE_BUDGET`` of a core: the pacer keeps a running mean of what a frame costs, and on
a machine that renders in software (~15 ms a frame for the whole window here) draws about
20 frames a second while worked instead of 30.
"""

from __future__ import annotations

import math

ACTIVE_FRAME_RATE_HZ = 30.0
IDLE_FRAME_RATE_HZ = 10.0
IDLE_AFTER_S = 1.0
ACTIVE_BUDGET = 0.3  # share of one core a worked window may spend drawing
COST_SMOOTHING = 0.1  # weight of the newest frame in the running mean of its cost


class FramePacer:
    """The frame rate for now, from whether input was seen this frame."""

    def __init__(self, active_hz: float = ACTIVE_FRAME_RATE_HZ,
                 idle_hz: float = IDLE_FRAME_RATE_HZ, idle_after_s: float = IDLE_AFTER_S) -> None:
        self.active_hz, self.idle_hz, self.idle_after_s = active_hz, idle_hz, idle_after_s
        self._last_input_s = -math.inf
        self.frame_cost_s = 0.0  # running mean of refresh + render per frame

    def note_frame(self, cost_s: float) -> None:
        """What the frame just drawn cost (seconds of the main thread)."""
        if self.frame_cost_s == 0.0:
            self.frame_cost_s = cost_s
        self.frame_cost_s += COST_SMOOTHING * (cost_s - self.frame_cost_s)

    def rate_hz(self, now_s: float, input_seen: bool) -> float:
        if input_seen:
            self._last_input_s = now_s
        if now_s - self._last_input_s >= self.idle_after_s:
            return self.idle_hz
        if self.frame_cost_s <= 0.0:
            return self.active_hz
        # never below the idle rate: every widget refresh is still shown
        return max(self.idle_hz, min(self.active_hz, ACTIVE_BUDGET / self.frame_cost_s))
