"""The XY pad: two parameters on one square, moved by dragging (default Energy x Chaos).

Dragging sets both parameters' positions along their curves through the controller (as a
slider does); the dot shows where they actually are (``effective``: a MIDI knob, a macro or
an LFO moves it too).
"""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from gui.controller import Controller
from presets.registry import REGISTRY, param, to_normalized

SIZE = 180
PAD_FILL = (30, 34, 44, 255)  # also how `musicmill bench window` finds the pad on screen
DEFAULT_X, DEFAULT_Y = "macro_energy", "macro_chaos"
_CHOICES = [p.id for p in REGISTRY if not p.discrete]


class XYPad:
    """Builds the pad and its two assignment lists; ``set_xy`` is what a drag does."""

    def __init__(self, controller: Controller, say) -> None:
        self.c = controller
        self.say = say
        self.x_id, self.y_id = DEFAULT_X, DEFAULT_Y

    def build(self) -> None:
        with dpg.group(horizontal=True):
            with dpg.drawlist(SIZE, SIZE, tag="xy:pad"):
                dpg.draw_rectangle((0, 0), (SIZE, SIZE), fill=PAD_FILL,
                                   color=(90, 90, 110, 255))
                dpg.draw_line((SIZE / 2, 0), (SIZE / 2, SIZE), color=(60, 60, 80, 255))
                dpg.draw_line((0, SIZE / 2), (SIZE, SIZE / 2), color=(60, 60, 80, 255))
                dpg.draw_circle((SIZE / 2, SIZE / 2), 9, fill=(240, 180, 60, 255),
                                color=(255, 255, 255, 255), tag="xy:dot")
            with dpg.group():
                dpg.add_text("XY pad")
                dpg.add_combo(_CHOICES, tag="xy:x", default_value=DEFAULT_X, width=200,
                              label="X", callback=self._on_assign)
                dpg.add_combo(_CHOICES, tag="xy:y", default_value=DEFAULT_Y, width=200,
                              label="Y", callback=self._on_assign)
                dpg.add_text("", tag="xy:values")
        with dpg.handler_registry():
            dpg.add_mouse_down_handler(button=dpg.mvMouseButton_Left, callback=self._on_mouse)

    def _on_assign(self) -> None:
        self.x_id, self.y_id = dpg.get_value("xy:x"), dpg.get_value("xy:y")

    def _on_mouse(self) -> None:
        if not dpg.is_item_hovered("xy:pad"):
            return
        mx, my = dpg.get_mouse_pos(local=False)
        left, top = dpg.get_item_rect_min("xy:pad")
        self.set_xy((mx - left) / SIZE, 1.0 - (my - top) / SIZE)

    def set_xy(self, u: float, v: float) -> None:
        """Move X to position ``u`` and Y to ``v`` (0..1, up is 1), as a drag there does."""
        u, v = min(1.0, max(0.0, u)), min(1.0, max(0.0, v))
        for id_, pos in ((self.x_id, u), (self.y_id, v)):
            answer = self.c.set_position(id_, pos)
            if answer.startswith("error") or "removed" in answer:
                self.say(answer)

    def dot(self) -> tuple[float, float]:
        """The dot's centre in pad pixels: where the two parameters are now."""
        eff = self.c.effective
        u = to_normalized(param(self.x_id), eff(self.x_id))
        v = to_normalized(param(self.y_id), eff(self.y_id))
        return u * SIZE, (1.0 - v) * SIZE

    def refresh(self) -> None:
        dpg.configure_item("xy:dot", center=self.dot())
        dpg.set_value("xy:values", f"{self.x_id} {self.c.effective(self.x_id):.2f}\n"
                      f"{self.y_id} {self.c.effective(self.y_id):.2f}")
