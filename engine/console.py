"""Typed commands for a running engine (``musicmill run`` reads them from stdin).

Beside the window (``gui/``), which runs its preset and latent actions through this class,
this is how a performer reaches what MIDI cannot from a terminal: loading another model
mid-set, capturing a latent pattern, resetting or randomising the latent controls.
Every command answers with one line; a bad command or value is an answer, never a crash.
"""

from __future__ import annotations

import shlex
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import numpy as np

from engine.engine import Engine
from engine.errors import UsageError
from engine.hot_swap import swap_model
from models.rave import latent
from presets.registry import RAVE_LATENT_CONTROLS, param
from presets.schema import PresetError

# The pattern-memory snapshot name a saved preset stores the captured pattern under; rows
# are latent frames, columns latent dimensions.
PATTERN_NAME = "captured"

HELP = """commands:
  model PATH            load another model into the running insert (the old one plays on
                        if the file fails)
  set PARAM VALUE       set a parameter (ids as in --set)
  capture [SECONDS]     loop the voice's last SECONDS of latents (default 4) as the pattern
                        generator (then: set rave_source 1, set rave_generator 2)
  preset load NAME [MORPH_MS]
                        recall a factory or user preset (gliding over MORPH_MS), and its
                        pattern memory when it was saved with this model
  preset save NAME      save the running state as a user preset, with the captured pattern
  latent reset          every rave_bias_N to 0 and rave_scale_N to 1
  latent randomize [SEED]
                        random per-dimension bias and scale
  help                  this list
  quit                  stop the engine"""


class Console:
    """Parses and runs one command line at a time against ``engine``."""

    def __init__(self, engine: Engine, insert: str, backend: str = "auto",
                 references: list[Path] | None = None, match: Path | None = None,
                 on_quit: Callable[[], None] | None = None) -> None:
        self.engine = engine
        self.insert = insert
        self.backend = backend
        self.references = list(references or [])
        self.match = match
        self.on_quit = on_quit
        self.store = None  # a presets.store.PresetStore; None: the user's preset directory

    def handle(self, line: str) -> str:
        """Run ``line``; returns the answer (an ``error: ...`` line when it failed)."""
        try:
            words = shlex.split(line)
        except ValueError as exc:
            return f"error: {exc}"
        if not words:
            return ""
        command, args = words[0].lower(), words[1:]
        action = {"model": self._model, "set": self._set, "capture": self._capture,
                  "latent": self._latent, "preset": self._preset, "help": lambda _: HELP,
                  "quit": self._quit}.get(command)
        if action is None:
            return f"error: unknown command {command!r} (try help)"
        try:
            return action(args)
        except (UsageError, ValueError, KeyError, PresetError) as exc:
            # args[0]: a KeyError's str() would wrap the message in quotes
            return f"error: {exc.args[0] if exc.args else type(exc).__name__}"

    def _model(self, args: list[str]) -> str:
        if len(args) != 1:
            raise ValueError("usage: model PATH")
        return swap_model(self.engine, self.insert, Path(args[0]), self.backend,
                          self.references, self.match)

    def _set(self, args: list[str]) -> str:
        if len(args) != 2:
            raise ValueError("usage: set PARAM VALUE")
        p = param(args[0])
        self.engine.params.set(p.id, float(args[1]))
        # as with --set: a macro driving this parameter would override the value at once
        freed = self.engine.modulation.clear_macro(target=p.id)
        note = " (its macro assignment removed)" if freed else ""
        return f"{p.id} = {float(args[1]):g} {p.unit}".rstrip() + note

    def _processor(self):
        from models.rave.processor import RaveProcessor

        worker = self.engine.worker
        if worker is None or not isinstance(worker.processor, RaveProcessor):
            raise UsageError("no model insert is running (--insert rave or drums)")
        return worker.processor

    def _capture(self, args: list[str]) -> str:
        seconds = float(args[0]) if args else 4.0
        if not 0.0 < seconds <= 16.0:
            raise ValueError("capture takes 0..16 seconds")
        proc = self._processor()
        z = proc.capture_pattern(seconds)
        if z is None:
            return "error: nothing encoded yet (the voice path has not run)"
        return f"captured {z.shape[1]} latent frames as the pattern{_discrete_note(proc)}"

    def _latent(self, args: list[str]) -> str:
        if not args or args[0] not in ("reset", "randomize"):
            raise ValueError("usage: latent reset | latent randomize [SEED]")
        n = RAVE_LATENT_CONTROLS
        if args[0] == "reset":
            bias, scale = latent.neutral_bias_scale(n)
        else:
            seed = int(args[1]) if len(args) > 1 else None
            if seed is None:
                import secrets

                seed = secrets.randbelow(1 << 31)
            bias, scale = latent.random_bias_scale(n, seed)
            lo_b, hi_b = param("rave_bias_1").min, param("rave_bias_1").max
            lo_s, hi_s = param("rave_scale_1").min, param("rave_scale_1").max
            bias, scale = bias.clip(lo_b, hi_b), scale.clip(lo_s, hi_s)
        values = {f"rave_bias_{d + 1}": float(bias[d]) for d in range(n)}
        values |= {f"rave_scale_{d + 1}": float(scale[d]) for d in range(n)}
        self.engine.recall(values)
        done = "latent controls reset" if args[0] == "reset" else \
            f"latent controls randomized (seed {seed})"
        return done + _discrete_note(self._model_processor())

    def _model_processor(self):
        """The running model insert, or None (presets work without one)."""
        try:
            return self._processor()
        except UsageError:
            return None

    def _preset(self, args: list[str]) -> str:
        from presets.apply import apply_preset, capture
        from presets.store import PresetStore

        if len(args) < 2 or args[0] not in ("load", "save") or len(args) > 3:
            raise ValueError("usage: preset load NAME [MORPH_MS] | preset save NAME")
        store = self.store or PresetStore()
        proc = self._model_processor()
        model_name = proc.model.path.name if proc is not None else None
        if args[0] == "save":
            pattern = proc.pattern if proc is not None else None
            memory = {} if pattern is None else {PATTERN_NAME: pattern.T.tolist()}
            path = store.save(capture(self.engine, args[1], pattern_memory=memory,
                                      model=model_name if memory else None))
            extra = f" with a {pattern.shape[1]}-frame pattern" if pattern is not None else ""
            return f"saved {path.stem}{extra}"
        preset = store.load(args[1])
        apply_preset(self.engine, preset, morph_ms=float(args[2]) if len(args) > 2 else 0.0)
        return f"loaded {preset.name}{load_preset_pattern(proc, preset)}"

    def _quit(self, args: list[str]) -> str:
        if self.on_quit is not None:
            self.on_quit()
        return "stopping"

    def start(self, stream: TextIO, answer: TextIO) -> threading.Thread:
        """Read ``stream`` line by line on a daemon thread, answering on ``answer``;
        the thread ends at end of input."""
        def loop() -> None:
            while True:
                try:
                    line = stream.readline()
                except OSError:  # a terminal read from the background: wait for the fg
                    time.sleep(0.5)
                    continue
                if not line:
                    return  # end of input
                try:
                    reply = self.handle(line)
                except Exception as exc:  # noqa: BLE001 -- the console must outlive any command
                    reply = f"error: {type(exc).__name__}: {exc}"
                if reply:
                    print(reply, file=answer, flush=True)

        thread = threading.Thread(target=loop, name="musicmill-console", daemon=True)
        thread.start()
        return thread


def load_preset_pattern(proc, preset) -> str:
    """Give the model insert ``proc`` the first pattern-memory snapshot of ``preset`` when
    it was saved with the same model (file name) and latent size; returns a note for the
    performer ("" when the preset has no pattern or there is no model insert)."""
    if not preset.pattern_memory or proc is None:
        return ""
    rows = next(iter(preset.pattern_memory.values()))
    if preset.model not in (None, proc.model.path.name) or len(rows[0]) != proc.model.latent_dims:
        return f" (its pattern belongs to {preset.model or 'another model'}: not loaded)"
    proc.set_pattern(np.asarray(rows, np.float32).T)
    return f" with its {len(rows)}-frame pattern"


def _discrete_note(proc) -> str:
    """Said after commands whose latents a discrete model does not use (its codes are
    indices: bias/scale and the generators leave them alone)."""
    if proc is not None and proc.model.discrete:
        return " (no effect on a discrete model)"
    return ""
