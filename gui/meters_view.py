"""The header's pictures: level meters, gain reduction, health, drum flashes and the beat.

Drawn with DearPyGui's drawing items, configured in place every refresh (nothing is
created or deleted while the window runs). A performer reads them from a metre away:

- input and output, left and right: RMS bar inside the peak bar, a peak-hold tick (held
  ``HOLD_S``), a clip light (lit ``HOLD_S`` after a peak at or above ``CLIP_DB``);
- gain reduction of the voice compressor, the bus compressor and the limiter (0-20 dB);
- a health light: green, red for ``HOLD_S`` after a late block, a worker underrun or a
  non-finite sample (the counts on hover);
- a light per drum voice that flashes on each hit (beatbox or MIDI), from the callback's
  per-voice hit counters, and a beat light from the tempo and the engine's frame count.
"""

from __future__ import annotations

import math
import time

import dearpygui.dearpygui as dpg

from gui.controller import Controller
from presets.registry import DRUM_VOICES

FLOOR_DB = -60.0
CLIP_DB = -0.1
HOLD_S = 1.5
FLASH_S = 0.15
GR_FULL_DB = 20.0
WIDTH, HEIGHT = 900, 66
BAR_W, BAR_H = 220, 9
DARK = (38, 38, 42, 255)
OFF = (60, 60, 64, 255)
GREEN = (60, 190, 80, 255)
LIGHT_GREEN = (120, 230, 130, 255)
YELLOW = (235, 200, 60, 255)
RED = (230, 60, 50, 255)
ORANGE = (240, 140, 40, 255)
WHITE = (240, 240, 240, 255)
DRUM_LABELS = ("K", "S", "HC", "HO", "TL", "TM", "TH", "CL")
# (meter key, x of its bars, y of its left bar)
_SIDES = (("in", 40, 6), ("out", 330, 6))
_GR = (("voice_comp_gr_db", "comp"), ("bus_comp_gr_db", "bus"), ("limiter_gr_db", "lim"))


def fraction(db: float) -> float:
    """A level in dB as the share of a bar (``FLOOR_DB`` .. 0 dB)."""
    if not math.isfinite(db) or db <= FLOOR_DB:
        return 0.0
    return min(1.0, 1.0 - db / FLOOR_DB)


def level_colour(db: float) -> tuple[int, int, int, int]:
    return RED if db >= -3.0 else YELLOW if db >= -12.0 else LIGHT_GREEN


class MetersView:
    """Builds the header drawing and updates it from the controller's readings."""

    def __init__(self, controller: Controller) -> None:
        self.c = controller
        self._hold: dict[str, tuple[float, float]] = {}  # bar -> (held dB, since)
        self._clip_at: dict[str, float] = {"in": -math.inf, "out": -math.inf}
        self._trouble_at = -math.inf
        self._counts: tuple[float, ...] | None = None
        self._hits = [0.0] * len(DRUM_VOICES)
        self._flash_at = [-math.inf] * len(DRUM_VOICES)

    def build(self) -> None:
        """The drawing; the health counts go in a ``meters:detail`` text the caller places
        (a tooltip of the header's numbers: DearPyGui gives a drawing none)."""
        with dpg.drawlist(WIDTH, HEIGHT, tag="meters:draw"):
            for side, x, y in _SIDES:
                dpg.draw_text((x - 34, y + 2), side.upper(), size=14, color=WHITE)
                for k, ch in enumerate("LR"):
                    top = y + k * (BAR_H + 4)
                    dpg.draw_rectangle((x, top), (x + BAR_W, top + BAR_H), fill=DARK,
                                       color=DARK)
                    dpg.draw_rectangle((x, top), (x, top + BAR_H), fill=LIGHT_GREEN,
                                       color=(0, 0, 0, 0), tag=f"meters:{side}:{ch}:peak")
                    dpg.draw_rectangle((x, top), (x, top + BAR_H), fill=GREEN,
                                       color=(0, 0, 0, 0), tag=f"meters:{side}:{ch}:rms")
                    dpg.draw_line((x, top), (x, top + BAR_H), color=(0, 0, 0, 0),
                                  thickness=2, tag=f"meters:{side}:{ch}:hold")
                dpg.draw_circle((x + BAR_W + 14, y + 11), 6, fill=OFF, color=OFF,
                                tag=f"meters:{side}:clip")
            for k, (_, label) in enumerate(_GR):
                top = 4 + k * 12
                dpg.draw_text((620, top - 2), label, size=12, color=WHITE)
                dpg.draw_rectangle((650, top), (750, top + 8), fill=DARK, color=DARK)
                dpg.draw_rectangle((650, top), (650, top + 8), fill=ORANGE,
                                   color=(0, 0, 0, 0), tag=f"meters:gr:{label}")
            dpg.draw_circle((790, 16), 9, fill=GREEN, color=GREEN, tag="meters:health")
            dpg.draw_text((805, 8), "health", size=13, color=WHITE)
            for v, label in enumerate(DRUM_LABELS):
                x = 40 + 34 * v
                dpg.draw_rectangle((x, 38), (x + 28, 62), fill=OFF, color=OFF,
                                   tag=f"meters:drum:{v}")
                dpg.draw_text((x + 4, 43), label, size=13, color=WHITE)
            dpg.draw_circle((345, 50), 9, fill=OFF, color=OFF, tag="meters:beat")
            dpg.draw_text((360, 42), "beat", size=13, color=WHITE)

    def refresh(self, r: dict, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        for side, x, y in _SIDES:
            for k, ch in enumerate("LR"):
                top = y + k * (BAR_H + 4)
                peak, rms = r[f"{side}_peak_{ch.lower()}_db"], r[f"{side}_rms_{ch.lower()}_db"]
                self._bar(f"meters:{side}:{ch}:peak", x, top, fraction(peak),
                          level_colour(peak))
                self._bar(f"meters:{side}:{ch}:rms", x, top, fraction(rms), GREEN)
                held = self._held(f"{side}{ch}", peak, now)
                hx = x + BAR_W * fraction(held)
                dpg.configure_item(f"meters:{side}:{ch}:hold", p1=(hx, top),
                                   p2=(hx, top + BAR_H),
                                   color=WHITE if fraction(held) > 0 else (0, 0, 0, 0))
                if peak >= CLIP_DB:
                    self._clip_at[side] = now
            lit = now - self._clip_at[side] < HOLD_S
            dpg.configure_item(f"meters:{side}:clip", fill=RED if lit else OFF,
                               color=RED if lit else OFF)
        for k, (key, label) in enumerate(_GR):
            share = min(1.0, max(0.0, r[key]) / GR_FULL_DB)
            dpg.configure_item(f"meters:gr:{label}", pmax=(650 + 100 * share, 12 + 12 * k))
        self._health(r, now)
        self._drums(r["drum_hits"], now)
        on = r["beat_phase"] < 0.15
        dpg.configure_item("meters:beat", fill=YELLOW if on else OFF, color=YELLOW if on else OFF)

    def _bar(self, tag: str, x: float, top: float, share: float, colour) -> None:
        dpg.configure_item(tag, pmin=(x, top), pmax=(x + BAR_W * share, top + BAR_H),
                           fill=colour)

    def _held(self, key: str, db: float, now: float) -> float:
        held, since = self._hold.get(key, (-math.inf, now))
        if db >= held or now - since > HOLD_S:
            held, since = db, now
        self._hold[key] = (held, since)
        return held

    def _health(self, r: dict, now: float) -> None:
        counts = (r["late_blocks"], r["worker_underruns"], r["nonfinite_replaced"])
        if self._counts is not None and counts != self._counts:
            self._trouble_at = now
        self._counts = counts
        bad = now - self._trouble_at < HOLD_S
        dpg.configure_item("meters:health", fill=RED if bad else GREEN,
                           color=RED if bad else GREEN)
        dpg.set_value("meters:detail", f"late blocks {counts[0]:.0f}, worker underruns "
                      f"{counts[1]:.0f}, non-finite samples {counts[2]:.0f}")

    def _drums(self, hits: list[float], now: float) -> None:
        for v, count in enumerate(hits):
            if count != self._hits[v]:
                self._flash_at[v] = now
                self._hits[v] = count
            lit = now - self._flash_at[v] < FLASH_S
            dpg.configure_item(f"meters:drum:{v}", fill=YELLOW if lit else OFF,
                               color=YELLOW if lit else OFF)
