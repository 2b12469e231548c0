"""The front end's actions and readings, without a toolkit: what every widget calls.

Every action goes through the session's control API (:class:`engine.session.controls.
Controls`), the same one the typed console and MIDI use, so a window control means what the
same ``--set``, MIDI CC or console line means. Readers take the engine's target array,
meters and counters; nothing here blocks the audio path. The DearPyGui window
(``gui/app.py``) is a thin view over this class, which is what the tests drive.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from dsp.errors import InputError
from dsp.units import gain_to_db
from engine.layout import (
    M_DRUM_HITS,
    M_IN_PEAK_L,
    M_IN_PEAK_R,
    M_IN_RMS_L,
    M_IN_RMS_R,
    M_OUT_PEAK_L,
    M_OUT_PEAK_R,
    M_OUT_RMS_L,
    M_OUT_RMS_R,
    ST_FRAMES,
)
from engine.session.controls import INSTRUMENT_NAMES, Controls
from presets.registry import DRUM_VOICES, from_normalized, param, slot_of, to_normalized


def _db(linear: float) -> float:
    return gain_to_db(linear) if linear > 1e-6 else -math.inf


def _answer(action: Callable[[], object], done: str | None = None) -> str:
    """``done`` (default: the action's own one-line report) once the action ran, or its
    error as ``error: ...`` (the control API's messages name the problem)."""
    try:
        result = action()
    except (InputError, KeyError, ValueError) as exc:
        return f"error: {exc.args[0] if exc.args else type(exc).__name__}"
    return str(result) if done is None else done


class Controller:
    """Actions on the engine behind ``controls``; ``snapshot``: the counters source (a live
    stream's adds CPU load and device latency; default the engine's own)."""

    def __init__(self, controls: Controls, snapshot: Callable[[], dict] | None = None) -> None:
        self.controls = controls
        self.engine = controls.engine
        self.snapshot = snapshot or self.engine.snapshot
        self.written: set[str] = set()  # parameters the window has set (in its stats)

    # -- what the window reads from the engine (copies or drained rings, never live arrays)
    @property
    def sample_rate_hz(self) -> float:
        return self.engine.sample_rate_hz

    def show_scope(self, on: bool = True) -> None:
        """Have the callback feed the scope ring (only while the window shows it)."""
        self.engine.enable_scope(on)

    def read_scope(self) -> np.ndarray:
        """The frames the callback put in the scope ring since the last read."""
        return self.engine.read_scope()

    def parameter_values(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the first ``count`` parameters' targets and effective values: the
        MIDI thread and the callback write them while the window reads."""
        return (self.engine.params.target[:count].copy(),
                self.engine.effective[:count].copy())

    # -- parameters ----------------------------------------------------------------------
    def target(self, id_: str) -> float:
        """The parameter's target (what presets, MIDI and this GUI last set)."""
        return self.controls.target(id_)

    def effective(self, id_: str) -> float:
        """The value the engine plays now: the target with macros, LFOs and morphs."""
        return float(self.engine.effective[slot_of(id_)])

    def position(self, id_: str) -> float:
        """The target as a 0..1 position along the parameter's curve."""
        return to_normalized(param(id_), self.target(id_))

    def set_value(self, id_: str, value: float) -> str:
        """Set a target in the parameter's unit (a macro driving it lets go)."""
        self.written.add(id_)
        return _answer(lambda: self.controls.set_and_report(id_, float(value)))

    def set_position(self, id_: str, u: float) -> str:
        """Set a target from a 0..1 position along the parameter's curve."""
        self.written.add(id_)
        return _answer(lambda: self.controls.set_and_report(
            id_, from_normalized(param(id_), u)))

    def tap(self, t_s: float) -> float | None:
        """One press of the tap-tempo button at ``t_s`` seconds; the tempo once known."""
        return self.controls.tap(t_s)

    def learn_noise(self) -> str:
        """The noise reduction learns the room's noise from the next ``denoise_learn_s``."""
        return _answer(self.controls.learn_noise)

    # -- plugins ---------------------------------------------------------------------------
    def plugin_names(self) -> list[tuple[str, str]]:
        """(uri, name) of every installed LV2 plugin (reading them takes a second or two)."""
        from engine.plugins import catalog

        return catalog.names()

    def plugin_add(self, slot: str, uri: str) -> str:
        return _answer(lambda: self.controls.plugin_add(slot, uri))

    def plugin_remove(self, slot: str, position: int) -> str:
        return _answer(lambda: self.controls.plugin_remove(slot, position))

    def plugin_move(self, slot: str, position: int, to: int) -> str:
        return _answer(lambda: self.controls.plugin_move(slot, position, to))

    def plugin_bypass(self, slot: str, position: int, on: bool) -> str:
        return _answer(lambda: self.controls.plugin_bypass(slot, position, on))

    def plugin_chains(self) -> list[dict]:
        """Each loaded plugin: slot, position, name, its parameters (registry Params, bypass
        first) and whether it faulted."""
        from engine.plugins.rack import param_ids

        out = []
        for slot, k, loaded in self.controls.plugin_chains():
            plugin = loaded.plugin
            try:
                params = [param(i) for i in param_ids(slot, k, plugin)]
            except KeyError:
                continue  # a chain changing on another thread: shown next refresh
            out.append({"slot": slot, "position": k, "uri": plugin.name,
                        "name": getattr(getattr(plugin, "info", None), "name", plugin.name),
                        "params": params, "faulted": plugin.faulted})
        return out

    # -- presets and the model -------------------------------------------------------------
    def preset_names(self) -> list[str]:
        return [info.name for info in self.controls.store.list_presets()]

    def presets_stamp(self) -> int | None:
        """The user preset folder's modification time (None while it does not exist)."""
        try:
            return self.controls.store.directory.stat().st_mtime_ns
        except OSError:
            return None

    def load_preset(self, name: str, morph_ms: float = 0.0) -> str:
        return _answer(lambda: self.controls.load_preset(name, morph_ms))

    def save_preset(self, name: str) -> str:
        if not name.strip():
            return "error: give the preset a name"
        return _answer(lambda: self.controls.save_preset(name.strip()))

    def arm_morph(self, a: str, b: str) -> str:
        """Let the ``preset_morph`` control morph from preset ``a`` (0) to ``b`` (1)."""
        return _answer(lambda: self.controls.arm_morph(a, b))

    def disarm_morph(self) -> str:
        return _answer(self.controls.disarm_morph)

    def load_model(self, path: str) -> str:
        """Hot-swap the running model insert to the export at ``path`` (the old one plays
        on while it loads, and on if it fails)."""
        if not path.strip():
            return "error: give the model file's path"
        return _answer(lambda: self.controls.swap_model(path.strip()))

    def capture(self, seconds: float) -> str:
        """The voice's last ``seconds`` of latents become the pattern generator's loop."""
        return _answer(lambda: self.controls.capture(float(seconds)))

    def latent_state(self) -> dict | None:
        """The running model's latent view: the newest decoded frame (None before the
        first), each dimension's bias and scale, and the captured pattern's latents (or
        None); None without a latent model."""
        proc = self.controls.model_processor()
        if proc is None or proc.model.discrete:
            return None
        return {"latent": proc.last_latent, "bias": proc.bias.copy(),
                "scale": proc.scale.copy(), "pattern": proc.pattern}

    # -- the transcriber ---------------------------------------------------------------
    def transcriber(self) -> str:
        return self.controls.transcriber()

    def heard_notes(self, window_s: float):
        """(input time now, [(start_s, end_s or None, pitch)]) or None: see Controls."""
        return self.controls.heard_notes(window_s)

    def choose_instrument(self, name: str) -> str:
        return _answer(lambda: self.controls.choose_instrument(name))

    def instruments(self) -> tuple[str, ...]:
        """What the neural transcriber can be told plays."""
        return INSTRUMENT_NAMES

    def latent(self, action: str) -> str:
        """``reset`` or ``randomize`` the per-dimension latent bias and scale."""
        if action == "reset":
            return _answer(self.controls.latent_reset)
        return _answer(self.controls.latent_randomize)

    # -- modulation --------------------------------------------------------------------
    def route_lfo(self, lfo: int, target: str, amount: float) -> str:
        return _answer(lambda: self.controls.route_lfo(lfo, target, amount),
                       f"LFO {lfo} -> {target} ({amount:+.2f})")

    def clear_lfo(self, lfo: int) -> str:
        return f"LFO {lfo}: {_count(self.controls.clear_lfo(lfo), 'route')} removed"

    def assign_macro(self, macro: str, target: str, low: float, high: float) -> str:
        return _answer(lambda: self.controls.assign_macro(macro, target, low, high),
                       f"{macro} -> {target} ({low:g} .. {high:g})")

    def clear_macro(self, macro: str) -> str:
        return f"{macro}: {_count(self.controls.clear_macro(macro), 'assignment')} removed"

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
        return self.controls.learner

    def learn(self, target: str, timeout_s: float = 10.0) -> str:
        """Arm MIDI learn: the next control moved on the MIDI input drives ``target``."""
        return _answer(lambda: self.controls.learn(target, timeout_s))

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
        return _answer(lambda: f"{target}: {_count(self.controls.unlearn(target), 'mapping')} "
                       "removed")

    def armed_target(self) -> str | None:
        """The parameter MIDI learn is waiting to map, or None."""
        return None if self.learner is None else self.learner.armed

    def mapped_targets(self) -> set[str]:
        """The parameters a MIDI mapping drives."""
        if self.controls.dispatcher is None:
            return set()
        return {m.target for m in self.controls.dispatcher.table}

    def mapping_rows(self) -> list[str]:
        if self.controls.dispatcher is None:
            return []
        return [describe_mapping(m) for m in self.controls.dispatcher.table]

    def save_mappings(self) -> str:
        return _answer(self.controls.save_mappings)

    # -- meters ----------------------------------------------------------------------------
    def readings(self) -> dict[str, float]:
        """Peaks in dBFS, gain reductions in dB, the health counters, and the auto-mix's
        measurements and corrections (``automix_*``, NaN while it has heard nothing)."""
        meters, snap = self.engine.meters, self.snapshot()
        latency = snap.get("latency", {})
        reduction = snap.get("gain_reduction_db", {})
        beats = self.engine.stats[ST_FRAMES] / self.engine.sample_rate_hz \
            * self.target("tempo_bpm") / 60.0
        return {
            **{f"{side}_{kind}_{ch}_db": _db(meters[slot]) for (side, kind, ch), slot in (
                (("in", "peak", "l"), M_IN_PEAK_L), (("in", "peak", "r"), M_IN_PEAK_R),
                (("in", "rms", "l"), M_IN_RMS_L), (("in", "rms", "r"), M_IN_RMS_R),
                (("out", "peak", "l"), M_OUT_PEAK_L), (("out", "peak", "r"), M_OUT_PEAK_R),
                (("out", "rms", "l"), M_OUT_RMS_L), (("out", "rms", "r"), M_OUT_RMS_R))},
            "drum_hits": [float(x) for x in
                          meters[M_DRUM_HITS: M_DRUM_HITS + len(DRUM_VOICES)]],
            "beat_phase": float(beats % 1.0),
            "nonfinite_replaced": float(snap["nonfinite_replaced"]),
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


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def describe_mapping(m) -> str:
    """``cc 74 ch 1 -> macro_energy`` (channels counted from 1, as on controllers)."""
    source = m.kind if m.number is None else f"{m.kind} {m.number}"
    channel = "any ch" if m.channel is None else f"ch {m.channel + 1}"
    return f"{source} {channel} -> {m.target}"
