"""``musicmill run``: the live engine, and the one place that opens the window."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from engine.commands.options import (
    DEFAULT_PRESET,
    add_denoise_arg,
    add_insert_args,
    add_plugin_args,
    add_set_arg,
    add_style_arg,
    check_insert_args,
    refuse_without,
)
from engine.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run the live engine")
    p.add_argument("--headless", action="store_true",
                   help="no window: terminal meters and the typed console only (the "
                        "default when there is no display)")
    p.add_argument("--seconds", type=float, help="stop after this many seconds")
    p.add_argument("--input", help="input device name or index")
    p.add_argument("--output", help="output device name or index")
    p.add_argument("--samplerate", type=int, default=48000,
                   help="sample rate of the audio stream, Hz (default 48000)")
    p.add_argument("--blocksize", type=int, default=128,
                   help="audio block length, frames (default 128)")
    p.add_argument("--preset", default=DEFAULT_PRESET,
                   help=f"factory or user preset (default {DEFAULT_PRESET})")
    add_set_arg(p)
    add_style_arg(p)
    add_insert_args(p)
    add_denoise_arg(p)
    add_plugin_args(p)
    p.add_argument("--bank", type=Path, metavar="DIR",
                   help="sample bank (from `musicmill samples build`) for the sampler voice")
    p.add_argument("--stats-json", type=Path, help="write stats here (every second and at exit)")
    p.add_argument("--record", type=Path, help="record the output to this WAV or FLAC file")
    p.add_argument("--record-input", type=Path,
                   help="record the raw input here (beside --record, or alone)")
    p.add_argument("--midi-in", metavar="PORT",
                   help="MIDI input port name, or 'virtual' to create one")
    p.add_argument("--midi-backend", choices=("auto", "jack", "alsa"), default="auto",
                   help="MIDI ports of jack, alsa, or auto (default: jack when a JACK "
                        "server runs, else alsa)")
    p.add_argument("--midi-map", type=Path, help="MIDI mapping file (JSON) to load (with "
                   "--midi-in)")
    p.add_argument("--midi-wait", action="store_true",
                   help="wait quietly for a --midi-in port that is not there yet (without "
                   "it, a missing port is a warning)")
    p.add_argument("--midi-out", metavar="PORT",
                   help="send beatbox hits as GM drum notes to this port ('virtual' creates one)")
    p.add_argument("--clock-out", action="store_true",
                   help="also send MIDI clock at the engine tempo on --midi-out")
    p.add_argument("--send-notes", action="store_true",
                   help="transcribe the input (voice) and send its notes, with pitch bend, "
                        "on --midi-out")
    p.add_argument("--instrument", metavar="NAME",
                   choices=("voice", "piano", "guitar", "violin", "flute", "auto"),
                   help="with --send-notes: the neural transcriber on the worker, told what "
                   "plays (voice, piano, guitar, violin, flute, auto); polyphonic ones send "
                   "on MPE channels 2-16. Without it: the zero-latency voice kernel")
    p.add_argument("--record-notes", type=Path, metavar="FILE.cont",
                   help="with --send-notes: also write the notes, with their pitch curves, "
                   "as a Continuo document when the run ends")
    p.add_argument("--notes-channel", type=int, default=1, metavar="1-16",
                   help="MIDI channel of the transcribed notes (default 1)")
    p.add_argument("--jack-name", default="musicmill", metavar="NAME",
                   help="name of the JACK client (default musicmill)")
    p.add_argument("--no-connect", action="store_true",
                   help="leave the JACK connections to you (default: the system ports)")
    p.add_argument("--no-jack-autostart", action="store_true",
                   help="fail instead of starting a JACK dummy server when there is no device")
    p.add_argument("--force", action="store_true",
                   help="read style and reference files over 30 minutes")
    p.set_defaults(func=run)


def _window_possible() -> bool:
    """A display to open the window on, and DearPyGui installed; says why not."""
    import sys

    from gui.display import display_available

    if not display_available():
        print("musicmill: no display: running without the window (terminal meters, typed "
              "console)", file=sys.stderr)
        return False
    try:
        import dearpygui  # noqa: F401
    except ImportError:
        print("musicmill: DearPyGui is not installed (pip install 'musicmill[gui]'): running "
              "without the window", file=sys.stderr)
        return False
    return True


def open_window(controls, snapshot: Callable[[], dict]):
    """The window (``gui``) built and drawn once, before the audio starts; its ``run(tick)``
    draws on this thread until it is closed or ``tick`` says stop and returns its frame
    statistics."""
    from gui.app import App
    from gui.controller import Controller

    class _Window:
        def __init__(self) -> None:
            self.app = App(Controller(controls, snapshot=snapshot))
            try:
                self.app.open()
                for _ in range(3):  # first frames pay the fonts and the renderer's set-up
                    self.app.frame()
            except BaseException:
                self.app.close()
                raise

        def run(self, tick: Callable[[], bool]) -> dict:
            try:
                self.app.run(tick)
            finally:
                self.app.close()
            return self.app.stats()

        def close(self) -> None:
            self.app.close()

    return _Window()


def _check_dependent_options(args: argparse.Namespace) -> None:
    """Options that act through another one are refused without it, with what is needed."""
    if args.midi_out is None:
        refuse_without("--midi-out PORT (or --midi-out virtual)",
                       [("--clock-out", args.clock_out), ("--send-notes", args.send_notes)])
    if args.midi_in is None:
        refuse_without("--midi-in PORT (or --midi-in virtual)",
                       [("--midi-map", args.midi_map is not None),
                        ("--midi-wait", args.midi_wait)])
    if not args.send_notes:
        refuse_without("--send-notes (and --midi-out)",
                       [("--instrument", args.instrument is not None),
                        ("--record-notes", args.record_notes is not None)])
    check_insert_args(args)
    if args.record_notes is not None:
        from dsp.io.atomic import check_target

        check_target(args.record_notes, [], (".cont",))
    if args.midi_map is not None and not args.midi_map.is_file():
        raise UsageError(f"{args.midi_map}: no such mapping file")
    from dsp.io.atomic import check_target

    for path in (args.record, args.record_input):
        if path is not None:
            check_target(path, (), (".wav", ".flac"))
    if args.stats_json is not None:
        check_target(args.stats_json, (), (".json",))


def run(args: argparse.Namespace) -> int:
    from engine.session.live import LiveOptions, run_live
    from engine.session.setup import resolve_preset

    _check_dependent_options(args)
    if not 1 <= args.notes_channel <= 16:
        raise UsageError(f"--notes-channel {args.notes_channel}: must be 1-16")
    window = open_window if not args.headless and _window_possible() else None
    opts = LiveOptions(window=window,
        preset=resolve_preset(args.preset, args.assignments, args.style, args.force),
        seconds=args.seconds,
        input_device=args.input, output_device=args.output, samplerate=args.samplerate,
        blocksize=args.blocksize, insert=args.insert, model=args.model,
        rave_backend=args.rave_backend, references=args.reference, match=args.match,
        force=args.force,
        bank=args.bank, stats_json=args.stats_json,
        record=args.record, record_input=args.record_input,
        jack_autostart=not args.no_jack_autostart, midi_in=args.midi_in,
        midi_backend=args.midi_backend, midi_map=args.midi_map, midi_out=args.midi_out,
        clock_out=args.clock_out, send_notes=args.send_notes, record_notes=args.record_notes,
        instrument=args.instrument,
        notes_channel=args.notes_channel - 1, jack_name=args.jack_name,
        connect=not args.no_connect, denoise=args.denoise, midi_wait=args.midi_wait,
        plugins=args.plugins, lenient=args.lenient)
    snap = run_live(opts)
    summary = {k: snap[k] for k in ("seconds", "blocks", "late_blocks", "late_blocks_after_warmup",
                                    "worker_underruns", "callback_max_ms", "callback_p99_ms",
                                    "block_budget_ms", "cpu_load")}
    summary["latency"] = snap["latency"]
    print(json.dumps(summary, indent=2))
    return 0
