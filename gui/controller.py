"""The front end's actions and readings, without a toolkit: what every widget calls.

Writers only set parameter targets (the callback glides to them) or go through the typed
console (presets, latent commands), so a GUI change means what the same ``--set``, MIDI
CC or console line means. Readers take the engine's target array, meters and counters;
nothing here blocks the audio path. The DearPyGui window (``gui/app.py``) is a thin view
over this class, which is what the tests drive.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.console import Console
from engine.engine import Engine
from engine.graph import M_IN_PEAK_L, M_IN_PEAK_R, M_OUT_PEAK_L, M_OUT_PEAK_R
from midi.clock import TapTempo
from presets.registry import INDEX, from_normalized, param, to_normalized

# Taps closer than this are one press seen twice (a bouncing mouse button), not a tempo.
_MIN_TAP_INTERVAL_S = 0.15


def _db(linear: float) -> float:
    return 20.0 * math.log10(linear) if linear > 1e-6 else -math.inf


class Controller:
    """Actions on a running (or offline) ``engine``.

    ``console``: the typed console the live run uses (a private one without); ``dispatcher``:
    the MIDI input's dispatcher with its ``Learner`` (None: no MIDI input, learn refused);
    ``map_path``: where ``save_mappings`` writes; ``snapshot``: the counters source (a live
    stream's adds CPU load and device latency; default the engine's own).
    """

    def __init__(self, engine: Engine, console: Console | None = None, dispatcher: Any = None,
                 map_path: Path | None = None,
                 snapshot: Callable[[], dict] | None = None) -> None:
        self.engine = engine
        self.console = console if console is not None else Console(engine, "none")
        self.dispatcher = dispatcher
        self.map_path = map_path
        self.snapshot = snapshot or engine.snapshot
        self.taps = TapTempo()
        self._last_tap_s = -math.inf

    # -- parameters ----------------------------------------------------------------------
    def target(self, id_: str) -> float:
        """The parameter's target (what presets, MIDI and this GUI last set)."""
        return float(self.engine.params.target[INDEX[param(id_).id]])

    def position(self, id_: str) -> float:
        """The target as a 0..1 position along the parameter's curve."""
        return to_normalized(param(id_), self.target(id_))

    def set_value(self, id_: str, value: float) -> str:
        """Set a target in the parameter's unit (the console's ``set``: a macro driving it
        lets go, or it would override the move at once)."""
        return self.console.handle(f"set {param(id_).id} {float(value)!r}")

    def set_position(self, id_: str, u: float) -> str:
        """Set a target from a 0..1 position along the parameter's curve."""
        p = param(id_)
        return self.set_value(p.id, from_normalized(p, u))

    def tap(self, t_s: float) -> float | None:
        """One press of the tap-tempo button at ``t_s`` seconds; the tempo once known.

        The window times a press when it handles the click, once per frame (33 ms while it
        is worked): the fit over up to 8 taps averages that out, but a MIDI pad mapped to
        ``tempo_tap`` is timed by the message's arrival and is the precise way."""
        if t_s - self._last_tap_s < _MIN_TAP_INTERVAL_S:
            return None
        self._last_tap_s = t_s
        bpm = self.taps.tap(t_s)
        if bpm is not None:
            self.engine.params.set("tempo_bpm", bpm)
        return bpm

    # -- presets and latent commands (through the console) --------------------------------
    def preset_names(self) -> list[str]:
        from presets.store import PresetStore

        store = self.console.store or PresetStore()
        return [info.name for info in store.list_presets()]

    def presets_stamp(self) -> int | None:
        """The user preset folder's modification time (None while it does not exist)."""
        from presets.store import PresetStore

        store = self.console.store or PresetStore()
        try:
            return store.directory.stat().st_mtime_ns
        except OSError:
            return None

    def load_preset(self, name: str, morph_ms: float = 0.0) -> str:
        return self.console.handle(shlex.join(["preset", "load", name, f"{morph_ms:g}"]))

    def save_preset(self, name: str) -> str:
        if not name.strip():
            return "error: give the preset a name"
        return self.console.handle(shlex.join(["preset", "save", name.strip()]))

    def load_model(self, path: str) -> str:
        """Hot-swap the running model insert to the export at ``path`` (the old one plays
        on while it loads, and on if it fails)."""
        if not path.strip():
            return "error: give the model file's path"
        return self.console.handle(shlex.join(["model", path.strip()]))

    def capture(self, seconds: float) -> str:
        """The voice's last ``seconds`` of latents become the pattern generator's loop."""
        return self.console.handle(f"capture {float(seconds)!r}")

    def latent(self, action: str) -> str:
        """``reset`` or ``randomize`` the per-dimension latent bias and scale."""
        return self.console.handle(f"latent {action}")

    # -- modulation --------------------------------------------------------------------
    def route_lfo(self, lfo: int, target: str, amount: float) -> str:
        return _attempt(lambda: self.engine.modulation.route_lfo(lfo, param(target).id, amount),
                        f"LFO {lfo} -> {target} ({amount:+.2f})")

    def clear_lfo(self, lfo: int) -> str:
        return f"LFO {lfo}: {_count(self.engine.modulation.clear_lfo_routes(lfo), 'route')} removed"

    def assign_macro(self, macro: str, target: str, low: float, high: float) -> str:
        return _attempt(
            lambda: self.engine.modulation.assign_macro(macro, param(target).id, low, high),
            f"{macro} -> {target} ({low:g} .. {high:g})")

    def clear_macro(self, macro: str) -> str:
        return f"{macro}: {_count(self.engine.modulation.clear_macro(macro), 'assignment')} removed"

    def modulation_rows(self) -> list[str]:
        """One line per LFO route and macro assignment, for the modulation list."""
        m = self.engine.modulation
        rows = [f"LFO {r['lfo']} -> {r['target']}  {r['amount']:+.2f}" for r in m.lfo_routes()]
        rows += [f"{a['macro'][len('macro_'):]} -> {a['target']}  {a['low']:g} .. {a['high']:g}"
                 for a in m.macro_assignments()]
        return rows

    # -- MIDI learn ----------------------------------------------------------------------
    @property
    def learner(self):
        return getattr(self.dispatcher, "learner", None)

    def learn(self, target: str, timeout_s: float = 10.0) -> str:
        """Arm MIDI learn: the next control moved on the MIDI input drives ``target``."""
        if self.learner is None:
            return "error: no MIDI input to learn from (start with --midi-in)"
        try:
            self.learner.arm(param(target).id, timeout_s)
        except (KeyError, ValueError) as exc:
            return f"error: {exc.args[0]}"
        return f"move a control for {target}"

    def learn_status(self) -> str:
        """What learn is doing: waiting, or how the last one ended."""
        if self.learner is None:
            return "no MIDI input"
        if self.learner.armed is not None:
            return f"waiting for a control for {self.learner.armed}"
        last = self.learner.last_result
        if last is None:
            return "idle"
        if last.mapping is None:
            return f"{last.target}: {last.reason}"
        return f"learned {describe_mapping(last.mapping)}"

    def unlearn(self, target: str) -> str:
        if self.learner is None:
            return "error: no MIDI input"
        return f"{target}: {_count(self.learner.unlearn(param(target).id), 'mapping')} removed"

    def mapping_rows(self) -> list[str]:
        if self.dispatcher is None:
            return []
        return [describe_mapping(m) for m in self.dispatcher.table]

    def save_mappings(self) -> str:
        if self.dispatcher is None or self.map_path is None:
            return "error: no mapping file (start with --midi-in and --midi-map FILE)"
        try:
            self.dispatcher.table.save(self.map_path)
        except OSError as exc:
            return f"error: {self.map_path}: {exc.strerror or exc}"
        return f"saved {len(list(self.dispatcher.table))} mappings to {self.map_path}"

    # -- meters ----------------------------------------------------------------------------
    def readings(self) -> dict[str, float]:
        """Peaks in dBFS, gain reductions in dB, the health counters, and the auto-mix's
        measurements and corrections (``automix_*``, NaN while it has heard nothing)."""
        meters, snap = self.engine.meters, self.snapshot()
        latency = snap.get("latency", {})
        reduction = snap.get("gain_reduction_db", {})
        return {
            "input_peak_db": _db(max(meters[M_IN_PEAK_L], meters[M_IN_PEAK_R])),
            "output_peak_db": _db(max(meters[M_OUT_PEAK_L], meters[M_OUT_PEAK_R])),
            "voice_comp_gr_db": float(reduction.get("comp", 0.0)),
            "bus_comp_gr_db": float(reduction.get("bus_comp", 0.0)),
            "limiter_gr_db": float(reduction.get("limiter", 0.0)),
            "late_blocks": float(snap["late_blocks"]),
            "worker_underruns": float(snap["worker_underruns"]),
            "cpu_load": float(snap.get("cpu_load", 0.0)),
            "callback_max_ms": float(snap["callback_max_ms"]),
            "worker_latency_ms": float(latency.get("worker_engine_ms", math.nan)),
            **{f"automix_{k}": math.nan if v is None else float(v)
               for k, v in snap.get("automix", {}).items()},
        }


def _attempt(action: Callable[[], object], done: str) -> str:
    """``done`` if ``action`` runs, else its error as an answer (the registry's and the
    modulation tables' messages name the problem)."""
    try:
        action()
    except (KeyError, ValueError) as exc:
        return f"error: {exc.args[0]}"
    return done


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def describe_mapping(m) -> str:
    """``cc 74 ch 1 -> macro_energy`` (channels counted from 1, as on controllers)."""
    source = m.kind if m.number is None else f"{m.kind} {m.number}"
    channel = "any ch" if m.channel is None else f"ch {m.channel + 1}"
    return f"{source} {channel} -> {m.target}"
