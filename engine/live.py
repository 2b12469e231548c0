"""``musicmill run`` without the argument parsing: open devices, run, report."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from engine import graph, jack
from engine.atomic_file import atomic_path
from engine.engine import Engine
from engine.errors import UsageError
from engine.inserts import make_insert
from engine.settings import build_engine
from engine.stream import LiveStream
from presets.schema import Preset

WARMUP_S = 1.0
STATS_WRITE_INTERVAL_S = 1.0


@dataclass
class LiveOptions:
    """Everything ``musicmill run`` can be told."""

    preset: Preset | None = None
    seconds: float | None = None
    input_device: str | int | None = None
    output_device: str | int | None = None
    samplerate: int = 48000
    blocksize: int = 128
    insert: str = "drums"  # engine.inserts.DEFAULT_INSERT: the shipped drum model
    model: Path | None = None
    bank: Path | None = None  # a sample bank directory for the sampler voice
    rave_backend: str = "auto"
    references: list[Path] = field(default_factory=list)  # style references for the model
    match: Path | None = None  # the model's match reference
    stats_json: Path | None = None
    record: Path | None = None
    record_input: Path | None = None
    jack_autostart: bool = True
    quiet: bool = False
    midi_in: str | None = None  # a port name, "virtual", or None for no MIDI
    midi_backend: str = "auto"
    midi_map: Path | None = None
    midi_out: str | None = None  # a port name, "virtual", or None for no MIDI out
    clock_out: bool = False  # send MIDI clock (at tempo_bpm) on the MIDI output
    send_notes: bool = False  # transcribe the input and send its notes on the MIDI output
    notes_channel: int = 0  # MIDI channel (0-15) of the transcribed notes
    morph_ms: float = 500.0  # program changes glide to the new preset over this long
    gui: bool = False  # open the window (gui/app.py) when a display is there


def _device_arg(text: str | None) -> str | int | None:
    if text is None:
        return None
    return int(text) if text.isdigit() else text


def ensure_audio_device(autostart: bool, samplerate: int, blocksize: int):
    """Return a JACK process we started if PortAudio had no output device, else None."""
    import sounddevice as sd

    if any(d["max_output_channels"] > 0 for d in sd.query_devices()):
        return None
    if not autostart:
        raise UsageError("no audio output device found (and --no-jack-autostart was given)")
    try:
        proc = jack.start_dummy(samplerate, blocksize)
    except RuntimeError as exc:
        raise UsageError(f"no audio output device, and no JACK dummy server: {exc}") from None
    jack.rescan_portaudio()
    print("musicmill: no audio hardware: started a JACK dummy server (silent, but real-time)",
          file=sys.stderr)
    return proc


def _channels(device, kind: str) -> int:
    import sounddevice as sd

    try:
        info = sd.query_devices(device, kind)
    except ValueError as exc:
        raise UsageError(f"{kind} device {device!r}: {exc}") from None
    return min(2, int(info[f"max_{kind}_channels"]))


def _write_json(path: Path, data: dict) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _meter_line(snap: dict, meters) -> str:
    import math

    def db(x: float) -> str:
        return f"{20 * math.log10(x):6.1f}" if x > 1e-6 else "  -inf"

    peak_in = max(meters[graph.M_IN_PEAK_L], meters[graph.M_IN_PEAK_R])
    peak_out = max(meters[graph.M_OUT_PEAK_L], meters[graph.M_OUT_PEAK_R])
    return (f"in {db(peak_in)} dB  out {db(peak_out)} dB  "
            f"cb max {snap['callback_max_ms']:.3f} ms  late {snap['late_blocks']}  "
            f"underruns {snap['worker_underruns']}  cpu {100 * snap.get('cpu_load', 0):.1f}%")


def run_live(opts: LiveOptions) -> dict:
    """Run the live engine until ``opts.seconds`` pass or SIGINT/SIGTERM; return final stats."""
    jack_proc = ensure_audio_device(opts.jack_autostart, opts.samplerate, opts.blocksize)
    try:
        return _run(opts)
    finally:
        if jack_proc is not None:
            jack.stop_server(jack_proc)


def _run(opts: LiveOptions) -> dict:
    in_dev = _device_arg(opts.input_device)
    out_dev = _device_arg(opts.output_device)
    out_ch = _channels(out_dev, "output")
    try:
        in_ch = _channels(in_dev, "input")
    except UsageError:
        if in_dev is not None:
            raise
        in_ch = 0  # no input device at all: run output-only rather than refuse
    processor = make_insert(opts.insert, opts.samplerate, opts.model, opts.rave_backend,
                            references=opts.references, match=opts.match)
    bank = kit = None
    if opts.bank is not None:
        from engine.bank.pack import kit_map, load_for_engine

        bank = load_for_engine(opts.bank, opts.samplerate)
        kit = kit_map(opts.bank)
    engine = build_engine(opts.samplerate, in_ch, out_ch, processor, opts.preset,
                          blocksize=opts.blocksize, bank=bank, kit_map=kit)
    if opts.preset is not None and opts.preset.pattern_memory:
        from engine.console import load_preset_pattern

        note = load_preset_pattern(processor if hasattr(processor, "set_pattern") else None,
                                   opts.preset)
        if note:
            print(f"musicmill: preset {opts.preset.name}{note}", file=sys.stderr)
    if opts.record is not None:
        engine.enable_recording(opts.record, opts.record_input)
    if opts.send_notes:
        engine.enable_transcription()

    midi = _start_midi(opts, engine)
    midi_out = _start_midi_out(opts, engine)
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        stream = LiveStream(engine, in_dev, out_dev)
        stream.start()
    except Exception as exc:
        for s, h in previous.items():
            signal.signal(s, h)
        raise UsageError(f"could not start audio: {exc}") from None
    from engine.console import Console

    console = Console(engine, opts.insert, opts.rave_backend, opts.references, opts.match,
                      on_quit=stop.set)
    if sys.stdin is not None and not sys.stdin.closed:
        if sys.stdin.isatty():
            # A backgrounded job reading its terminal would be stopped (SIGTTIN), audio and
            # all; ignored, the read fails instead and the console waits for the foreground.
            signal.signal(signal.SIGTTIN, signal.SIG_IGN)
        console.start(sys.stdin, sys.stdout)
    t0 = time.monotonic()
    warm = None
    last_write = 0.0

    def tick() -> bool:
        """Four times a second: meters, stats file, preset glides; False to stop."""
        nonlocal warm, last_write
        elapsed = time.monotonic() - t0
        snap = stream.snapshot()
        if warm is None and elapsed >= WARMUP_S:
            warm = snap
        if not opts.quiet and sys.stderr.isatty():
            print("\r" + _meter_line(snap, engine.meters), end="", file=sys.stderr, flush=True)
        if opts.stats_json and elapsed - last_write >= STATS_WRITE_INTERVAL_S:
            _write_json(opts.stats_json, _with_warmup(snap, warm))
            last_write = elapsed
        engine.finish_recall()
        return not stop.is_set() and (opts.seconds is None or elapsed < opts.seconds)

    gui_stats = None
    try:
        go_on = True
        if opts.gui:
            try:
                gui_stats = _run_window(engine, console, midi, opts.midi_map, stream, tick)
                go_on = False  # the window was closed, or tick said stop
            except Exception as exc:  # noqa: BLE001 -- the audio must outlive the window
                print(f"\nmusicmill: the window failed ({type(exc).__name__}: {exc}); "
                      "playing on in the terminal", file=sys.stderr)
        while go_on and not stop.wait(0.25) and tick():
            pass
        snap = stream.snapshot()
    finally:
        stream.stop()
        if midi is not None:
            midi.stop()
        if midi_out is not None:
            midi_out.stop()
            midi_out.output.close()
        for s, h in previous.items():
            signal.signal(s, h)
    snap = _with_warmup(stream.snapshot() | {"cpu_load": snap.get("cpu_load", 0.0)}, warm)
    snap["seconds"] = time.monotonic() - t0
    if gui_stats is not None:
        snap["gui"] = gui_stats
    if midi is not None:
        d = midi.dispatcher
        snap["midi"] = {"messages": d.messages, "parameter_sets": d.sets,
                        "arrival_to_target_us": d.stats.snapshot()}
    if midi_out is not None:
        snap["midi_out"] = {"notes_sent": midi_out.sent}
        if midi_out.voice is not None:
            snap["midi_out"]["voice_notes_sent"] = midi_out.voice.sent
    if opts.stats_json:
        _write_json(opts.stats_json, snap)
    if not opts.quiet:
        print(file=sys.stderr)
    return snap


def _run_window(engine: Engine, console, midi, map_path: Path | None, stream: LiveStream,
                tick) -> dict:
    """The GUI on this (the main) thread until it is closed or ``tick`` says stop; returns
    its frame counts (``App.stats``)."""
    from gui.app import App
    from gui.controller import Controller

    app = App(Controller(engine, console, midi.dispatcher if midi is not None else None,
                         map_path, snapshot=stream.snapshot))
    try:
        app.open()
        app.run(tick)
    finally:
        app.close()
    return app.stats()


def _start_midi(opts: LiveOptions, engine: Engine):
    """The MIDI thread: mappings to parameters, program change to presets, clock to tempo."""
    if opts.midi_in is None:
        return None
    from midi.clock import ClockIn
    from midi.dispatcher import MidiDispatcher
    from midi.gm_drums import GM_DRUM_CHANNEL, GM_DRUM_NOTES
    from midi.learn import Learner
    from midi.mapping import MappingTable
    from midi.thread import MidiThread
    from presets.apply import apply_preset
    from presets.factory_presets import FACTORY_NAMES, load_factory
    from presets.registry import DRUM_VOICES

    try:
        table = MappingTable.load(opts.midi_map) if opts.midi_map else MappingTable()
    except (OSError, ValueError) as exc:
        raise UsageError(f"{opts.midi_map}: {exc}") from None

    def recall(bank: int, program: int) -> None:
        # program numbers walk the factory presets in order: Calm, Balanced, Intense, Chaotic
        name = FACTORY_NAMES[program % len(FACTORY_NAMES)]
        apply_preset(engine, load_factory(name), morph_ms=opts.morph_ms)

    def note(channel: int, number: int, velocity: int, on: bool) -> None:
        # With a sample bank, channel 10 (GM percussion) plays the drums and every other
        # channel the sampler; without one, GM drum notes on any channel play the drums
        # (pads send on many channels).
        if engine.bank_slices and channel != GM_DRUM_CHANNEL:
            engine.note(number, velocity / 127.0 if on else 0.0)
            return
        name = GM_DRUM_NOTES.get(number)
        if on and velocity > 0 and name is not None:
            engine.trigger_drum(DRUM_VOICES.index(name), velocity / 127.0)

    # learn only acts while the GUI has armed it (until then it passes everything on)
    dispatcher = MidiDispatcher(engine.params, table, learner=Learner(table), clock=ClockIn(),
                                on_program=recall, on_note=note)
    virtual = opts.midi_in == "virtual"
    try:
        return MidiThread(dispatcher, None if virtual else opts.midi_in,
                          virtual="in" if virtual else None,
                          backend=_midi_backend(opts)).start()
    except OSError as exc:
        raise UsageError(f"MIDI input {opts.midi_in!r}: {exc}") from None


def _midi_backend(opts: LiveOptions) -> str:
    # resolved after the audio device is up: "auto" picks JACK when a server runs, and
    # run may just have started the dummy one
    from engine.commands.midi import resolve_backend_flag

    return resolve_backend_flag(opts.midi_backend)


def _start_midi_out(opts: LiveOptions, engine: Engine):
    """The MIDI-out thread (beatbox hits as drum notes, the transcribed voice's notes,
    optional clock), or None."""
    if opts.midi_out is None:
        return None
    from midi.hits_out import HitsToMidi
    from midi.output import MidiOutput
    from midi.ports import open_output
    from midi.voice_out import VoiceToMidi

    virtual = opts.midi_out == "virtual"
    try:
        port = open_output("out" if virtual else opts.midi_out, virtual=virtual,
                           backend=_midi_backend(opts))
    except OSError as exc:
        raise UsageError(f"MIDI output {opts.midi_out!r}: {exc}") from None
    output = MidiOutput(port, channels=(opts.notes_channel,))
    voice = None
    if opts.send_notes:
        output.notes.send_bend_range()  # so the receiver reads our bends as we mean them
        voice = VoiceToMidi(output.notes)
    return HitsToMidi(engine, output, clock=opts.clock_out, voice=voice).start()


def _with_warmup(snap: dict, warm: dict | None) -> dict:
    """Add counts since the end of the warm-up second (start-up glitches excluded)."""
    base = warm or snap
    snap = dict(snap)
    snap["late_blocks_after_warmup"] = snap["late_blocks"] - base["late_blocks"]
    snap["worker_underruns_after_warmup"] = snap["worker_underruns"] - base["worker_underruns"]
    for key in ("over_budget_blocks", "over_budget_cpu_blocks"):
        snap[f"{key}_after_warmup"] = snap[key] - base[key]
    return snap
