"""The one control path: every writer changes a running engine through :class:`Controls`.

The typed console, the MIDI dispatcher, the window and preset recall all call these
methods, never a text command and never the parameter store directly, so the same action
means the same thing from every one of them. The rules live here:

- a value set by hand (console ``set``, a window control, a mapped MIDI control) releases
  a macro assignment driving that parameter, or the macro would override the move at once;
- presets apply all or nothing (``engine.session.presets``), and a preset's pattern memory
  goes back to the model it was captured with;
- program change walks the factory presets, gliding;
- a model swap keeps the old model playing until the new one is ready, and on failure.

Methods are safe to call from the console, MIDI and window threads at once: parameter
targets are single float stores, modulation edits and recalls hold their own locks, and
nothing here is reached by the audio callback.
"""

from __future__ import annotations

import math
import secrets
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from engine.engine import Engine
from engine.errors import UsageError
from engine.layout import C_DENOISE_ON, C_TRANSCRIBE_ON
from engine.modulation import A_ACTIVE, A_TARGET
from engine.session import presets as session_presets
from midi.clock import TapTempo
from midi.gm_drums import GM_DRUM_CHANNEL, GM_DRUM_NOTES
from models.continuo.layout import INSTRUMENT_NAMES
from presets.factory_presets import PERFORMANCE_NAMES, load_factory
from presets.registry import DRUM_VOICES, RAVE_LATENT_CONTROLS, REGISTRY, param, slot_of
from presets.schema import Preset

# The pattern-memory snapshot name a saved preset stores the captured pattern under; rows
# are latent frames, columns latent dimensions.
PATTERN_NAME = "captured"
MAX_CAPTURE_S = 16.0
# Taps closer than this are one press seen twice (a bouncing button), not a tempo.
MIN_TAP_INTERVAL_S = 0.15
BUTTON_PRESS_S = 0.05  # how long a button pressed from the console or window stays down


# parameters whose moves are presses or performance, not edits of the preset's sound
_NOT_EDITS = ("tempo_tap", "denoise_learn", "preset_morph")
_COUNTS_AS_EDIT = np.array([p.id not in _NOT_EDITS for p in REGISTRY])


class Controls:
    """Actions on a running (or offline) ``engine``.

    ``insert``/``backend``/``references``/``match``: how the worker insert was made, so a
    model swap makes the new one the same way. ``store``: the preset store (default: the
    user's folder). ``morph_ms``: how long a program change glides. ``dispatcher`` and
    ``map_path`` are set by the live session when there is a MIDI input (learn, mappings).
    """

    def __init__(self, engine: Engine, insert: str = "none", backend: str = "auto",
                 references: Sequence[Path] = (), match: Path | None = None,
                 store=None, morph_ms: float = 500.0) -> None:
        self.engine = engine
        self.insert = insert
        self.backend = backend
        self.references = list(references)
        self.match = match
        self._store = store
        self.morph_ms = morph_ms
        self.dispatcher = None  # midi.dispatcher.MidiDispatcher, when MIDI input runs
        self.map_path: Path | None = None
        self.preset_name: str | None = None  # the preset last recalled, for the window
        # its values (built-in parameters), to tell when the sound has moved away from it
        self.preset_values: np.ndarray | None = None
        self.taps = TapTempo()
        # engine.session.neural_notes.NeuralNotes, when the live run transcribes with it
        self.neural = None
        self._last_tap_s = -math.inf
        self._tap_lock = threading.Lock()

    # -- values ----------------------------------------------------------------------------
    def target(self, id_: str) -> float:
        """The parameter's target: what was last set (before macros and LFOs)."""
        return float(self.engine.params.target[slot_of(id_)])

    def set(self, id_: str, value: float) -> bool:
        """Set a target by hand, validated against the registry range (ValueError, KeyError
        naming the problem). A macro assignment driving the parameter lets go; True when one
        did."""
        p = param(id_)
        slot = slot_of(p.id)
        self.engine.params.target[slot] = p.check(value)
        rows = self.engine.modulation.assignments
        # a vectorised look first: MIDI sets many values a second and few are macro targets
        if np.any((rows[:, A_ACTIVE] != 0.0) & (rows[:, A_TARGET] == slot)):
            return self.engine.modulation.clear_macro(target=p.id) > 0
        return False

    def set_and_report(self, id_: str, value: float) -> str:
        """:meth:`set`, answered with one line for a person (console, window)."""
        p = param(id_)
        released = self.set(p.id, float(value))
        note = " (its macro assignment removed)" if released else ""
        # what was stored: a plugin's port clamps a value outside its range
        return f"{p.id} = {self.target(p.id):g} {p.unit}".rstrip() + note

    # -- modulation ------------------------------------------------------------------------
    def assign_macro(self, macro: str, target: str, low: float, high: float,
                     curve: str = "lin") -> int:
        return self.engine.modulation.assign_macro(macro, param(target).id, low, high, curve)

    def clear_macro(self, macro: str | None = None, target: str | None = None) -> int:
        return self.engine.modulation.clear_macro(macro, target)

    def route_lfo(self, lfo: int, target: str, amount: float) -> int:
        return self.engine.modulation.route_lfo(lfo, param(target).id, amount)

    def clear_lfo(self, lfo: int | None = None, target: str | None = None) -> int:
        return self.engine.modulation.clear_lfo_routes(lfo, target)

    # -- tempo -----------------------------------------------------------------------------
    def tap(self, t_s: float) -> float | None:
        """One press of a tap-tempo button at ``t_s`` seconds; sets and returns the tempo
        once known. The window times a press when it handles the click, once per frame:
        the fit over up to 8 taps averages that out (a MIDI pad mapped to ``tempo_tap`` is
        timed by the message's arrival, the precise way)."""
        with self._tap_lock:
            if t_s - self._last_tap_s < MIN_TAP_INTERVAL_S:
                return None
            self._last_tap_s = t_s
            bpm = self.taps.tap(t_s)
        if bpm is not None:
            self.set("tempo_bpm", bpm)
        return bpm

    # -- plugins ---------------------------------------------------------------------------
    def plugin_add(self, slot: str, name: str) -> str:
        """Load a plugin at the end of ``slot`` while audio runs (built off the audio
        thread, taken between two blocks); InputError naming the problem otherwise."""
        loaded = self.engine.rack.add(slot, name)
        n = len(self.engine.rack.chains[slot])
        return (f"{slot} {n}: {loaded.plugin.name} ({len(loaded.plugin.controls)} "
                f"parameters fx_{slot}{n}_*)")

    def plugin_remove(self, slot: str, position: int) -> str:
        loaded = self.engine.rack.remove(slot, position)
        return f"{slot} {position}: {loaded.plugin.name} removed"

    def plugin_move(self, slot: str, position: int, to: int) -> str:
        self.engine.rack.move(slot, position, to)
        return f"{slot}: " + ", ".join(x.plugin.name for x in self.engine.rack.chains[slot])

    def plugin_bypass(self, slot: str, position: int, on: bool) -> str:
        self.engine.rack._index(slot, position)  # names a bad slot or position
        return self.set_and_report(f"fx_{slot}{position}_bypass", 1.0 if on else 0.0)

    def plugin_chains(self) -> list[tuple[str, int, object]]:
        """``(slot, position, loaded plugin)`` of every chain, a snapshot (the chains may
        change on another thread while a reader walks it)."""
        return [(slot, k, x) for slot, chain in list(self.engine.rack.chains.items())
                for k, x in enumerate(list(chain), start=1)]

    def plugin_list(self) -> str:
        rows = [f"{slot} {k}: {x.plugin.name}"
                + (" (bypassed)" if self.target(f"fx_{slot}{k}_bypass") >= 0.5 else "")
                + (" (faulted: non-finite output)" if x.plugin.faulted else "")
                for slot, chain in self.engine.rack.chains.items()
                for k, x in enumerate(chain, start=1)]
        return "; ".join(rows) if rows else "no plugins"

    # -- noise reduction ---------------------------------------------------------------------
    def learn_noise(self, seconds: float | None = None) -> str:
        """Press the learn-noise button: the noise reduction takes the next ``seconds``
        (default ``denoise_learn_s``) as the room's noise. The button is released a moment
        later, after the callback has seen the press."""
        if not self.engine.config[C_DENOISE_ON]:
            raise UsageError("the noise reduction is off (start with --denoise)")
        if seconds is not None:
            self.set("denoise_learn_s", seconds)
        self.set("denoise_learn", 1.0)
        timer = threading.Timer(BUTTON_PRESS_S, self.set, ("denoise_learn", 0.0))
        timer.daemon = True
        timer.start()
        return f"learning the room's noise for {self.target('denoise_learn_s'):g} s"

    # -- notes and drums -------------------------------------------------------------------
    def note(self, channel: int, number: int, velocity: int, on: bool) -> None:
        """A MIDI note: with a sample bank, channel 10 (GM percussion) plays the drums and
        every other channel the sampler; without one, GM drum notes on any channel play the
        drums (pads send on many channels)."""
        engine = self.engine
        if engine.bank_slices and channel != GM_DRUM_CHANNEL:
            engine.note(number, velocity / 127.0 if on else 0.0)
            return
        name = GM_DRUM_NOTES.get(number)
        if on and velocity > 0 and name is not None:
            engine.trigger_drum(DRUM_VOICES.index(name), velocity / 127.0)

    # -- presets ---------------------------------------------------------------------------
    @property
    def store(self):
        """The preset store (factory and user presets)."""
        if self._store is None:
            from presets.store import PresetStore

            self._store = PresetStore()
        return self._store

    @store.setter
    def store(self, value) -> None:
        self._store = value

    def apply_preset(self, preset: Preset, morph_ms: float = 0.0) -> str:
        """Make ``preset`` the running state (gliding over ``morph_ms``), its pattern memory
        included; returns a note about the pattern ("" when there is none)."""
        session_presets.apply_preset(self.engine, preset, morph_ms=morph_ms)
        self.preset_name = preset.name
        self.preset_values = session_presets.param_array(preset)[: len(REGISTRY)]
        return self.give_pattern(preset)

    def preset_modified(self) -> bool:
        """Whether a value has moved since the preset was recalled or saved (presses such
        as tap tempo and the morph position do not count)."""
        if self.preset_values is None:
            return False
        now = self.engine.params.target[: len(REGISTRY)]
        return bool(np.any((now != self.preset_values) & _COUNTS_AS_EDIT))

    def load_preset(self, name: str, morph_ms: float = 0.0) -> str:
        preset = self.store.load(name)
        note = self.apply_preset(preset, morph_ms)
        return f"loaded {preset.name}{note}"

    def save_preset(self, name: str) -> str:
        """Save the running state as a user preset, with the captured pattern and its
        model's name."""
        proc = self.model_processor()
        pattern = proc.pattern if proc is not None else None
        memory = {} if pattern is None else {PATTERN_NAME: pattern.T.tolist()}
        model = proc.model.path.name if proc is not None and memory else None
        path = self.store.save(session_presets.capture(self.engine, name, pattern_memory=memory,
                                                       model=model))
        self.preset_name = path.stem
        self.preset_values = self.engine.params.target[: len(REGISTRY)].copy()
        extra = f" with a {pattern.shape[1]}-frame pattern" if pattern is not None else ""
        return f"saved {path.stem}{extra}"

    def program_change(self, bank: int, program: int) -> None:
        """Program numbers walk the performance presets in order (Calm, Balanced, Intense,
        Chaotic), gliding over ``morph_ms``."""
        name = PERFORMANCE_NAMES[program % len(PERFORMANCE_NAMES)]
        self.apply_preset(load_factory(name), morph_ms=self.morph_ms)

    def arm_morph(self, a: str, b: str) -> str:
        """Let ``preset_morph`` (0 = ``a``, 1 = ``b``) morph every parameter between two
        presets; MIDI, macros and LFOs reach it like any parameter."""
        pa, pb = self.store.load(a), self.store.load(b)
        session_presets.arm_two_preset_morph(self.engine, pa, pb)
        return f"preset_morph now morphs {pa.name} (0) to {pb.name} (1)"

    def disarm_morph(self) -> str:
        session_presets.disarm_two_preset_morph(self.engine)
        return "preset morph off"

    def give_pattern(self, preset: Preset) -> str:
        """Give the model insert the preset's first pattern-memory snapshot when it was saved
        with the same model (file name) and latent size; a note for the performer."""
        proc = self.model_processor()
        if not preset.pattern_memory or proc is None:
            return ""
        rows = next(iter(preset.pattern_memory.values()))
        if preset.model not in (None, proc.model.path.name) \
                or len(rows[0]) != proc.model.latent_dims:
            return f" (its pattern belongs to {preset.model or 'another model'}: not loaded)"
        proc.set_pattern(np.asarray(rows, np.float32).T)
        return f" with its {len(rows)}-frame pattern"

    # -- the transcriber -------------------------------------------------------------------
    def transcriber(self) -> str:
        """What hears notes: ``neural <instrument>``, ``voice kernel`` or ``off``."""
        if self.neural is not None:
            return f"neural {self.neural.instrument}"
        return "voice kernel" if self.engine.config[C_TRANSCRIBE_ON] else "off"

    def heard_notes(self, window_s: float = 6.0):
        """The neural transcriber's input time and notes of the last ``window_s`` seconds
        ((start_s, end_s or None while sounding, pitch) rows), or None without it."""
        return None if self.neural is None else self.neural.recent(window_s)

    def choose_instrument(self, name: str) -> str:
        """Tell the running neural transcriber what plays now (UsageError without it)."""
        if self.neural is None:
            raise UsageError("the neural transcriber is not running (run --send-notes "
                             "--instrument NAME)")
        if name not in INSTRUMENT_NAMES:
            raise UsageError(f"unknown instrument {name!r}: choose one of "
                             f"{', '.join(INSTRUMENT_NAMES)}")
        self.neural.choose(name)
        return f"transcribing {name}"

    # -- the model insert ------------------------------------------------------------------
    def model_processor(self):
        """The running model insert (a RAVE processor), or None."""
        from models.rave.processor import RaveProcessor

        worker = self.engine.worker
        if worker is None or not isinstance(worker.processor, RaveProcessor):
            return None
        return worker.processor

    def _require_model(self):
        proc = self.model_processor()
        if proc is None:
            raise UsageError("no model insert is running (--insert rave or drums)")
        return proc

    def swap_model(self, path: Path | str) -> str:
        """Load another export into the running insert; the old one plays on meanwhile, and
        on if the file fails (``ModelSwapError`` naming it)."""
        from engine.session.hot_swap import swap_model

        return swap_model(self.engine, self.insert, Path(path), self.backend,
                          self.references, self.match)

    def capture(self, seconds: float = 4.0) -> str:
        """The voice's last ``seconds`` of latents become the pattern generator's loop."""
        if not 0.0 < seconds <= MAX_CAPTURE_S:
            raise ValueError(f"capture takes 0..{MAX_CAPTURE_S:g} seconds")
        proc = self._require_model()
        z = proc.capture_pattern(seconds)
        if z is None:
            raise UsageError("nothing encoded yet (the voice path has not run)")
        return f"captured {z.shape[1]} latent frames as the pattern{_discrete_note(proc)}"

    def latent_reset(self) -> str:
        """Every ``rave_bias_N`` to 0 and ``rave_scale_N`` to 1."""
        from models.rave import latent

        self._set_latents(*latent.neutral_bias_scale(RAVE_LATENT_CONTROLS))
        return "latent controls reset" + _discrete_note(self.model_processor())

    def latent_randomize(self, seed: int | None = None) -> str:
        """Random per-dimension bias and scale (within the parameters' ranges)."""
        from models.rave import latent

        seed = secrets.randbelow(1 << 31) if seed is None else int(seed)
        bias, scale = latent.random_bias_scale(RAVE_LATENT_CONTROLS, seed)
        lo_b, hi_b = param("rave_bias_1").min, param("rave_bias_1").max
        lo_s, hi_s = param("rave_scale_1").min, param("rave_scale_1").max
        self._set_latents(bias.clip(lo_b, hi_b), scale.clip(lo_s, hi_s))
        return f"latent controls randomized (seed {seed})" + _discrete_note(self.model_processor())

    def _set_latents(self, bias: np.ndarray, scale: np.ndarray) -> None:
        values = {f"rave_bias_{d + 1}": float(bias[d]) for d in range(RAVE_LATENT_CONTROLS)}
        values |= {f"rave_scale_{d + 1}": float(scale[d]) for d in range(RAVE_LATENT_CONTROLS)}
        self.engine.recall(values)

    # -- MIDI learn ------------------------------------------------------------------------
    @property
    def learner(self):
        return getattr(self.dispatcher, "learner", None)

    def learn(self, target: str, timeout_s: float = 10.0) -> str:
        """Arm MIDI learn: the next control moved on the MIDI input drives ``target``."""
        if self.learner is None:
            raise UsageError("no MIDI input to learn from (start with --midi-in)")
        self.learner.arm(param(target).id, timeout_s)
        return f"move a control for {target}"

    def unlearn(self, target: str) -> int:
        if self.learner is None:
            raise UsageError("no MIDI input")
        return self.learner.unlearn(param(target).id)

    def save_mappings(self) -> str:
        if self.dispatcher is None or self.map_path is None:
            raise UsageError("no mapping file (start with --midi-in and --midi-map FILE)")
        try:
            self.dispatcher.table.save(self.map_path)
        except OSError as exc:
            raise UsageError(f"{self.map_path}: {exc.strerror or exc}") from None
        return f"saved {len(list(self.dispatcher.table))} mappings to {self.map_path}"


def _discrete_note(proc) -> str:
    """Said after commands whose latents a discrete model does not use (its codes are
    indices: bias/scale and the generators leave them alone)."""
    if proc is not None and proc.model.discrete:
        return " (no effect on a discrete model)"
    return ""
