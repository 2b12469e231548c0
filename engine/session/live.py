"""``musicmill run`` without the argument parsing: open devices, run, report.

The live session wires every writer to the one control API (``engine.session.controls``):
the typed console on stdin, the MIDI thread, and the window, which the command hands in
(``LiveOptions.window``) so that only the run command imports the GUI.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsp.io.atomic import atomic_path
from dsp.units import gain_to_db
from engine import jack, layout
from engine.engine import Engine
from engine.errors import UsageError
from engine.inserts import DEFAULT_INSERT, make_insert
from engine.session.console import Console
from engine.session.controls import Controls
from engine.session.setup import build_engine, insert_for, with_plugins
from engine.stream import LiveStream
from presets.registry import REGISTRY
from presets.schema import Preset

WARMUP_S = 1.0
STATS_WRITE_INTERVAL_S = 1.0
TICK_S = 0.25

# The window: called on the main thread with the controls, the counters source and the
# tick (False: stop); returns its own frame statistics once closed.
# The window, in two steps: ``open(controls, snapshot)`` builds it and draws its first
# frames (before the audio starts: building a DearPyGui window holds the GIL for tens of
# milliseconds, which the model's worker thread would wait out as underruns), and the
# handle's ``run(tick)`` draws until closed or ``tick`` says stop, returning its stats.
Window = Callable[[Controls, Callable[[], dict]], Any]


@dataclass
class LiveOptions:
    """Everything ``musicmill run`` can be told."""

    preset: Preset | None = None
    seconds: float | None = None
    input_device: str | int | None = None
    output_device: str | int | None = None
    samplerate: int = 48000
    blocksize: int = 128
    insert: str = DEFAULT_INSERT  # the shipped drum model
    model: Path | None = None
    bank: Path | None = None  # a sample bank directory for the sampler voice
    rave_backend: str = "auto"
    references: list[Path] = field(default_factory=list)  # style references for the model
    match: Path | None = None  # the model's match reference
    force: bool = False  # read reference files over the duration limit (--force)
    stats_json: Path | None = None
    record: Path | None = None
    record_input: Path | None = None
    record_notes: Path | None = None  # the transcribed notes as a Continuo document
    jack_autostart: bool = True
    quiet: bool = False
    midi_in: str | None = None  # a port name, "virtual", or None for no MIDI
    midi_backend: str = "auto"
    midi_map: Path | None = None
    midi_out: str | None = None  # a port name, "virtual", or None for no MIDI out
    clock_out: bool = False  # send MIDI clock (at tempo_bpm) on the MIDI output
    send_notes: bool = False  # transcribe the input and send its notes on the MIDI output
    # None: the zero-latency voice kernel in the callback; a name: the neural transcriber
    # on the worker, told what plays (voice, piano, guitar, violin, flute, auto)
    instrument: str | None = None
    notes_channel: int = 0  # MIDI channel (0-15) of the transcribed notes
    morph_ms: float = 500.0  # program changes glide to the new preset over this long
    window: Window | None = None  # the window to open (the run command passes gui's)
    jack_name: str = "musicmill"  # our JACK client's name, as patchbays show it
    connect: bool = True  # let PortAudio connect our JACK ports to the system ports
    denoise: bool = False  # spectral noise reduction in the input strip (adds 8 ms)
    midi_wait: bool = False  # a missing --midi-in port is awaited quietly, not warned about
    plugins: list[str] = field(default_factory=list)  # --plugin SLOT:URI|PATH, in order
    lenient: bool = False  # a preset's plugin that cannot load is dropped with a warning


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


def _device_arg(text: str | None) -> str | int | None:
    if text is None:
        return None
    return int(text) if text.isdigit() else text


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
    def db(x: float) -> str:
        return f"{gain_to_db(x):6.1f}" if x > 1e-6 else "  -inf"

    peak_in = max(meters[layout.M_IN_PEAK_L], meters[layout.M_IN_PEAK_R])
    peak_out = max(meters[layout.M_OUT_PEAK_L], meters[layout.M_OUT_PEAK_R])
    return (f"in {db(peak_in)} dB  out {db(peak_out)} dB  "
            f"cb max {snap['callback_max_ms']:.3f} ms  late {snap['late_blocks']}  "
            f"underruns {snap['worker_underruns']}  cpu {100 * snap.get('cpu_load', 0):.1f}%")


def run_live(opts: LiveOptions) -> dict:
    """Run the live engine until ``opts.seconds`` pass or SIGINT/SIGTERM; return final stats."""
    _check_plugins(opts)
    jack_proc = ensure_audio_device(opts.jack_autostart, opts.samplerate, opts.blocksize)
    try:
        return _run(opts)
    finally:
        if jack_proc is not None:
            jack.stop_server(jack_proc)


def _check_plugins(opts: LiveOptions) -> None:
    """A plugin that cannot be hosted is refused before any device or server is opened."""
    preset = with_plugins(opts.preset, opts.plugins)
    if preset is not None and preset.plugins:
        from engine.plugins.rack import check_chains

        check_chains(preset.plugins, insert_for(opts.insert, preset) != "none", opts.lenient)


def _open_engine(opts: LiveOptions) -> tuple[Engine, Controls, str | int | None,
                                             str | int | None]:
    """The engine on the devices' channels, settled on the preset, and its controls."""
    in_dev, out_dev = _device_arg(opts.input_device), _device_arg(opts.output_device)
    out_ch = _channels(out_dev, "output")
    try:
        in_ch = _channels(in_dev, "input")
    except UsageError:
        if in_dev is not None:
            raise
        in_ch = 0  # no input device at all: run output-only rather than refuse
    preset = with_plugins(opts.preset, opts.plugins)
    processor = make_insert(insert_for(opts.insert, preset), opts.samplerate, opts.model,
                            opts.rave_backend, references=opts.references, match=opts.match,
                            force=opts.force)
    bank = kit = None
    if opts.bank is not None:
        from models.samplebank.pack import kit_map, load_for_engine

        bank = load_for_engine(opts.bank, opts.samplerate)
        kit = kit_map(opts.bank)
    engine = build_engine(opts.samplerate, in_ch, out_ch, processor, preset,
                          blocksize=opts.blocksize, bank=bank, kit_map=kit, denoise=opts.denoise,
                          lenient=opts.lenient)
    controls = Controls(engine, opts.insert, opts.rave_backend, opts.references, opts.match,
                        morph_ms=opts.morph_ms)
    if opts.preset is not None:
        controls.preset_name = opts.preset.name
        controls.preset_values = engine.params.target[: len(REGISTRY)].copy()
        note = controls.give_pattern(opts.preset)
        if note:
            print(f"musicmill: preset {opts.preset.name}{note}", file=sys.stderr)
    if opts.record is not None or opts.record_input is not None:
        engine.enable_recording(opts.record, opts.record_input)
    if opts.send_notes and opts.instrument is None:
        engine.enable_transcription()
    return engine, controls, in_dev, out_dev


def _start_neural(opts: LiveOptions, engine: Engine):
    """The neural transcriber listening on the worker, or None (see neural_notes.py)."""
    if not opts.send_notes or opts.instrument is None:
        return None
    if engine.worker is None:
        raise UsageError("--instrument runs the transcriber on the worker thread: choose an "
                         "--insert other than none")
    from engine.session.neural_notes import NeuralNotes

    neural = NeuralNotes(engine.sample_rate_hz, opts.instrument)
    engine.worker.listen = neural.feed
    return neural


def _start_console(controls: Controls, stop: threading.Event) -> None:
    console = Console(controls, on_quit=stop.set)
    if sys.stdin is None or sys.stdin.closed:
        return
    if sys.stdin.isatty():
        # A backgrounded job reading its terminal would be stopped (SIGTTIN), audio and
        # all; ignored, the read fails instead and the console waits for the foreground.
        signal.signal(signal.SIGTTIN, signal.SIG_IGN)
    console.start(sys.stdin, sys.stdout)


def _run(opts: LiveOptions) -> dict:
    engine, controls, in_dev, out_dev = _open_engine(opts)
    midi = _start_midi(opts, controls)
    neural = _start_neural(opts, engine)
    controls.neural = neural  # the window shows what it hears and picks the instrument
    recorder = None
    if opts.record_notes is not None:
        from engine.session.notes_record import NotesRecorder

        recorder = neural if neural is not None else NotesRecorder(engine.sample_rate_hz)
    midi_out = _start_midi_out(opts, engine, recorder, neural)
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    counters = {"source": engine.snapshot}  # the stream's, once it runs
    window = _open_window(opts.window, controls, lambda: counters["source"]())
    try:
        stream = _open_stream(opts, engine, in_dev, out_dev)
    except Exception as exc:
        for s, h in previous.items():
            signal.signal(s, h)
        if window is not None:
            window.close()
        raise UsageError(f"could not start audio: {exc}") from None
    counters["source"] = stream.snapshot
    _start_console(controls, stop)
    ticker = _Ticker(opts, engine, stream, stop)
    gui_stats = None
    try:
        if window is not None:
            gui_stats = _run_window(window, ticker)
        while gui_stats is None and not stop.wait(TICK_S) and ticker():
            pass
        last = stream.snapshot()
    finally:
        stream.stop()
        engine.close_plugins()
        if midi is not None:
            midi.stop()
        if midi_out is not None:
            midi_out.stop()
            midi_out.output.close()
        for s, h in previous.items():
            signal.signal(s, h)
    return _final_stats(opts, stream, last, ticker, gui_stats, midi, midi_out, recorder)


def _open_stream(opts: LiveOptions, engine: Engine, in_dev, out_dev) -> LiveStream:
    """The running stream, its JACK client named ``opts.jack_name``; with ``connect`` off,
    the connections PortAudio makes to the system ports are removed at once."""
    jack.name_portaudio_client(opts.jack_name)
    before = set(jack.connections()) if not opts.connect else set()
    stream = LiveStream(engine, in_dev, out_dev)
    stream.start()
    if not opts.connect:
        # ours are the ports that appeared (JACK renames a second "musicmill" client)
        jack.disconnect(sorted(set(jack.connections()) - before))
    return stream


class _Ticker:
    """Four times a second: meters on the terminal, the stats file, preset glides landing;
    returns False once it is time to stop."""

    def __init__(self, opts: LiveOptions, engine: Engine, stream: LiveStream,
                 stop: threading.Event) -> None:
        self.opts, self.engine, self.stream, self.stop = opts, engine, stream, stop
        self.t0 = time.monotonic()
        self.warm: dict | None = None
        self._last_write = 0.0

    def __call__(self) -> bool:
        opts = self.opts
        elapsed = time.monotonic() - self.t0
        snap = self.stream.snapshot()
        if self.warm is None and elapsed >= WARMUP_S:
            self.warm = snap
        if not opts.quiet and sys.stderr.isatty():
            print("\r" + _meter_line(snap, self.engine.meters), end="", file=sys.stderr,
                  flush=True)
        if opts.stats_json and elapsed - self._last_write >= STATS_WRITE_INTERVAL_S:
            _write_json(opts.stats_json, _with_warmup(snap, self.warm))
            self._last_write = elapsed
        self.engine.finish_recall()
        return not self.stop.is_set() and (opts.seconds is None or elapsed < opts.seconds)


def _open_window(window: Window | None, controls: Controls, snapshot) -> Any:
    """The window built and drawn once, or None (none asked for, or it failed: the audio
    plays on in the terminal)."""
    if window is None:
        return None
    try:
        return window(controls, snapshot)
    except Exception as exc:  # noqa: BLE001 -- the audio must outlive the window
        print(f"musicmill: the window failed ({type(exc).__name__}: {exc}); "
              "playing on in the terminal", file=sys.stderr)
        return None


def _run_window(window, tick) -> dict | None:
    """The window on this (the main) thread until it is closed or ``tick`` says stop; its
    frame counts, or None when it failed (the audio plays on in the terminal)."""
    try:
        return window.run(tick)
    except Exception as exc:  # noqa: BLE001 -- the audio must outlive the window
        print(f"\nmusicmill: the window failed ({type(exc).__name__}: {exc}); "
              "playing on in the terminal", file=sys.stderr)
        return None


def _final_stats(opts: LiveOptions, stream: LiveStream, last: dict, ticker: _Ticker,
                 gui_stats: dict | None, midi, midi_out, recorder=None) -> dict:
    snap = _with_warmup(stream.snapshot() | {"cpu_load": last.get("cpu_load", 0.0)},
                        ticker.warm)
    snap["seconds"] = time.monotonic() - ticker.t0
    if gui_stats is not None:
        snap["gui"] = gui_stats
    if midi is not None:
        d = midi.dispatcher
        snap["midi"] = {"port": midi.port_name, "connected": midi.connected,
                        "messages": d.messages, "parameter_sets": d.sets,
                        "arrival_to_target_us": d.stats.snapshot()}
    if midi_out is not None:
        snap["midi_out"] = {"notes_sent": midi_out.sent}
        sender = midi_out.voice or midi_out.neural
        if sender is not None:
            snap["midi_out"]["voice_notes_sent"] = sender.sent
    if recorder is not None:
        snap["notes_recorded"] = recorder.save(opts.record_notes)
        print(f"musicmill: {snap['notes_recorded']} notes written to {opts.record_notes}",
              file=sys.stderr)
    if opts.stats_json:
        _write_json(opts.stats_json, snap)
    if not opts.quiet:
        print(file=sys.stderr)
    return snap


def _start_midi(opts: LiveOptions, controls: Controls):
    """The MIDI thread: mappings to parameters, program change to presets, clock to tempo,
    notes to drums and the sampler, all through ``controls``."""
    if opts.midi_in is None:
        return None
    from midi.clock import ClockIn
    from midi.dispatcher import MidiDispatcher
    from midi.learn import Learner
    from midi.mapping import MappingTable
    from midi.thread import MidiThread

    table = MappingTable.load(opts.midi_map) if opts.midi_map else MappingTable()
    # learn only acts while the window has armed it (until then it passes everything on)
    dispatcher = MidiDispatcher(controls, table, learner=Learner(table), clock=ClockIn(),
                                on_program=controls.program_change, on_note=controls.note)
    controls.dispatcher, controls.map_path = dispatcher, opts.midi_map
    virtual = opts.midi_in == "virtual"
    try:
        thread = MidiThread(dispatcher, None if virtual else opts.midi_in,
                            virtual="in" if virtual else None,
                            backend=_midi_backend(opts)).start()
    except OSError as exc:
        raise UsageError(f"MIDI input {opts.midi_in!r}: {exc}") from None
    if not thread.connected and not opts.midi_wait:
        print(f"musicmill: warning: no MIDI input port matches {opts.midi_in!r} (see "
              "`musicmill midi ports`); playing on, and connecting if it appears "
              "(--midi-wait waits quietly)", file=sys.stderr)
    return thread


def _midi_backend(opts: LiveOptions) -> str:
    # resolved after the audio device is up: "auto" picks JACK when a server runs, and
    # run may just have started the dummy one
    return jack.midi_backend(opts.midi_backend)


def _start_midi_out(opts: LiveOptions, engine: Engine, recorder=None, neural=None):
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
    # a polyphonic instrument's notes each take a channel of the MPE lower zone (2-16), so
    # one note's bend never moves another; a monophonic line stays on --notes-channel
    mpe = neural is not None and neural.polyphonic
    output = MidiOutput(port, channels=tuple(range(1, 16)) if mpe else (opts.notes_channel,))
    voice = sender = None
    if opts.send_notes:
        output.notes.send_bend_range()  # so the receiver reads our bends as we mean them
    if neural is not None:
        from midi.neural_out import NeuralToMidi

        sender = NeuralToMidi(output.notes, neural.drain)
    elif opts.send_notes:
        voice = VoiceToMidi(output.notes, recorder.forward if recorder is not None else None)
    return HitsToMidi(engine, output, clock=opts.clock_out, voice=voice, neural=sender).start()


def _with_warmup(snap: dict, warm: dict | None) -> dict:
    """Add counts since the end of the warm-up second (start-up glitches excluded)."""
    base = warm or snap
    snap = dict(snap)
    snap["late_blocks_after_warmup"] = snap["late_blocks"] - base["late_blocks"]
    snap["worker_underruns_after_warmup"] = snap["worker_underruns"] - base["worker_underruns"]
    for key in ("over_budget_blocks", "over_budget_cpu_blocks"):
        snap[f"{key}_after_warmup"] = snap[key] - base[key]
    return snap
