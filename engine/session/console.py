"""Typed commands for a running engine (``musicmill run`` reads them from stdin).

A thin reader over :class:`engine.session.controls.Controls`: each line is parsed and
becomes one call on the control API, the same the window and MIDI make. This is how a
performer reaches from a terminal what MIDI cannot: loading another model mid-set,
capturing a latent pattern, presets, resetting or randomising the latent controls. Every
command answers with one line; a bad command or value is an answer, never a crash.
"""

from __future__ import annotations

import shlex
import threading
import time
from collections.abc import Callable
from typing import TextIO

from dsp.errors import InputError, did_you_mean
from engine.session.controls import Controls

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
  preset morph A B      let preset_morph (0..1) morph every parameter from preset A to B
  preset morph off      stop the two-preset morph
  denoise learn [SECONDS]
                        the noise reduction learns the room's noise from the next SECONDS
                        (run --denoise)
  plugins               the plugins in each slot
  plugin add SLOT URI|PATH
                        load a plugin at the end of a slot (voice, worker, master)
  plugin remove SLOT N  take the Nth plugin out of a slot
  plugin bypass SLOT N on|off
                        bypass a plugin (or set fx_SLOTN_bypass)
  plugin move SLOT N TO move a plugin to another place in its slot
  latent reset          every rave_bias_N to 0 and rave_scale_N to 1
  latent randomize [SEED]
                        random per-dimension bias and scale
  help                  this list
  quit                  stop the engine"""

PRESET_USAGE = ("usage: preset load NAME [MORPH_MS] | preset save NAME | preset morph A B "
                "| preset morph off")


PLUGIN_USAGE = ("usage: plugin add SLOT URI|PATH | plugin remove SLOT N | "
                "plugin bypass SLOT N on|off | plugin move SLOT N TO")


class Console:
    """Parses one command line at a time and runs it on ``controls``."""

    def __init__(self, controls: Controls, on_quit: Callable[[], None] | None = None) -> None:
        self.controls = controls
        self.on_quit = on_quit

    def handle(self, line: str) -> str:
        """Run ``line``; returns the answer (an ``error: ...`` line when it failed)."""
        try:
            words = shlex.split(line)
        except ValueError as exc:
            return f"error: {exc}"
        if not words:
            return ""
        command, args = words[0].lower(), words[1:]
        actions = {"model": self._model, "set": self._set, "capture": self._capture,
                   "latent": self._latent, "preset": self._preset, "denoise": self._denoise,
                   "plugin": self._plugin, "plugins": lambda _: self.controls.plugin_list(),
                   "help": lambda _: HELP,
                   "quit": self._quit}
        action = actions.get(command)
        if action is None:
            # a performer mid-set mistypes: name the likely command rather than only
            # pointing at the whole list
            return (f"error: unknown command {command!r}{did_you_mean(command, actions)} "
                    "(try help)")
        try:
            return action(args)
        except (InputError, ValueError, KeyError) as exc:
            # args[0]: a KeyError's str() would wrap the message in quotes
            return f"error: {exc.args[0] if exc.args else type(exc).__name__}"

    def _model(self, args: list[str]) -> str:
        if len(args) != 1:
            raise ValueError("usage: model PATH")
        return self.controls.swap_model(args[0])

    def _set(self, args: list[str]) -> str:
        if len(args) != 2:
            raise ValueError("usage: set PARAM VALUE")
        return self.controls.set_and_report(args[0], float(args[1]))

    def _capture(self, args: list[str]) -> str:
        return self.controls.capture(float(args[0]) if args else 4.0)

    def _latent(self, args: list[str]) -> str:
        if not args or args[0] not in ("reset", "randomize"):
            raise ValueError("usage: latent reset | latent randomize [SEED]")
        if args[0] == "reset":
            return self.controls.latent_reset()
        return self.controls.latent_randomize(int(args[1]) if len(args) > 1 else None)

    def _preset(self, args: list[str]) -> str:
        action = args[0] if args else ""
        if action == "load" and len(args) in (2, 3):
            return self.controls.load_preset(args[1], float(args[2]) if len(args) > 2 else 0.0)
        if action == "save" and len(args) == 2:
            return self.controls.save_preset(args[1])
        if action == "morph" and args[1:] == ["off"]:
            return self.controls.disarm_morph()
        if action == "morph" and len(args) == 3:
            return self.controls.arm_morph(args[1], args[2])
        raise ValueError(PRESET_USAGE)

    def _plugin(self, args: list[str]) -> str:
        action, rest = (args[0], args[1:]) if args else ("", [])
        c = self.controls
        if action == "add" and len(rest) == 2:
            return c.plugin_add(rest[0], rest[1])
        if action == "remove" and len(rest) == 2:
            return c.plugin_remove(rest[0], int(rest[1]))
        if action == "bypass" and len(rest) == 3 and rest[2] in ("on", "off"):
            return c.plugin_bypass(rest[0], int(rest[1]), rest[2] == "on")
        if action == "move" and len(rest) == 3:
            return c.plugin_move(rest[0], int(rest[1]), int(rest[2]))
        raise ValueError(PLUGIN_USAGE)

    def _denoise(self, args: list[str]) -> str:
        if not args or args[0] != "learn" or len(args) > 2:
            raise ValueError("usage: denoise learn [SECONDS]")
        return self.controls.learn_noise(float(args[1]) if len(args) > 1 else None)

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
