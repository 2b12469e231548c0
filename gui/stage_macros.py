"""The macros as stage faders: large vertical faders on the Perform view, read from a metre
away (the anchors' device views show a few big controls, not a list of sliders).

Each fader sets its macro's position through the controller, as a slider does; under it a
bar shows where the macro actually is (``effective``: a MIDI knob, an LFO or a preset
morph moves it too) and the value in large digits. The small sliders in the list below stay
for fine work and MIDI learn.
"""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from gui.controller import Controller
from presets.registry import MACROS, param, to_normalized

FADER_W, FADER_H = 58, 170
BAR_H = 10
_FILL = (240, 180, 60, 255)
_TRACK = (40, 42, 54, 255)
_NONE = (0, 0, 0, 0)


def fader_tag(id_: str) -> str:
    return f"stage:{id_}"


class StageMacros:
    """Builds the faders; ``refresh`` follows the macros when something else moves them."""

    def __init__(self, controller: Controller, say) -> None:
        self.c = controller
        self.say = say
        self.ids = [f"macro_{m}" for m in MACROS]

    def build(self) -> None:
        with dpg.group(horizontal=True, tag="stage:macros"):
            for id_ in self.ids:
                with dpg.group():
                    dpg.add_slider_float(tag=fader_tag(id_), vertical=True, width=FADER_W,
                                         height=FADER_H, min_value=0.0, max_value=1.0,
                                         format="", callback=self._on_move, user_data=id_)
                    with dpg.drawlist(FADER_W, BAR_H):
                        dpg.draw_rectangle((0, 0), (FADER_W, BAR_H), fill=_TRACK, color=_NONE)
                        dpg.draw_rectangle((0, 0), (0, BAR_H), fill=_FILL, color=_NONE,
                                           tag=f"{fader_tag(id_)}:fill")
                    dpg.add_text(id_.removeprefix("macro_").replace("_", " "),
                                 tag=f"{fader_tag(id_)}:name")
                    dpg.add_text("", tag=f"{fader_tag(id_)}:value")

    def _on_move(self, sender, value, id_) -> None:
        answer = self.c.set_position(id_, float(value))
        if answer.startswith("error"):
            self.say(answer)

    def refresh(self) -> None:
        for id_ in self.ids:
            p = param(id_)
            tag = fader_tag(id_)
            if not dpg.is_item_active(tag):  # the performer is dragging it: leave it be
                dpg.set_value(tag, to_normalized(p, self.c.target(id_)))
            eff = self.c.effective(id_)
            dpg.configure_item(f"{tag}:fill", pmax=(FADER_W * to_normalized(p, eff), BAR_H))
            dpg.set_value(f"{tag}:value", f"{eff:.2f}")
