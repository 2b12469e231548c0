"""Soft takeover: reconciling a physical control with a parameter others also move.

When a preset, the GUI or another controller has moved a parameter, an absolute knob no
longer agrees with it; touching the knob would make the parameter jump. Per mapping:

- ``none``:   the control sets the parameter directly (jumps allowed).
- ``pickup``: the control is ignored until it reaches or crosses the parameter's current
  position, then it follows.
- ``scale``:  value scaling (as in Ableton Live): each move changes the parameter in
  proportion to the distance left to the end of travel in that direction, so control
  and parameter meet at the end (or earlier, where they cross) and then move together.

All positions are controller positions ``u`` in [0, 1] (midi.mapping), so the rules do
not depend on the target's unit or curve. Relative encoders need no takeover: they move
the parameter from wherever it is; the accumulator for them lives here too because it
has the same job (track the parameter, notice when someone else moved it).

"Someone else moved it" is detected exactly: the store's target differs from the value
this mapping last wrote.
"""

from __future__ import annotations

from dataclasses import dataclass

from midi.convert import clamp01
from midi.mapping import NOTE_KINDS, Mapping

# How close (in controller travel) counts as "reached" for pickup and scaling: half a
# 7-bit step, so a 7-bit knob can always land on any parameter position.
DEFAULT_TOLERANCE = 0.5 / 127.0


@dataclass
class ControlState:
    """What takeover remembers per mapping."""

    last_u: float | None = None   # the control's previous position
    engaged: bool = False         # control and parameter move together
    written: float | None = None  # the last value (registry unit) this mapping wrote
    accum_u: float | None = None  # relative encoders: position in controller travel


class SoftTakeover:
    """Per-mapping takeover state, used from the MIDI thread (``reset`` from any)."""

    def __init__(self, tolerance: float = DEFAULT_TOLERANCE) -> None:
        self.tolerance = tolerance
        self._states: dict[Mapping, ControlState] = {}

    def state(self, m: Mapping) -> ControlState:
        """The state of mapping ``m`` (created on first use)."""
        st = self._states.get(m)
        if st is None:
            st = self._states[m] = ControlState()
        return st

    def external_change(self, m: Mapping, current: float) -> bool:
        """True if the parameter is not where ``m`` last left it (or ``m`` never wrote)."""
        written = self.state(m).written
        return written is None or current != written

    def absolute(self, m: Mapping, u: float, param_u: float, external: bool) -> float | None:
        """Controller position to apply for an absolute move to ``u``, or None to ignore.

        ``param_u``: the parameter's current position in ``m``'s controller travel.
        ``external``: the parameter was moved by someone else since ``m`` last wrote.
        """
        st = self.state(m)
        prev, st.last_u = st.last_u, u
        if m.takeover == "none" or m.kind in NOTE_KINDS:
            return u
        if external:
            st.engaged = False
        if st.engaged:
            return u
        tol = self.tolerance
        if abs(u - param_u) <= tol:
            st.engaged = True
            return u
        if m.takeover == "pickup":
            if prev is not None and (prev - param_u) * (u - param_u) <= 0.0:
                st.engaged = True  # crossed the parameter between two messages
                return u
            return None
        # scale: without a previous position there is no direction to scale along
        if prev is None or u == prev:
            return None
        if u > prev:
            new = param_u + (u - prev) * (1.0 - param_u) / (1.0 - prev)
        else:
            new = param_u - (prev - u) * param_u / prev
        new = clamp01(new)
        if (new - u) * (param_u - prev) <= 0.0 or abs(new - u) <= tol:
            st.engaged = True  # caught up (or crossed): from here on, follow the control
            return u
        return new

    def relative(self, m: Mapping, delta_u: float, param_u: float, external: bool) -> float:
        """New controller position after an encoder move of ``delta_u`` (clamped to [0, 1]).

        The accumulator keeps sub-step moves (a discrete target rounds, the position does
        not) and restarts from the parameter when someone else moved it.
        """
        st = self.state(m)
        if external or st.accum_u is None:
            st.accum_u = param_u
        st.accum_u = clamp01(st.accum_u + delta_u)
        return st.accum_u

    def wrote(self, m: Mapping, value: float) -> None:
        """Record that ``m`` just set its target to ``value``."""
        self.state(m).written = value

    def reset(self, target: str | None = None) -> None:
        """Forget state (for ``target`` only, or all): every control must pick up again."""
        # may run on another thread than the MIDI thread: snapshot the keys (atomic in
        # CPython) and pop, rather than iterate a dict the MIDI thread may grow
        for m in list(self._states):
            if target is None or m.target == target:
                self._states.pop(m, None)
