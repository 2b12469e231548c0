"""The neural transcriber, streaming: audio in, note events out, as the worker runs it.

:class:`NeuralStream` chains a low-latency resampler to 12 kHz
(:class:`LowLatencyResampler`), the front end
(:mod:`models.continuo.frontend`), the per-layer cached ONNX graph (one thread, every
layer's context an explicit state carried by :class:`~models.rave.onnx_stream.OnnxStream`)
and the streaming decoder (:mod:`models.continuo.decoder`, its thresholds tuned per
instrument: :func:`decoder_settings`). ``push`` takes audio blocks of
any length and returns the events decided; nothing looks ahead. :func:`transcribe_file`
runs a whole signal through the same stream, so a file gives the notes a performer would
have sent live (the graph takes up to ``CHUNK`` frames per call offline, which computes the
same numbers as one at a time).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.continuo.decoder import Event, decoder_for
from models.continuo.frontend import FLOOR, N_FEATURES, RATE_HZ, StreamingFrontEnd, level_db
from models.continuo.layout import INSTRUMENT_NAMES, SHIPPED

CHUNK = 64
LIVE_BLOCK_S = 128 / 48000
SILENT_FRAMES = 140  # the states after this many silent frames: a stream's start


def instrument_index(name: str) -> int:
    if name not in INSTRUMENT_NAMES:
        raise ValueError(f"unknown instrument {name!r}: choose one of "
                         f"{', '.join(INSTRUMENT_NAMES)}")
    return INSTRUMENT_NAMES.index(name)


class LowLatencyResampler:
    """Any rate to 12 kHz with under a millisecond of delay, block by block.

    soxr's streaming resamplers hold back 21 ms (LQ) to 43 ms (MQ, HQ) of input for their
    linear-phase filters: on top of the network's own wait, that alone would spend the
    note-on latency budget. Here a causal 8th-order Butterworth low-pass at 5 kHz (its
    group delay below 4 kHz is well under a millisecond at 48 kHz) keeps what would fold
    back out, and soxr's cubic interpolation (``QQ``: no look-ahead) takes the new rate.
    """

    CUTOFF_HZ = 5000.0

    def __init__(self, rate_hz: float) -> None:
        import soxr
        from scipy import signal

        self._signal = signal
        self.sos = (signal.butter(8, self.CUTOFF_HZ, fs=rate_hz, output="sos")
                    if rate_hz > 2.2 * self.CUTOFF_HZ else None)
        self.zi = None if self.sos is None else np.zeros((self.sos.shape[0], 2))
        self.stream = soxr.ResampleStream(rate_hz, RATE_HZ, 1, dtype="float32", quality="QQ")

    def __call__(self, x: np.ndarray, last: bool = False) -> np.ndarray:
        if self.sos is not None and x.size:
            y, self.zi = self._signal.sosfilt(self.sos, x, zi=self.zi)
            x = y.astype(np.float32)
        return self.stream.resample_chunk(x, last=last)


def decoder_settings(model: Path | str, instrument: str) -> dict:
    """The decoder thresholds tuned for ``instrument`` (``MODEL.decoder.json`` beside the
    model, written by :mod:`models.continuo.tune`); the decoder's defaults without one."""
    path = Path(model).with_suffix(".decoder.json")
    if not path.is_file():
        return {}
    tuned = json.loads(path.read_text(encoding="utf-8")).get(instrument, {})
    return {k: v for k, v in tuned.items() if k.endswith("_threshold")}


class NeuralStream:
    """Audio at ``sample_rate_hz`` (mono blocks) to :class:`Event` lists."""

    def __init__(self, sample_rate_hz: float, instrument: str = "auto",
                 model: Path | str = SHIPPED, threads: int = 1, **decoder) -> None:
        from models.rave.onnx_stream import OnnxStream

        self.sample_rate_hz = float(sample_rate_hz)
        self.instrument = instrument
        self.one_hot = np.zeros((1, len(INSTRUMENT_NAMES), 1), np.float32)
        self.one_hot[0, instrument_index(instrument), 0] = 1.0
        self.graph = OnnxStream(model, threads)
        self.frontend = StreamingFrontEnd()
        self.decoder = decoder_for(instrument, **{**decoder_settings(model, instrument),
                                                  **decoder})
        silence = np.full((1, N_FEATURES, SILENT_FRAMES), np.log(FLOOR), np.float32)
        self.graph(features=silence, instrument=self.one_hot)
        self.start_states = self.graph.states
        self.reset()

    def reset(self) -> None:
        """Back to a silent start (between takes, after a model swap)."""
        self.graph.states = self.start_states
        self.frontend.reset()
        self.resampler = (None if self.sample_rate_hz == RATE_HZ else
                          LowLatencyResampler(self.sample_rate_hz))
        self.decoder.reset()
        self.input_frames = 0

    def heads(self, frames: np.ndarray) -> np.ndarray:
        """Activated heads (T, 4 * 88) for feature frames (T, N_FEATURES), states carried."""
        out = self.graph(features=np.ascontiguousarray(frames.T[None]), instrument=self.one_hot)
        return out[0].T

    def push(self, block: np.ndarray, last: bool = False) -> list[Event]:
        """Feed mono ``block`` (any length); the events decided on the frames it completed
        (``last``: the input ends here, flush the resampler and end every note)."""
        x = np.asarray(block, np.float32).reshape(-1)
        self.input_frames += x.size
        self.decoder.clock_s = self.input_frames / self.sample_rate_hz
        if self.resampler is not None:
            x = self.resampler(x, last)
        frames = self.frontend.push(x)
        levels = level_db(frames)
        events: list[Event] = []
        for s in range(0, frames.shape[0], CHUNK):
            for row, db in zip(self.heads(frames[s: s + CHUNK]), levels[s: s + CHUNK],
                               strict=True):
                events += self.decoder.step(row, db)
        if last:
            events += self.decoder.flush()
        return events


@dataclass
class NeuralTranscription:
    notes: list
    decision_s: list[float]


def transcribe_file(x: np.ndarray, sample_rate_hz: float, instrument: str = "auto",
                    block: int | None = None, **decoder) -> NeuralTranscription:
    """Notes of ``x`` ((n,) or (n, channels), summed to mono) streamed block by block
    (``block`` frames; default the live callback's 128 frames at 48 kHz, so the note-on
    decision times are a live run's)."""
    block = block or max(1, round(sample_rate_hz * LIVE_BLOCK_S))
    x = np.asarray(x, np.float32)
    if x.ndim not in (1, 2) or x.shape[0] == 0:
        raise ValueError(f"need a non-empty (frames,) or (frames, channels) signal, got "
                         f"shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("the signal holds NaN or infinite samples")
    mono = x if x.ndim == 1 else x.mean(axis=1)
    stream = NeuralStream(sample_rate_hz, instrument, **decoder)
    for s in range(0, mono.size, block):
        stream.push(mono[s: s + block], last=s + block >= mono.size)
    return NeuralTranscription(*stream.decoder.notes())
