"""The engine object: owns every array the callback touches, the worker and the recorder.

Python code (CLI, GUI, MIDI, presets) talks to this object; the callback only ever sees
the arrays through the pointer table, so nothing here is on the real-time path.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from dsp import beatbox, sampler, transcriber
from engine import block, kernels, layout, ring
from engine.errors import UsageError
from engine.layout import HIST_BIN_NS, HIST_BINS
from engine.memory import resident_zeros
from engine.modulation import Modulation
from engine.params import ParameterStore
from engine.plugins.rack import Rack
from engine.recorder import Recorder
from engine.table import make_table
from engine.worker import Processor, Worker, warm_up
from presets.registry import DRUM_VOICES, param, slot_of

RECORD_RING_SECONDS = 4.0
SCOPE_RING_FRAMES = 16384
# Latency model hot-swaps may add to the worker path in all: a 4096-sample block at
# 44.1 kHz is 4458 frames at 48 kHz, swapped in after a 256-frame model it needs 4202.
SWAP_HEADROOM_FRAMES = 8192


def _push_pair(events: tuple[np.ndarray, np.ndarray], a: float, b: float) -> bool:
    """Write one (a, b) event into a 2-channel control ring; False if it is full."""
    return ring.write(*events, np.array([[a], [b]], dtype=np.float32), 0, 1) == 1


def _drain(events: tuple[np.ndarray, np.ndarray], buffer: np.ndarray) -> np.ndarray:
    """Everything waiting in an event ring (callback -> one reader thread), as
    ``(k, channels)`` rows; ``buffer (channels, capacity)`` is the reader's scratch."""
    k = ring.read(*events, buffer, 0, buffer.shape[1])
    return buffer[:, :k].T.copy()


class Engine:
    """One engine instance at a fixed sample rate and channel layout."""

    def __init__(self, sample_rate_hz: int, in_channels: int = 2, out_channels: int = 2,
                 processor: Processor | None = None, headroom_frames: int | None = None,
                 blocksize: int = 128, input_strip: bool = True, master_bus: bool = True,
                 params: dict[str, float] | None = None,
                 bank: tuple[np.ndarray, np.ndarray] | None = None,
                 kit_map: np.ndarray | None = None, denoise: bool = False) -> None:
        if not 0 <= in_channels <= 2 or not 1 <= out_channels <= 2:
            raise ValueError("only mono and stereo are supported, "
                             f"got {in_channels} in / {out_channels} out")
        self.sample_rate_hz = int(sample_rate_hz)
        self.blocksize = blocksize
        self.params = ParameterStore(sample_rate_hz)
        for key, value in (params or {}).items():
            self.params.set(key, value)
        self.params.jump_to_targets()
        self.modulation = Modulation(sample_rate_hz)
        self._pending_recall: np.ndarray | None = None
        self._recall_lock = threading.RLock()
        self.effective = self.params.target.copy()
        # kernels start settled at the initial parameters: no glide at the first block
        # the sampler's bank: audio (1, frames) float32 at this rate and its slice table
        bank_audio, bank_table = bank if bank is not None else sampler.empty_bank()
        # the pointer table holds this array's address: the attribute keeps it alive
        self.bank_audio = np.ascontiguousarray(bank_audio, dtype=np.float32)
        self.bank_slices = int(bank_table.shape[0])
        # kit_map: per drum voice, the bank slice its hits play (-1: the synth voice)
        self.dsp_blob, self.dsp_offsets = kernels.prepare(sample_rate_hz, self.params.current,
                                                        bank_table, kit_map)
        self.bus = resident_zeros((layout.N_ROWS, layout.MAX_BLOCK_FRAMES), np.float32)
        self.config = np.zeros(layout.CONFIG_LEN, dtype=np.int64)
        self.config[layout.C_IN_CH] = in_channels
        self.config[layout.C_OUT_CH] = out_channels
        self.config[layout.C_STRIP_ON] = input_strip
        self.config[layout.C_MASTER_ON] = master_bus
        # the noise reduction delays the whole input strip: chosen at start, reported
        self.config[layout.C_DENOISE_ON] = denoise and input_strip
        self.denoise_latency_frames = kernels.denoise_latency_frames(
            self.dsp_blob, self.dsp_offsets) if denoise and input_strip else 0
        self.chain_latency_frames = kernels.latency_frames(self.dsp_blob, self.dsp_offsets) \
            if master_bus else 0
        self.state = layout.new_state(sample_rate_hz)
        self.stats = layout.new_stats()
        self.meters = np.zeros(layout.METERS_LEN, dtype=np.float64)
        self.hist = resident_zeros(HIST_BINS, np.int64)
        self.clock = np.zeros(4, dtype=np.int64)  # two timespecs: wall clock, thread CPU
        self.recorder: Recorder | None = None
        self._make_worker_path(processor, headroom_frames, blocksize)
        self.rack = Rack(self)
        if self.worker is not None:
            self.worker.post = self.rack.run_worker  # the worker plugin slot
        self._make_event_rings()
        self._build_table()

    def _make_worker_path(self, processor: Processor | None, headroom_frames: int | None,
                          blocksize: int) -> None:
        """The send and return rings, the worker, and the path's fixed latency."""
        self.worker: Worker | None = None
        self.worker_latency_frames = 0
        self._swap_padded = 0  # frames hot-swaps have added to the worker path
        if processor is None:
            self.send_ring, self.return_ring = ring.make_ring(2, 1), ring.make_ring(2, 1)
            return
        w = processor.block_frames
        # The worker gets a whole block period to answer, and never less than two
        # callback blocks, or a callback block would always find the ring short. (One
        # callback block was tried for the drum model, whose block takes ~0.3 ms: the
        # worker's worst case, ~4 ms when the machine is busy, then underran live.)
        headroom = headroom_frames if headroom_frames is not None else max(w, 2 * blocksize)
        self.worker_latency_frames = w + headroom
        self.send_ring = ring.make_ring(2, 4 * w + 2 * layout.MAX_BLOCK_FRAMES)
        # SWAP_HEADROOM_FRAMES: room for the silence a hot-swapped slower model adds
        self.return_ring = ring.make_ring(2, self.worker_latency_frames + 4 * w
                                          + 2 * layout.MAX_BLOCK_FRAMES + SWAP_HEADROOM_FRAMES)
        ring.write_value(*self.return_ring, 0.0, self.worker_latency_frames)
        self._bind(processor)
        self.worker = Worker(processor, self.send_ring, self.return_ring)
        self.config[layout.C_WORKER_ACTIVE] = 1
        self.config[layout.C_WORKER_BLOCK] = w

    def _make_event_rings(self) -> None:
        self.record_ring = ring.make_ring(2, 1)
        # drum hits: (voice, velocity) pairs from one producer thread to the callback
        self.trigger_ring = ring.make_ring(2, 256)
        # sampler notes: (note, velocity) pairs, velocity 0 = note off, same single producer
        self.note_ring = ring.make_ring(2, 256)
        # beatbox trigger events out (callback -> MIDI-out thread), dsp.beatbox rows
        self.hits_ring = ring.make_ring(beatbox.EV_SIZE, 256)
        self._hits_out = np.zeros((beatbox.EV_SIZE, 256), dtype=np.float32)
        # transcribed voice notes out (callback -> MIDI-out thread), dsp.transcriber rows
        self.voice_ring = ring.make_ring(transcriber.EV_SIZE, 1024)
        self._voice_out = np.zeros((transcriber.EV_SIZE, 1024), dtype=np.float32)
        # output L, R and raw input L, R for the window's scope (written while it is open)
        self.scope_ring = ring.make_ring(4, SCOPE_RING_FRAMES)
        self._scope_out = np.zeros((4, SCOPE_RING_FRAMES), dtype=np.float32)

    def _build_table(self) -> None:
        # engine/table.py declares which of this object's arrays the callback reaches
        self.table = make_table(self)

    # -- drums -----------------------------------------------------------------------
    def trigger_drum(self, voice: int, velocity: float) -> bool:
        """Queue a drum hit for the next block (call from one thread only: the ring is SPSC)."""
        if not 0 <= voice < len(DRUM_VOICES) or not 0.0 < velocity <= 1.0:
            raise ValueError(f"drum voice {voice} / velocity {velocity} out of range "
                             f"(voice 0..{len(DRUM_VOICES) - 1}, velocity (0, 1])")
        return _push_pair(self.trigger_ring, voice, velocity)

    # -- sampler ---------------------------------------------------------------------
    def note(self, note: int, velocity: float) -> bool:
        """Queue a sampler note-on (velocity in (0, 1]) or note-off (velocity 0).

        Call from one thread only (the ring is SPSC); False if the ring is full.
        """
        if not 0 <= note <= 127 or not 0.0 <= velocity <= 1.0:
            raise ValueError(f"note {note} / velocity {velocity} out of range "
                             "(note 0..127, velocity 0..1)")
        return _push_pair(self.note_ring, note, velocity)

    def read_hits(self) -> np.ndarray:
        """Beatbox trigger events since the last call, ``(k, dsp.beatbox.EV_SIZE)`` rows.

        For one consumer thread (MIDI out). The onset column is float32: frame-exact for
        the first 6 minutes only, so use it to pair a hat's release with its hit, not to
        time anything.
        """
        return _drain(self.hits_ring, self._hits_out)

    # -- transcription -----------------------------------------------------------------
    def enable_transcription(self, on: bool = True) -> None:
        """Run the note transcriber on the raw input (``dsp.transcriber``); its events
        are read with :meth:`read_voice_notes`. Set before starting, or between blocks:
        the callback reads the switch once per block."""
        self.config[layout.C_TRANSCRIBE_ON] = int(on)

    def read_voice_notes(self) -> np.ndarray:
        """Transcriber events since the last call, ``(k, dsp.transcriber.EV_SIZE)`` rows.

        For one consumer thread (MIDI out). The position column is float32: frame-exact
        for the first 6 minutes, and the sender does not need it (events go out as they
        come)."""
        return _drain(self.voice_ring, self._voice_out)

    # -- the window's scope --------------------------------------------------------------
    def enable_scope(self, on: bool = True) -> None:
        """Let the callback copy the output and the raw input into the scope ring."""
        self.config[layout.C_SCOPE_ON] = int(on)

    def read_scope(self) -> np.ndarray:
        """Frames since the last call, ``(4, k)``: output L, R, raw input L, R (one
        reader: the window)."""
        return _drain(self.scope_ring, self._scope_out).T

    # -- presets ---------------------------------------------------------------------
    def recall(self, values: dict[str, float], morph_ms: float = 0.0) -> None:
        """Set many parameters at once, optionally gliding there over ``morph_ms``.

        Values are validated before anything changes, so a bad set leaves the engine as it
        was. A glide runs in the callback; ``finish_recall`` (or the next ``recall``) makes
        the new values the base targets once it has arrived.
        """
        # The console, MIDI and main-loop threads all recall: one at a time (never the
        # audio callback, which only reads the arrays).
        with self._recall_lock:
            new = self.params.target.copy()
            for key, value in values.items():
                new[slot_of(key)] = param(key).check(value)
            if morph_ms <= 0:
                self.modulation.disarm_morph()
                self.params.target[:] = new
                self._pending_recall = None  # an older glide must not land on top later
                return
            self.finish_recall()
            self.modulation.start_ramp(self.params.target.copy(), new, morph_ms)
            self._pending_recall = new

    def finish_recall(self) -> bool:
        """After a glide has arrived, hand the values back to the base targets."""
        with self._recall_lock:
            pending = self._pending_recall
            if pending is None or not self.modulation.ramp_done():
                return False
            # targets first, then disarm: at every moment the callback sees the new values
            self.params.target[:] = pending
            self.modulation.disarm_morph()
            self._pending_recall = None
            return True

    def _bind(self, processor: Processor) -> None:
        """Processors with registry parameters (``bind``) read them live from here on."""
        bind = getattr(processor, "bind", None)
        if bind is not None:
            bind(self.effective)

    def swap_processor(self, processor: Processor) -> int:
        """Replace the worker's processor while audio runs (a model hot-swap).

        ``processor`` must use the current worker block (``UsageError`` otherwise). It is
        bound to the live parameters and warmed up here, on the caller's thread, then
        handed to the worker between two blocks. When its natural block (a model with a
        longer compression block) needs more time to answer than the path's latency
        allows, the return path is lengthened by that much silence (at most
        ``SWAP_HEADROOM_FRAMES``); it is never shortened again, which would drop audio.
        Returns the frames added.
        """
        if self.worker is None:
            raise UsageError("there is no worker insert to swap (--insert none)")
        w = self.worker.processor.block_frames
        if processor.block_frames != w:
            raise UsageError(f"the new model must run {w}-frame worker blocks, "
                             f"not {processor.block_frames}")
        self._bind(processor)
        warm_up(processor)  # first-call costs paid here, not on the worker
        natural = int(getattr(processor, "natural_block_frames", w))
        needed = w + max(natural, 2 * self.blocksize)
        pad = max(0, needed - self.worker_latency_frames)
        if pad > SWAP_HEADROOM_FRAMES - self._swap_padded:
            raise UsageError(f"its {natural}-frame blocks need {pad} more frames of worker "
                             f"path than this engine has room for "
                             f"({SWAP_HEADROOM_FRAMES - self._swap_padded}); restart with it")
        self._swap_padded += pad
        self.worker_latency_frames += pad
        self.worker.request_swap(processor, pad)
        return pad

    # -- recording -----------------------------------------------------------------
    def enable_recording(self, path: Path | None, input_path: Path | None = None) -> None:
        """Record the output to ``path`` and the raw input to ``input_path`` (either may be
        None); call before starting."""
        channels = 4 if input_path is not None else 2
        self.record_ring = ring.make_ring(channels, int(RECORD_RING_SECONDS * self.sample_rate_hz))
        self._build_table()
        self.recorder = Recorder(self.record_ring, path, self.sample_rate_hz,
                                 int(self.config[layout.C_OUT_CH]), input_path)
        self.config[layout.C_RECORD_ON] = 1

    # -- live ------------------------------------------------------------------------
    def start_threads(self) -> None:
        """Start the worker (woken by the callback's semaphore) and the recorder."""
        if self.worker is not None:
            self.config[layout.C_SEM_ADDR] = self.worker.semaphore.address
            self.worker.start()
        if self.recorder is not None:
            self.recorder.start()

    def stop_threads(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.config[layout.C_SEM_ADDR] = 0
        if self.recorder is not None:
            self.recorder.stop()

    # -- offline ---------------------------------------------------------------------
    def process(self, inp: np.ndarray, out: np.ndarray) -> None:
        """Offline: run ``inp (n, in_ch)`` into ``out (n, out_ch)`` and let the worker catch up.

        The worker is stepped inline at the end of each of its blocks, so it is never late
        and reads the parameters as they were at its block's end, whatever size the chunks
        come in: the result equals a live run with a punctual worker, at any chunk size.
        """
        # run_frames trusts its arguments (it is the callback's code): check them here
        in_ch, out_ch = int(self.config[layout.C_IN_CH]), int(self.config[layout.C_OUT_CH])
        if (inp.ndim != 2 or out.ndim != 2 or inp.shape[0] != out.shape[0]
                or inp.shape[1] != in_ch or out.shape[1] != out_ch
                or inp.dtype != np.float32 or out.dtype != np.float32):
            raise ValueError(f"process needs float32 inp (n, {in_ch}) and out (n, {out_ch}), "
                             f"got {inp.dtype} {inp.shape} and {out.dtype} {out.shape}")
        if self.worker is None:
            block.run_frames(inp, out, inp.shape[0], self.table)
        else:
            w = self.worker.processor.block_frames
            done = 0
            while done < inp.shape[0]:
                n = min(inp.shape[0] - done, w - int(self.stats[layout.ST_FRAMES]) % w)
                block.run_frames(inp[done: done + n], out[done: done + n], n, self.table)
                self.worker.step()
                done += n
        if self.recorder is not None:
            while self.recorder.drain():
                pass

    # -- stats -------------------------------------------------------------------------
    def callback_time_percentile_ms(self, q: float) -> float:
        total = int(self.hist.sum())
        if total == 0:
            return 0.0
        idx = int(np.searchsorted(np.cumsum(self.hist), q * total))
        return (idx + 1) * HIST_BIN_NS / 1e6

    def snapshot(self) -> dict:
        """Every counter as plain numbers (JSON-ready)."""
        s = self.stats
        sr = self.sample_rate_hz
        min_fill = int(s[layout.ST_MIN_RETURN_FILL])
        out = {
            "sample_rate_hz": sr,
            "blocksize": self.blocksize,
            "blocks": int(s[layout.ST_BLOCKS]),
            "frames": int(s[layout.ST_FRAMES]),
            "late_blocks": int(s[layout.ST_LATE_BLOCKS]),
            "portaudio_status_flags": int(s[layout.ST_STATUS_OR]),
            "over_budget_blocks": int(s[layout.ST_OVER_BUDGET]),
            # the callback's own CPU time over the budget (preemption left out): ours to fix
            "over_budget_cpu_blocks": int(s[layout.ST_OVER_BUDGET_CPU]),
            "callback_max_ms": s[layout.ST_CALLBACK_MAX_NS] / 1e6,
            "callback_cpu_max_ms": s[layout.ST_CALLBACK_CPU_MAX_NS] / 1e6,
            "callback_p99_ms": self.callback_time_percentile_ms(0.99),
            "block_budget_ms": 1e3 * self.blocksize / sr,
            "worker_underruns": int(s[layout.ST_WORKER_UNDERRUNS]),
            "worker_underrun_frames": int(s[layout.ST_UNDERRUN_FRAMES]),
            "nonfinite_replaced": int(s[layout.ST_NONFINITE]),
            "safety_limited_blocks": int(s[layout.ST_SAFETY_BLOCKS]),
            "record_dropped_frames": int(s[layout.ST_RECORD_DROPPED]),
            "send_dropped_frames": int(s[layout.ST_SEND_DROPPED]),
            "gain_reduction_db": kernels.gain_reduction_db(self.dsp_blob, self.dsp_offsets),
            "automix": kernels.automix_readings(self.dsp_blob, self.dsp_offsets),
            "latency": {
                "block_ms": 1e3 * self.blocksize / sr,
                "master_lookahead_frames": self.chain_latency_frames,
                "input_denoise_frames": self.denoise_latency_frames,
                "input_denoise_ms": 1e3 * self.denoise_latency_frames / sr,
                "worker_ring_frames": self.worker_latency_frames,
                "worker_ring_ms": 1e3 * self.worker_latency_frames / sr,
            },
        }
        if self.worker is not None:
            p = self.worker.processor
            out["worker"] = {
                "processor": type(p).__name__,
                "block_frames": p.block_frames,
                "blocks": self.worker.blocks,
                "max_process_ms": 1e3 * self.worker.max_process_s,
                "errors": self.worker.errors,
                "realtime_priority": self.worker.realtime,
                "last_error": self.worker.last_error,
                # the least the return ring held at a callback: the measured safety margin
                "min_return_fill_frames": min_fill if min_fill < 2**62 else None,
            }
            out["latency"]["processor_delay_frames"] = p.delay_frames
            # Input to output through the worker path, inside the engine: the return ring,
            # the processor's own delay (model delay, resampling FIFOs) and the master
            # lookahead. The audio interface adds its buffers on top (``worker_path_ms`` in
            # a live stream's snapshot adds PortAudio's input + output latency).
            frames = (self.worker_latency_frames + p.delay_frames + self.chain_latency_frames
                      + self.denoise_latency_frames)
            out["latency"]["worker_engine_frames"] = frames
            out["latency"]["worker_engine_ms"] = 1e3 * frames / sr
        if self.recorder is not None:
            out["recorded_frames"] = self.recorder.frames_written
        plugins = self.rack.snapshot()
        plugins["nonfinite_blocks"] = int(s[layout.ST_PLUGIN_FAULTS]
                                          + self.rack.worker_stats[layout.ST_PLUGIN_FAULTS])
        out["plugins"] = plugins
        out["latency"]["plugin_frames"] = plugins["latency_frames"]
        return out

    def close_plugins(self) -> None:
        """Deactivate and free every plugin (after the stream and worker have stopped)."""
        self.rack.close()
