"""How often the window draws: smoothly while the performer works it, slowly otherwise.

Every DearPyGui frame redraws the whole window. Without a GPU (Mesa's software renderer,
as under Xvfb here) a frame costs ~10 ms of CPU, so 30 frames a second take a third of a
core from the audio and the model even while nobody touches the screen. The meters and
widgets only change 10 times a second (``REFRESH_HZ`` in ``gui/app.py``), so an untouched
window draws at that rate, and any mouse movement, click or active text field brings back
the full rate for a second.
"""

from __future__ import annotations

import math

ACTIVE_FRAME_RATE_HZ = 30.0
IDLE_FRAME_RATE_HZ = 10.0
IDLE_AFTER_S = 1.0


class FramePacer:
    """The frame rate for now, from whether input was seen this frame."""

    def __init__(self, active_hz: float = ACTIVE_FRAME_RATE_HZ,
                 idle_hz: float = IDLE_FRAME_RATE_HZ, idle_after_s: float = IDLE_AFTER_S) -> None:
        self.active_hz, self.idle_hz, self.idle_after_s = active_hz, idle_hz, idle_after_s
        self._last_input_s = -math.inf

    def rate_hz(self, now_s: float, input_seen: bool) -> float:
        if input_seen:
            self._last_input_s = now_s
        active = now_s - self._last_input_s < self.idle_after_s
        return self.active_hz if active else self.idle_hz
