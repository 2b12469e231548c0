"""The Notes tab's geometry and labels (the tab itself is driven in test_app.py: one
DearPyGui context per process)."""

from __future__ import annotations

import pytest

from gui.notes_view import ROLL_H, ROLL_W, bar, note_name


def test_note_names_carry_their_cents():
    assert note_name(69.0) == "A4"
    assert note_name(60.25) == "C4 +25c"
    assert note_name(70.9) == "B4 -10c"


def test_a_note_is_a_bar_at_its_pitch_ending_at_the_right_edge_while_it_sounds():
    (x0, y0), (x1, y1) = bar(4.0, 6.0, 64.5, now_s=6.0)
    assert x1 == ROLL_W and x0 == pytest.approx(ROLL_W * (1 - 2.0 / 6.0))
    assert (y0 + y1) / 2 == pytest.approx(ROLL_H * (1 - (64.5 - 21) / 87))
    (x0, _), _ = bar(-10.0, 1.0, 60.0, now_s=6.0)  # begun before the roll: clipped
    assert x0 == 0.0
