"""Macros and LFOs, evaluated inside the audio callback once per block.

The parameter store holds the *base* targets that people set. Every block the callback
derives the *effective* targets from them and the smoothing then follows those:

1. LFO offsets on macro parameters (an LFO may move a macro);
2. macro assignments: each macro drives its targets between a low and a high value along
   a curve (a macro with no assignment does nothing);
3. LFO offsets on every other parameter.

All modulation happens in each target's normalized domain (0..1 along its registry
curve); several modulators on one target add up and the sum is clamped to the range, so
modulation never leaves a parameter's range. Routing lives in fixed-size arrays: changing
an assignment is a few array writes from any thread, and the callback never recompiles.
"""

from __future__ import annotations

import threading

import numpy as np
from numba import njit

from dsp import lfo
from presets import curves
from presets.registry import (
    CURVE_CODES,
    INDEX,
    N_LFOS,
    N_PARAMS,
    REGISTRY,
    SYNC_DIVISIONS,
    Param,
    from_normalized,
    param,
    param_at,
    slot_of,
    to_normalized,
)

MAX_ASSIGNMENTS = 64
MAX_ROUTES = 32

# param_meta columns
M_MIN, M_MAX, M_CURVE, M_DISCRETE, M_IS_MACRO = range(5)
# assignment columns: active, macro slot, target slot, low (normalized), high (normalized), curve
A_ACTIVE, A_MACRO, A_TARGET, A_LOW, A_HIGH, A_CURVE = range(6)
# route columns: active, lfo index, target slot, amount (-1..1 of the target's range)
R_ACTIVE, R_LFO, R_TARGET, R_AMOUNT = range(4)

LFO_SLOTS = np.array([[INDEX[f"lfo{k}_{name}"] for name in
                       ("rate_hz", "depth", "shape", "phase_deg", "sync")]
                      for k in range(1, N_LFOS + 1)], dtype=np.int64)
L_RATE, L_DEPTH, L_SHAPE, L_PHASE, L_SYNC = range(5)
P_TEMPO = INDEX["tempo_bpm"]
P_MORPH = INDEX["preset_morph"]
# morph state: mode (0 off, 1 follow the preset_morph control, 2 timed ramp), ramp position,
# ramp step per frame
MORPH_OFF, MORPH_CONTROL, MORPH_RAMP = 0, 1, 2
MS_MODE, MS_POS, MS_STEP = range(3)
# cycles of the LFO per quarter note for each sync choice (0 = free)
SYNC_CYCLES_PER_QUARTER = np.array(
    [0.0] + [1.0 / (4.0 * whole * mult) for _, whole, mult in SYNC_DIVISIONS[1:]])


def meta_row(p: Param) -> tuple[float, ...]:
    return (p.min, p.max, CURVE_CODES[p.curve], p.discrete, p.id.startswith("macro_"))


def param_meta() -> np.ndarray:
    # plugin slots read as a plain 0..1 range until a plugin defines them
    meta = np.zeros((N_PARAMS, 5), dtype=np.float64)
    meta[:, M_MAX] = 1.0
    for i, p in enumerate(REGISTRY):
        meta[i] = meta_row(p)
    return meta


# the registry's and the MIDI mappings' own curve functions, compiled for the callback
_taper = njit(nogil=True, cache=True, inline="always")(curves.taper)
_range_position = njit(nogil=True, cache=True, inline="always")(curves.range_position)
_range_value = njit(nogil=True, cache=True, inline="always")(curves.range_value)


@njit(nogil=True, cache=True, inline="always")
def _normalize(meta, slot, value):
    return _range_position(meta[slot, M_CURVE], meta[slot, M_MIN], meta[slot, M_MAX], value)


@njit(nogil=True, cache=True, inline="always")
def _denormalize(meta, slot, u):
    u = min(1.0, max(0.0, u))
    lo = meta[slot, M_MIN]
    hi = meta[slot, M_MAX]
    v = min(hi, max(lo, _range_value(meta[slot, M_CURVE], lo, hi, u)))
    if meta[slot, M_DISCRETE]:
        v = float(round(v))
    return v


@njit(nogil=True, cache=True)
def _run_lfos(n, target, lfo_states, lfo_values, retrigger):
    bpm = target[P_TEMPO]
    for k in range(lfo_states.shape[0]):
        st = lfo_states[k]
        # retrigger requests are a counter the control thread bumps; we remember the last
        # one served in the second row
        if retrigger[0, k] != retrigger[1, k]:
            retrigger[1, k] = retrigger[0, k]
            lfo.retrigger(st)
        sync = int(target[LFO_SLOTS[k, L_SYNC]])
        if sync > 0:
            rate = bpm / 60.0 * SYNC_CYCLES_PER_QUARTER[sync]
        else:
            rate = target[LFO_SLOTS[k, L_RATE]]
        lfo.set_rate(st, rate)
        lfo.set_shape(st, int(target[LFO_SLOTS[k, L_SHAPE]]))
        lfo.set_phase_offset(st, target[LFO_SLOTS[k, L_PHASE]])
        lfo_values[k] = lfo.process_block(st, n)


@njit(nogil=True, cache=True)
def _apply_routes(target, effective, meta, routes, lfo_values, offsets, macros):
    # sum every route's offset per target, then apply once: modulators add, then clamp
    for r in range(routes.shape[0]):
        if routes[r, R_ACTIVE] == 0.0:
            continue
        t = int(routes[r, R_TARGET])
        if (meta[t, M_IS_MACRO] != 0.0) != macros:
            continue
        k = int(routes[r, R_LFO])
        depth = target[LFO_SLOTS[k, L_DEPTH]]
        offsets[t] += routes[r, R_AMOUNT] * depth * lfo_values[k]
    for t in range(offsets.shape[0]):
        if offsets[t] != 0.0:
            effective[t] = _denormalize(meta, t, _normalize(meta, t, effective[t]) + offsets[t])
            offsets[t] = 0.0


@njit(nogil=True, cache=True)
def _morph_base(n, target, effective, meta, morph_ab, morph_state):
    # A morph replaces the base targets by an interpolation between two full parameter
    # sets, in each parameter's normalized domain; discrete ones switch at the midpoint.
    mode = morph_state[MS_MODE]
    if mode == MORPH_RAMP:
        m = min(1.0, morph_state[MS_POS])
        morph_state[MS_POS] = m + morph_state[MS_STEP] * n
    else:
        m = min(1.0, max(0.0, target[P_MORPH]))
    for i in range(target.shape[0]):
        if i == P_MORPH:
            effective[i] = target[i]
        elif meta[i, M_DISCRETE] != 0.0:
            effective[i] = morph_ab[0, i] if m < 0.5 else morph_ab[1, i]
        else:
            a = _normalize(meta, i, morph_ab[0, i])
            effective[i] = _denormalize(meta, i, a + (_normalize(meta, i, morph_ab[1, i]) - a) * m)


@njit(nogil=True, cache=True)
def apply(n, target, effective, meta, assignments, routes, lfo_states, lfo_values, retrigger,
          offsets, morph_ab, morph_state):
    """Derive this block's effective targets from the base targets (see module docstring)."""
    if morph_state[MS_MODE] != MORPH_OFF:
        _morph_base(n, target, effective, meta, morph_ab, morph_state)
    else:
        for i in range(target.shape[0]):
            effective[i] = target[i]
    _run_lfos(n, target, lfo_states, lfo_values, retrigger)
    _apply_routes(target, effective, meta, routes, lfo_values, offsets, True)
    for a in range(assignments.shape[0]):
        if assignments[a, A_ACTIVE] == 0.0:
            continue
        m = min(1.0, max(0.0, effective[int(assignments[a, A_MACRO])]))
        s = _taper(assignments[a, A_CURVE], m)
        t = int(assignments[a, A_TARGET])
        lo = assignments[a, A_LOW]
        effective[t] = _denormalize(meta, t, lo + (assignments[a, A_HIGH] - lo) * s)
    _apply_routes(target, effective, meta, routes, lfo_values, offsets, False)


class Modulation:
    """The routing arrays plus a thread-safe Python API to edit them.

    Edits write ``active`` last so the callback never sees a half-written row.
    """

    def __init__(self, sample_rate_hz: float, seed: int = 1) -> None:
        self.meta = param_meta()
        self.assignments = np.zeros((MAX_ASSIGNMENTS, 6), dtype=np.float64)
        self.routes = np.zeros((MAX_ROUTES, 4), dtype=np.float64)
        self.lfo_states = np.stack([lfo.prepare(sample_rate_hz, seed=seed + k)
                                    for k in range(N_LFOS)])
        self.lfo_values = np.zeros(N_LFOS, dtype=np.float64)
        self.retrigger_counts = np.zeros((2, N_LFOS), dtype=np.int64)
        self.offsets = np.zeros(N_PARAMS, dtype=np.float64)
        self.morph_ab = np.zeros((2, N_PARAMS), dtype=np.float64)
        self.morph_state = np.zeros(3, dtype=np.float64)
        self.sample_rate_hz = sample_rate_hz
        self._lock = threading.Lock()  # between editing threads only; never the callback

    def define(self, slot: int, p: Param) -> None:
        """A plugin parameter took ``slot``: scale its modulation by its range."""
        self.meta[slot] = meta_row(p)

    def forget(self, slots: set[int]) -> None:
        """Plugin parameters left: drop the assignments and routes that drove them."""
        with self._lock:
            for table, active, target in ((self.assignments, A_ACTIVE, A_TARGET),
                                          (self.routes, R_ACTIVE, R_TARGET)):
                for row in table:
                    if row[active] and int(row[target]) in slots:
                        row[active] = 0.0
            for s in slots:
                self.offsets[s] = 0.0

    # -- macros ----------------------------------------------------------------------
    def assign_macro(self, macro: str, target: str, low: float, high: float,
                     curve: str = "lin") -> int:
        """Let ``macro_<macro>`` drive ``target`` from ``low`` to ``high`` (target units)."""
        p = param(target)
        mp = param(_macro_id(macro))
        if target.startswith("macro_"):
            raise ValueError(f"{target}: a macro cannot drive another macro")
        if curve not in CURVE_CODES:
            raise ValueError(f"curve {curve!r} not one of {tuple(CURVE_CODES)}")
        lo_u = to_normalized(p, p.check(low))
        hi_u = to_normalized(p, p.check(high))
        with self._lock:
            row = self._free_row(self.assignments, A_ACTIVE)
            self.assignments[row, 1:] = (INDEX[mp.id], slot_of(p.id), lo_u, hi_u,
                                         CURVE_CODES[curve])
            self.assignments[row, A_ACTIVE] = 1.0
        return row

    def clear_macro(self, macro: str | None = None, target: str | None = None) -> int:
        """Remove assignments of ``macro`` (or all) to ``target`` (or all); returns count."""
        source = None if macro is None else INDEX[param(_macro_id(macro)).id]
        return self._clear(self.assignments, A_ACTIVE, A_MACRO, source, A_TARGET, target)

    def macro_assignments(self) -> list[dict]:
        """Active assignments as plain dicts (target units), e.g. for presets."""
        out = []
        for a in self.assignments:
            if a[A_ACTIVE]:
                p = param_at(int(a[A_TARGET]))
                out.append({"macro": REGISTRY[int(a[A_MACRO])].id, "target": p.id,
                            "low": from_normalized(p, a[A_LOW]),
                            "high": from_normalized(p, a[A_HIGH]),
                            "curve": list(CURVE_CODES)[int(a[A_CURVE])]})
        return out

    # -- LFOs --------------------------------------------------------------------------
    def route_lfo(self, lfo_number: int, target: str, amount: float = 1.0) -> int:
        """Let LFO ``lfo_number`` (1..N_LFOS) move ``target`` by ``amount`` x depth x range."""
        if not 1 <= lfo_number <= N_LFOS:
            raise ValueError(f"LFO {lfo_number} does not exist: choose 1..{N_LFOS}")
        if not -1.0 <= amount <= 1.0:
            raise ValueError(f"amount {amount} is out of range [-1, 1]")
        p = param(target)
        with self._lock:
            row = self._free_row(self.routes, R_ACTIVE)
            self.routes[row, 1:] = (lfo_number - 1, slot_of(p.id), amount)
            self.routes[row, R_ACTIVE] = 1.0
        return row

    def clear_lfo_routes(self, lfo_number: int | None = None, target: str | None = None) -> int:
        """Remove routes of LFO ``lfo_number`` (or all) to ``target`` (or all); returns count."""
        source = None if lfo_number is None else lfo_number - 1
        return self._clear(self.routes, R_ACTIVE, R_LFO, source, R_TARGET, target)

    def _clear(self, table: np.ndarray, active_col: int, source_col: int, source: int | None,
               target_col: int, target: str | None) -> int:
        slot = None if target is None else slot_of(target)
        removed = 0
        with self._lock:
            for row in table:
                if not row[active_col]:
                    continue
                if source is not None and int(row[source_col]) != source:
                    continue
                if slot is not None and int(row[target_col]) != slot:
                    continue
                row[active_col] = 0.0
                removed += 1
        return removed

    def lfo_routes(self) -> list[dict]:
        return [{"lfo": int(r[R_LFO]) + 1, "target": param_at(int(r[R_TARGET])).id,
                 "amount": float(r[R_AMOUNT])} for r in self.routes if r[R_ACTIVE]]

    def retrigger(self, lfo_number: int) -> None:
        """Restart an LFO's cycle at its phase offset on the next block."""
        self.retrigger_counts[0, lfo_number - 1] += 1

    # -- preset morphs ---------------------------------------------------------------
    def arm_morph(self, a: np.ndarray, b: np.ndarray) -> None:
        """Let the ``preset_morph`` control move every parameter between sets ``a`` and ``b``."""
        self.morph_state[MS_MODE] = MORPH_OFF
        self.morph_ab[0] = a
        self.morph_ab[1] = b
        self.morph_state[MS_MODE] = MORPH_CONTROL

    def start_ramp(self, a: np.ndarray, b: np.ndarray, duration_ms: float) -> None:
        """Glide every parameter from ``a`` to ``b`` over ``duration_ms`` (callback-timed)."""
        self.morph_state[MS_MODE] = MORPH_OFF
        self.morph_ab[0] = a
        self.morph_ab[1] = b
        self.morph_state[MS_POS] = 0.0
        self.morph_state[MS_STEP] = 1.0 / max(1.0, duration_ms * 1e-3 * self.sample_rate_hz)
        self.morph_state[MS_MODE] = MORPH_RAMP

    def ramp_done(self) -> bool:
        return self.morph_state[MS_MODE] == MORPH_RAMP and self.morph_state[MS_POS] >= 1.0

    def disarm_morph(self) -> None:
        self.morph_state[MS_MODE] = MORPH_OFF

    @staticmethod
    def _free_row(table: np.ndarray, active_col: int) -> int:
        free = np.flatnonzero(table[:, active_col] == 0.0)
        if free.size == 0:
            raise ValueError(f"no free modulation slot (at most {table.shape[0]})")
        return int(free[0])


def _macro_id(macro: str) -> str:
    return macro if macro.startswith("macro_") else f"macro_{macro}"


