"""The Notes tab: what the transcriber hears, as it hears it.

A piano roll of the last ``WINDOW_S`` seconds (time across, pitch up, MIDI 21-108 with a
line at every C): each note a bar at its float pitch, the sounding ones bright and growing
at the right edge; above it the sounding notes' names with their cents, large, and the
instrument choice, which tells the running neural transcriber what plays (it takes effect
between two worker blocks). The bars are a fixed pool of drawn rectangles moved each frame,
so the draw list never grows.
"""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from gui.controller import Controller

WINDOW_S = 6.0
ROLL_W, ROLL_H = 720, 260
LOW, HIGH = 21.0, 108.0
POOL = 64
_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
DONE = (90, 150, 220, 255)
SOUNDING = (250, 200, 70, 255)
HIDDEN = (0, 0, 0, 0)


def note_name(pitch: float) -> str:
    """``A4 +12c`` for 69.12."""
    key = round(pitch)
    cents = round(100 * (pitch - key))
    return f"{_NAMES[key % 12]}{key // 12 - 1}" + (f" {cents:+d}c" if cents else "")


def bar(start_s: float, end_s: float, pitch: float, now_s: float
        ) -> tuple[tuple[float, float], tuple[float, float]]:
    """The rectangle of a note in roll pixels (clipped to the roll)."""
    x0 = ROLL_W * (1.0 - (now_s - start_s) / WINDOW_S)
    x1 = ROLL_W * (1.0 - (now_s - end_s) / WINDOW_S)
    y = ROLL_H * (1.0 - (pitch - LOW) / (HIGH - LOW))
    return (max(x0, 0.0), y - 2.5), (min(max(x1, x0 + 2.0), ROLL_W), y + 2.5)


class NotesView:
    def __init__(self, controller: Controller, say) -> None:
        self.c = controller
        self.say = say

    def build(self) -> None:
        with dpg.group(horizontal=True):
            dpg.add_text("", tag="notes:transcriber")
            dpg.add_combo(self.c.instruments(), tag="notes:instrument", width=110,
                          callback=lambda s, v: self.say(self.c.choose_instrument(v)))
        dpg.add_text("", tag="notes:sounding")
        with dpg.drawlist(ROLL_W, ROLL_H, tag="notes:roll"):
            dpg.draw_rectangle((0, 0), (ROLL_W, ROLL_H), fill=(24, 24, 30, 255),
                               color=(70, 70, 80, 255))
            for c in range(24, 109, 12):
                y = ROLL_H * (1.0 - (c - LOW) / (HIGH - LOW))
                dpg.draw_line((0, y), (ROLL_W, y), color=(50, 50, 60, 255))
                dpg.draw_text((4, y - 14), f"C{c // 12 - 1}", size=12, color=(110, 110, 120))
            for k in range(POOL):
                dpg.draw_rectangle((0, 0), (0, 0), fill=HIDDEN, color=HIDDEN,
                                   tag=f"notes:bar:{k}")

    def refresh(self) -> None:
        kind = self.c.transcriber()
        heard = self.c.heard_notes(WINDOW_S)
        neural = heard is not None
        dpg.set_value("notes:transcriber", f"Transcriber: {kind}" + (
            "" if neural else "  (the roll needs run --send-notes --instrument NAME)"))
        dpg.configure_item("notes:instrument", show=neural)
        rows = heard[1][-POOL:] if neural else []
        now = heard[0] if neural else 0.0
        if neural:
            dpg.set_value("notes:instrument", kind.removeprefix("neural "))
        sounding = [p for _, end, p in rows if end is None]
        dpg.set_value("notes:sounding", "  ".join(note_name(p) for p in sorted(sounding)))
        for k in range(POOL):
            tag = f"notes:bar:{k}"
            if k < len(rows):
                start, end, pitch = rows[k]
                pmin, pmax = bar(start, now if end is None else end, pitch, now)
                colour = SOUNDING if end is None else DONE
                dpg.configure_item(tag, pmin=pmin, pmax=pmax, fill=colour, color=colour)
            else:
                dpg.configure_item(tag, fill=HIDDEN, color=HIDDEN)
