"""Beatbox-hit-to-drum latency of ``musicmill run``, measured live under JACK.

A probe client (PortAudio's JACK host API, under its own JACK client name) plays beatbox
hits into the engine's input ports and records the engine's output ports, with every
connection made by ``jack_connect`` after PortAudio's automatic ones to ``system`` are
removed. Output and input share one frame counter in the probe's callback, so a hit's
position in the recording, minus its position in what was played, is the loop's latency
in samples (independent of wall-clock time and of how late any callback ran).

The loop carries more than the engine: a graph with a feedback connection (the engine's
output back into the probe) delivers it one JACK cycle later. A calibration pass first
connects the probe's output straight to its own inputs (the same one-feedback-edge cycle
structure) and measures that loop with the same onset detector; the engine's latency is
the engine loop minus the calibration loop. The engine runs the trigger path alone: a
preset (written to a temporary data folder) with the registry defaults, the trigger on,
every stem but the drums silent and no macros, and ``--insert none``. Drum decays are
short so that each drum has rung out (below the onset threshold) before the next hit;
decay does not move a drum's onset.

The same hit train is rendered offline through the same block function
(:func:`engine.offline.render.render_array`) with the same parameters, so the live figures sit
next to the offline ones hit by hit.

JACK tells every client when a cycle was missed (an xrun); PortAudio passes that on as
the next callback's status flags, which the probe notes by frame. A missed cycle is the
host's (a stalled VM, a busy core) and can move what a loop returns by one cycle, so a hit
with an xrun near it is measured again in another pass (:func:`play_passes`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine import jack

EXAMPLE_HITS = Path(__file__).resolve().parents[2] / "docs/examples/beatbox.wav"
FIRST_SOUND = 1e-4  # -80 dBFS: the offline trigger-path test's "first sound" threshold
HIT_PRE_S = 0.02  # kept before each detected hit (the trigger's onset can be a little late)
HIT_S = 0.3  # longest hit cut from the file, pre-roll included
SLOT_S = 0.5  # one hit per slot: the short-decay drum rings out within it
LEAD_S = 0.5  # silence before the first hit
DRUM_DECAY = 0.25  # the registry's shortest decay, for every drum voice
ENGINE_START_TIMEOUT_S = 120.0  # a cold Numba cache compiles the callback first
PROBE_INPUTS = 2  # PortAudio's JACK `system` device offers as many ports as `system` has
XRUN_SETTLE_S = 0.1  # JACK reports an xrun on the next cycle: wait a few before counting
HIT_WATCH_S = 0.02  # after a hit's onset: its drum (or its loop) is heard within this
XRUN_NOTICE_S = 0.05  # JACK's xrun notice reaches a client's next callbacks within this


@dataclass
class HitTrain:
    """Hits in slots of silence: the mono ``signal`` and each hit's first-sound frame."""

    signal: np.ndarray
    onsets_frames: np.ndarray
    slot_frames: int


def cut_hits(audio: np.ndarray, sample_rate_hz: int) -> list[np.ndarray]:
    """The hits the live trigger finds in ``audio`` (mono), each cut out with a pre-roll.

    A cut ends at HIT_S or where the next hit's pre-roll begins, whichever is first.
    """
    from dsp import beatbox
    from models.beatbox.classifier import load_weights

    events, _ = beatbox.detect(audio, sample_rate_hz, load_weights())
    onsets = [int(h[beatbox.EV_ONSET]) for h in beatbox.resolve_hits(events)[0]]
    pre, longest = round(HIT_PRE_S * sample_rate_hz), round(HIT_S * sample_rate_hz)
    stops = [*onsets[1:], audio.size + pre]
    return [audio[max(o - pre, 0): min(o - pre + longest, nxt - pre)].copy()
            for o, nxt in zip(onsets, stops, strict=True)]


def hit_train(hits: list[np.ndarray], sample_rate_hz: int, repeats: int = 1) -> HitTrain:
    """``hits`` (played ``repeats`` times) one per SLOT_S, after LEAD_S, then one silent slot."""
    slot, lead = round(SLOT_S * sample_rate_hz), round(LEAD_S * sample_rate_hz)
    played = hits * repeats
    signal = np.zeros(lead + slot * (len(played) + 1), np.float32)
    onsets = []
    for k, hit in enumerate(played):
        start, hit = lead + k * slot, hit[:slot]
        signal[start: start + hit.size] = hit
        onsets.append(first_sound(signal, start, start + slot))
    if None in onsets:
        raise ValueError("a hit never rises above the first-sound threshold")
    return HitTrain(signal, np.array(onsets, dtype=np.int64), slot)


def first_sound(y: np.ndarray, start: int, stop: int) -> int | None:
    """First frame in [start, stop) where any channel of ``y`` exceeds FIRST_SOUND, or None."""
    seg = np.abs(y[start:stop])
    if seg.ndim == 1:
        seg = seg[:, None]  # mono as one channel; an empty range stays (0, channels)
    loud = np.flatnonzero(seg.max(axis=1) > FIRST_SOUND)
    return None if loud.size == 0 else start + int(loud[0])


def onset_delays_frames(train: HitTrain, recording: np.ndarray) -> list[int | None]:
    """Per hit, frames from its onset in ``train`` to the first sound after it in
    ``recording`` (searched up to the next slot), or None where nothing sounded."""
    delays = []
    for onset in train.onsets_frames:
        heard = first_sound(recording, int(onset), int(onset) + train.slot_frames)
        delays.append(None if heard is None else heard - int(onset))
    return delays


# -- JACK ports and connections ---------------------------------------------------------------

def wire(pairs: list[tuple[str, str]], clients: tuple[str, ...]) -> None:
    """Connect ``pairs`` (source, destination) and check that they are all ``clients`` have."""
    for src, dst in pairs:
        subprocess.run(["jack_connect", src, dst], check=True, capture_output=True)
    ours = {(src, dst) for src, peers in jack.connections().items() for dst in peers
            if any(p.startswith(f"{c}:") for p in (src, dst) for c in clients)}
    # jack_lsp lists a connection under both its ports: keep one direction of each
    wanted = set(pairs) | {(dst, src) for src, dst in pairs}
    if ours != wanted:
        raise RuntimeError(f"JACK connections {sorted(ours)} are not {sorted(wanted)}")


# -- the probe client -------------------------------------------------------------------------

class Probe:
    """A JACK client that plays a mono signal on ``out_0`` and records ``in_0``/``in_1``.

    The callback writes and reads at the same frame counter, which starts when a pass is
    armed (``play``), so the recording's frames line up with the signal's. The stream has
    no fixed block size: PortAudio then hands the callback JACK's own port buffers, where
    a fixed size (even JACK's) makes it buffer one block between input and output.
    """

    def __init__(self, name: str, sample_rate_hz: int) -> None:
        import sounddevice as sd

        jack.name_portaudio_client(name)
        self.name = name
        self.frames_per_cycle = 0
        self.status_flags = 0  # cycles PortAudio flagged: JACK signalled an xrun before them
        self._flagged: list[int] = []  # pass frame of each flagged callback while armed
        self._signal = np.zeros(0, np.float32)
        self._recording = np.zeros((0, PROBE_INPUTS), np.float32)
        self._pos = 0
        self._armed = False
        self._done = threading.Event()
        self._stream = sd.Stream(device="system", samplerate=sample_rate_hz,
                                 blocksize=0, channels=(PROBE_INPUTS, 1),
                                 dtype="float32", latency="low", callback=self._callback)
        self._stream.start()
        self.inputs = [f"{name}:in_{i}" for i in range(PROBE_INPUTS)]
        self.output = f"{name}:out_0"

    def _callback(self, indata, outdata, frames, _time, status) -> None:
        self.frames_per_cycle = frames
        self.status_flags += bool(status)
        outdata.fill(0.0)
        if not self._armed:
            return
        if status:
            self._flagged.append(self._pos)
        n = min(frames, self._signal.size - self._pos)
        outdata[:n, 0] = self._signal[self._pos: self._pos + n]
        self._recording[self._pos: self._pos + n] = indata[:n]
        self._pos += n
        if self._pos >= self._signal.size:
            self._armed = False
            self._done.set()

    def play(self, signal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Play ``signal`` once; what came back on the inputs, frame-aligned, and the pass
        frames at which JACK signalled an xrun (the frame of the next callback; one after
        the pass counts at the pass's end)."""
        self._signal = signal
        self._recording = np.zeros((signal.size, PROBE_INPUTS), np.float32)
        self._pos = 0
        self._flagged = []
        self._done.clear()
        self._armed = True  # the next callback starts the pass
        if not self._done.wait(signal.size / self._stream.samplerate + 10.0):
            raise RuntimeError("the JACK server stopped calling the probe")
        flagged_at_end = self.status_flags
        time.sleep(XRUN_SETTLE_S)
        late = [signal.size] * (self.status_flags - flagged_at_end)
        return self._recording, np.array(self._flagged + late, dtype=np.int64)

    def close(self) -> None:
        self._stream.close()


# -- the engine under test --------------------------------------------------------------------

def trigger_only_params() -> dict[str, float]:
    """The trigger path alone: drums stem only (the offline test's settings), short decays."""
    from presets.registry import DRUM_VOICES

    return {"beatbox_trigger": 1.0, "stem_dry_gain_db": -80.0, "stem_worker_gain_db": -80.0,
            "stem_sampler_gain_db": -80.0,
            **{f"drum_{v}_decay": DRUM_DECAY for v in DRUM_VOICES}}


def _write_preset(data_dir: Path, name: str) -> None:
    # A user preset rather than --set on a factory one: every stem level, decay and the
    # trigger in one document, with no factory macro assignments or LFO routes.
    from presets.schema import Preset
    from presets.store import PresetStore

    PresetStore(data_dir / "presets").save(
        Preset(name=name, description="trigger path alone", params=trigger_only_params()))


class EngineProcess:
    """``musicmill run`` (trigger path alone) as its own process and named JACK client."""

    PRESET = "trigger-latency"

    def __init__(self, client: str, sample_rate_hz: int, blocksize_frames: int,
                 work_dir: Path) -> None:
        self.client = client
        data_dir = work_dir / "data"
        _write_preset(data_dir, self.PRESET)
        self._stats = work_dir / "stats.json"
        run_args = ["run", "--headless", "--jack-name", client, "--no-connect",
                    "--insert", "none", "--preset", self.PRESET,
                    "--samplerate", str(sample_rate_hz), "--blocksize", str(blocksize_frames),
                    "--stats-json", str(self._stats), "--no-jack-autostart"]
        env = {**os.environ, "MUSICMILL_DATA_DIR": str(data_dir)}
        self._proc = subprocess.Popen([sys.executable, "-m", "engine.cli", *run_args],
                                      stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, env=env)

    def wait_started(self) -> None:
        """Wait until the audio stream runs: run writes its first stats a second after
        starting it, and PortAudio has made its own connections by then."""
        deadline = time.monotonic() + ENGINE_START_TIMEOUT_S
        while not self._stats.exists():
            if self._proc.poll() is not None:
                raise RuntimeError(f"musicmill run exited: {self._proc.stderr.read()[-500:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("musicmill run did not start its audio stream")
            time.sleep(0.1)

    def running_stats(self) -> dict:
        """run's latest stats, written while the stream is open (the final ones are not)."""
        return json.loads(self._stats.read_text())

    def stop(self) -> None:
        """SIGTERM (run's own clean stop); RuntimeError if run did not exit cleanly."""
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
        try:
            _, err = self._proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            _, err = self._proc.communicate()
        if self._proc.returncode != 0:
            raise RuntimeError(f"musicmill run failed ({self._proc.returncode}): {err[-500:]}")


# -- the measurement --------------------------------------------------------------------------

def _ms(frames: float, sample_rate_hz: int) -> float:
    return round(1e3 * frames / sample_rate_hz, 3)


def _summary_ms(frames: list[int], sample_rate_hz: int) -> dict:
    if not frames:
        return {"median_ms": None, "min_ms": None, "max_ms": None}
    return {"median_ms": _ms(float(np.median(frames)), sample_rate_hz),
            "min_ms": _ms(min(frames), sample_rate_hz), "max_ms": _ms(max(frames), sample_rate_hz)}


def undisturbed_hits(train: HitTrain, xrun_frames: np.ndarray, cycle_frames: int,
                     sample_rate_hz: int) -> np.ndarray:
    """Per hit, True when no xrun was signalled near it: from one cycle before its onset to
    HIT_WATCH_S + XRUN_NOTICE_S after (a flag arrives after the xrun it reports)."""
    start = train.onsets_frames - cycle_frames
    stop = train.onsets_frames + round((HIT_WATCH_S + XRUN_NOTICE_S) * sample_rate_hz)
    near = (xrun_frames[None, :] >= start[:, None]) & (xrun_frames[None, :] < stop[:, None])
    return ~near.any(axis=1)


@dataclass
class Passes:
    """Per hit, the recording of the first pass in which no xrun came near it."""

    recordings: list[np.ndarray | None]
    xruns_per_pass: list[int]
    hits_taken_per_pass: list[int]

    def missing(self) -> int:
        """Hits not yet taken from an undisturbed pass."""
        return sum(r is None for r in self.recordings)

    def as_dict(self) -> dict:
        return {"xruns_per_pass": self.xruns_per_pass,
                "hits_taken_per_pass": self.hits_taken_per_pass,
                "hits_never_undisturbed": self.missing()}


def play_passes(probe: Probe, train: HitTrain, max_passes: int, sample_rate_hz: int) -> Passes:
    """Play ``train`` until every hit had a pass without an xrun near it (or ``max_passes``).

    A cycle JACK missed (an xrun: the VM stalled a client or the server) can move what a
    hit's loop returns by a cycle; that is the host's stall, not the loop's latency, so such
    a hit is measured again in the next pass.
    """
    taken = Passes([None] * train.onsets_frames.size, [], [])
    while len(taken.xruns_per_pass) < max_passes and taken.missing():
        recording, xrun_frames = probe.play(train.signal)
        clean = undisturbed_hits(train, xrun_frames, probe.frames_per_cycle, sample_rate_hz)
        new = [k for k, ok in enumerate(clean) if ok and taken.recordings[k] is None]
        for k in new:
            taken.recordings[k] = recording
        taken.xruns_per_pass.append(int(xrun_frames.size))
        taken.hits_taken_per_pass.append(len(new))
    return taken


def hit_delays_frames(train: HitTrain, passes: Passes) -> list[int | None]:
    """Per hit, the delay in the recording it was taken from (None: never undisturbed, or
    nothing sounded)."""
    delays = []
    for k, recording in enumerate(passes.recordings):
        one = HitTrain(train.signal, train.onsets_frames[k: k + 1], train.slot_frames)
        delays.append(None if recording is None else onset_delays_frames(one, recording)[0])
    return delays


def _calibrate(probe: Probe, train: HitTrain, max_passes: int, sample_rate_hz: int) -> dict:
    """The probe's own loop: out_0 straight into both inputs, same detector as the engine's.

    Bit-exact means each hit came back unchanged over its watched span."""
    jack.isolate(probe.name)
    wire([(probe.output, p) for p in probe.inputs], (probe.name,))
    passes = play_passes(probe, train, max_passes, sample_rate_hz)
    delays = hit_delays_frames(train, passes)
    if None in delays or len(set(delays)) != 1:
        raise RuntimeError(f"the probe's own loop is not one fixed delay: {delays} "
                           f"({passes.as_dict()})")
    loop = delays[0]
    span = round(HIT_WATCH_S * sample_rate_hz)
    exact = all(np.array_equal(rec[o + loop: o + loop + span, c], train.signal[o: o + span])
                for o, rec in zip(train.onsets_frames, passes.recordings, strict=True)
                for c in range(PROBE_INPUTS))
    return {"loop_frames": loop, "bit_exact": exact, **passes.as_dict()}


def _connect_engine(probe: Probe, engine: EngineProcess) -> None:
    """Probe out_0 into both engine inputs, engine out_0/out_1 into probe in_0/in_1."""
    engine.wait_started()
    for client in (probe.name, engine.client):
        jack.isolate(client)
    engine_ports = jack.client_ports(engine.client)
    ins = [p for p in engine_ports if ":in_" in p]
    outs = [p for p in engine_ports if ":out_" in p]
    if len(ins) != 2 or len(outs) != 2:
        raise RuntimeError(f"musicmill run should be stereo in and out: {engine_ports}")
    wire([(probe.output, p) for p in ins] + list(zip(outs, probe.inputs, strict=True)),
         (probe.name, engine.client))


def _offline_delays(train: HitTrain, sample_rate_hz: int, blocksize_frames: int) -> list:
    """The same train through the offline render driver (stereo, like the live run)."""
    from engine.offline.render import render_array

    x = np.repeat(train.signal[:, None], 2, axis=1)
    y, _ = render_array(x, sample_rate_hz, trigger_only_params(), blocksize_frames,
                        insert="none")
    return onset_delays_frames(train, y)


def measure(hits_path: Path = EXAMPLE_HITS, repeats: int = 2, sample_rate_hz: int = 48000,
            blocksize_frames: int = 128, max_passes: int = 8, force: bool = False) -> dict:
    """Play the hits in ``hits_path`` through ``musicmill run`` under JACK; JSON-ready result.

    Starts a JACK dummy server when none runs. Per hit, ``engine_latency_frames`` is the
    engine loop minus the calibrated probe loop (None where no drum sounded) and
    ``offline_latency_frames`` the same hit through the offline render. Each hit is taken
    from the first pass in which JACK signalled no xrun near it (:func:`play_passes`), in
    at most ``max_passes`` passes. ``force``: a hits file over the duration limit is read.
    """
    from dsp.io.audio import read_audio

    if max_passes < 1:
        raise ValueError("max_passes must be at least 1")
    decoded = read_audio(hits_path, force)
    audio, rate = decoded.samples, decoded.rate_hz
    if rate != sample_rate_hz:
        raise ValueError(f"{hits_path}: {rate} Hz, the measurement runs at {sample_rate_hz} Hz")
    hits = cut_hits(audio.mean(axis=1), rate)
    train = hit_train(hits, rate, repeats)
    server = None
    if not jack.server_running():
        server = jack.start_dummy(sample_rate_hz, blocksize_frames)
    try:
        live = _measure_live(train, sample_rate_hz, blocksize_frames, max_passes)
    finally:
        if server is not None:
            jack.stop_server(server)
    offline = _offline_delays(train, sample_rate_hz, blocksize_frames)
    return _report(live, offline, len(hits), repeats, sample_rate_hz, blocksize_frames)


def _measure_live(train: HitTrain, sample_rate_hz: int, blocksize_frames: int,
                  max_passes: int) -> dict:
    tag = os.getpid()
    probe = Probe(f"mm_probe_{tag}", sample_rate_hz)
    try:
        calibration = _calibrate(probe, train, max_passes, sample_rate_hz)
        with tempfile.TemporaryDirectory(prefix="mm_trigger_latency_") as tmp:
            engine = EngineProcess(f"mm_engine_{tag}", sample_rate_hz, blocksize_frames,
                                   Path(tmp))
            try:
                _connect_engine(probe, engine)
                passes = play_passes(probe, train, max_passes, sample_rate_hz)
                engine_stats = engine.running_stats()
            finally:
                engine.stop()
    finally:
        probe.close()
    loops = hit_delays_frames(train, passes)
    latency = [None if d is None else d - calibration["loop_frames"] for d in loops]
    return {"calibration": calibration, "engine_latency_frames": latency,
            "passes": passes.as_dict(),
            "jack_frames_per_cycle": probe.frames_per_cycle,
            "probe_status_flags": probe.status_flags, "engine_stats": engine_stats}


def _report(live: dict, offline: list, n_hits: int, repeats: int, sample_rate_hz: int,
            blocksize_frames: int) -> dict:
    latency = live["engine_latency_frames"]
    heard = [f for f in latency if f is not None]
    stats = live["engine_stats"]
    return {
        "sample_rate_hz": sample_rate_hz, "blocksize_frames": blocksize_frames,
        "jack_frames_per_cycle": live["jack_frames_per_cycle"],
        "hits_in_file": n_hits, "repeats": repeats,
        "passes": live["passes"],
        "hits_played": len(latency), "drums_heard": len(heard),
        "calibration": live["calibration"],
        "engine_latency_frames": latency,
        "engine_latency": _summary_ms(heard, sample_rate_hz),
        "offline_latency_frames": offline,
        "offline_latency": _summary_ms([f for f in offline if f is not None], sample_rate_hz),
        "live_minus_offline_frames": sorted({a - b for a, b in zip(latency, offline, strict=True)
                                             if a is not None and b is not None}),
        "probe_status_flags": live["probe_status_flags"],
        "engine_late_blocks": stats["late_blocks"],
        "engine_portaudio_latency_ms": {k: round(stats["latency"][k], 3) for k in
                                        ("portaudio_input_ms", "portaudio_output_ms")},
    }
