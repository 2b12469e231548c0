"""How often the window draws: smoothly while the performer works it, slowly otherwise.

Every DearPyGui frame redraws the whole window. Without a GPU (Mesa's software renderer,
as under Xvfb here) a frame costs ~19 ms of CPU (the main thread and llvmpipe's threads),
so 30 frames a second would take more than half a core from the audio and the model even
while nobody touches the screen. The meters and widgets only change 10 times a second
(``REFRESH_HZ`` in ``gui/app.py``), so an untouched window draws at that rate, and any mouse
movement, click or active text field brings back the full rate for a second. Both rates
are capped by CPU share: the pacer keeps a running mean of what a frame costs in CPU
(``gui/cpu_time.py``), and draws at most ``ACTIVE_BUDGET`` of a core while worked (about 16
frames a second here instead of 30) and ``IDLE_BUDGET`` untouched (about 8.5 instead of 10),
never under ``MIN_FRAME_RATE_HZ``. With a GPU a frame costs a millisecond or two and
neither cap is reached.
"""

from __future__ import annotations

import math

ACTIVE_FRAME_RATE_HZ = 30.0
IDLE_FRAME_RATE_HZ = 10.0
IDLE_AFTER_S = 1.0
ACTIVE_BUDGET = 0.3  # share of one core a worked window may spend drawing
IDLE_BUDGET = 0.16  # ... and an untouched one, whatever the renderer costs
MIN_FRAME_RATE_HZ = 5.0  # slower than this, meters stop reading as live
COST_SMOOTHING = 0.1  # weight of the newest frame in the running mean of its cost


class FramePacer:
    """The frame rate for now, from whether input was seen this frame."""

    def __init__(self, active_hz: float = ACTIVE_FRAME_RATE_HZ,
                 idle_hz: float = IDLE_FRAME_RATE_HZ, idle_after_s: float = IDLE_AFTER_S) -> None:
        self.active_hz, self.idle_hz, self.idle_after_s = active_hz, idle_hz, idle_after_s
        self._last_input_s = -math.inf
        self.frame_cost_s = 0.0  # running mean of a frame's CPU cost (refresh + render)

    def note_frame(self, cost_s: float) -> None:
        """What the frame just drawn cost (CPU seconds: the main thread's and the
        renderer's threads')."""
        if self.frame_cost_s == 0.0:
            self.frame_cost_s = cost_s
        self.frame_cost_s += COST_SMOOTHING * (cost_s - self.frame_cost_s)

    def rate_hz(self, now_s: float, input_seen: bool) -> float:
        if input_seen:
            self._last_input_s = now_s
        cost = self.frame_cost_s
        idle = self.idle_hz if cost <= 0.0 else max(
            MIN_FRAME_RATE_HZ, min(self.idle_hz, IDLE_BUDGET / cost))
        if now_s - self._last_input_s >= self.idle_after_s:
            return idle
        if cost <= 0.0:
            return self.active_hz
        # never below the idle rate: every widget refresh shown then is still shown
        return max(idle, min(self.active_hz, ACTIVE_BUDGET / cost))
