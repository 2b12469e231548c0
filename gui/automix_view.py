"""The auto-mix at a glance (Mix tab): for loudness, brightness and width, what the bus
hears (a bar) against the style's target (a tick), and what it applies."""

from __future__ import annotations

import math

import dearpygui.dearpygui as dpg

from gui.controller import Controller
from presets.registry import param

# (reading, target parameter, label); the bar spans the target parameter's range
ROWS = (("automix_loudness_lufs", "automix_loudness_lufs", "loudness"),
        ("automix_brightness_db", "automix_brightness_db", "brightness"),
        ("automix_width_db", "automix_width_db", "width"))
X0, BAR_W, ROW_H = 90, 300, 18
BLUE = (70, 140, 230, 255)
DARK = (38, 38, 42, 255)
WHITE = (240, 240, 240, 255)


def share(id_: str, value: float) -> float:
    """``value`` as a share of the target parameter's range (0 when unknown)."""
    p = param(id_)
    if not math.isfinite(value):
        return 0.0
    return min(1.0, max(0.0, (value - p.min) / (p.max - p.min)))


class AutomixView:
    def __init__(self, controller: Controller) -> None:
        self.c = controller

    def build(self) -> None:
        with dpg.drawlist(X0 + BAR_W + 200, ROW_H * len(ROWS) + 4, tag="automix:draw"):
            for k, (_, _, label) in enumerate(ROWS):
                top = 2 + k * ROW_H
                dpg.draw_text((4, top), label, size=13, color=WHITE)
                dpg.draw_rectangle((X0, top + 2), (X0 + BAR_W, top + 12), fill=DARK,
                                   color=DARK)
                dpg.draw_rectangle((X0, top + 2), (X0, top + 12), fill=BLUE,
                                   color=(0, 0, 0, 0), tag=f"automix:bar:{k}")
                dpg.draw_line((X0, top), (X0, top + 14), color=WHITE, thickness=2,
                              tag=f"automix:target:{k}")
                dpg.draw_text((X0 + BAR_W + 8, top), "", size=13, color=WHITE,
                              tag=f"automix:text:{k}")

    def refresh(self, r: dict) -> None:
        for k, (reading, target_id, _) in enumerate(ROWS):
            top = 2 + k * ROW_H
            heard, target = r.get(reading, math.nan), self.c.effective(target_id)
            dpg.configure_item(f"automix:bar:{k}", pmax=(X0 + BAR_W * share(target_id, heard),
                                                         top + 12))
            x = X0 + BAR_W * share(target_id, target)
            dpg.configure_item(f"automix:target:{k}", p1=(x, top), p2=(x, top + 14))
            unit = param(target_id).unit
            heard_text = "--" if not math.isfinite(heard) else f"{heard:.1f}"
            dpg.configure_item(f"automix:text:{k}",
                               text=f"{heard_text} / target {target:.1f} {unit}")
