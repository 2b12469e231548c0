"""Offline render: the live block function in a loop over a file.

The engine runs at the file's own rate and channel count; the worker is stepped inline
after every chunk, so the result equals a live run whose worker is never late.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dsp.io.audio import Audio, check_output, read_audio, write_audio
from engine.engine import Engine
from engine.errors import UsageError
from engine.inserts import make_insert
from engine.session.setup import build_engine, insert_for, with_plugins
from presets.schema import Preset

DEFAULT_SEED = 0  # offline renders repeat exactly: the model insert's randomness is seeded


def render_array(x: np.ndarray, sample_rate_hz: int, params: dict[str, float] | None = None,
                 blocksize: int = 128, insert: str = "reverb",
                 preset: Preset | None = None,
                 model_path: Path | None = None,
                 rave_backend: str = "auto",
                 transcribe: bool = False, references: Sequence[Path] = (),
                 match: Path | None = None, seed: int | None = DEFAULT_SEED,
                 denoise: bool = False, align: bool = False, plugins: Sequence[str] = (),
                 lenient: bool = False, force: bool = False) -> tuple[np.ndarray, Engine]:
    """Render ``x (frames, channels)`` through the engine; returns the output and engine.

    ``preset`` brings its macro assignments and LFO routes too; ``params`` override values.
    ``transcribe`` runs the note transcriber (``engine.read_voice_notes()`` after).
    ``references``/``match``: audio for the model insert's style blend and match (``force``
    reads them over the duration limit, as ``--force`` does the input).
    ``seed``: the model insert's randomness (None: unseeded, as live). ``align``: the output
    lines up with the input (the delay every path shares, the master limiter's lookahead and
    the noise reduction's window, is run out past the end and removed from the start);
    without it, the output is the engine's timeline, as live (the voice and master plugin
    slots' reported latency is compensated too; the worker slot's is the worker path's).
    ``plugins``: ``SLOT:URI|PATH`` specs after the preset's own chains; ``lenient`` drops a
    preset's plugin that is not installed, with a warning.
    """
    channels = x.shape[1]
    if channels > 2:
        raise UsageError(f"{channels} channels: only mono and stereo are supported")
    preset = with_plugins(preset, list(plugins))
    engine = build_engine(sample_rate_hz, channels, channels,
                          make_insert(insert_for(insert, preset), sample_rate_hz, model_path,
                                      rave_backend, references=references, match=match,
                                      seed=seed, force=force),
                          preset, params, denoise=denoise, lenient=lenient)
    engine.enable_transcription(transcribe)
    delay = (engine.chain_latency_frames + engine.denoise_latency_frames
             + engine.rack.latency_frames("voice") + engine.rack.latency_frames("master")
             if align else 0)
    if delay:
        x = np.concatenate([x, np.zeros((delay, channels), x.dtype)])
    y = np.zeros_like(x)
    try:
        for start in range(0, x.shape[0], blocksize):
            engine.process(x[start: start + blocksize], y[start: start + blocksize])
    finally:
        engine.close_plugins()
    return y[delay:], engine


def render_file(src: Path, dst: Path, preset: Preset | None, blocksize: int = 128,
                float_output: bool = False, force: bool = False, insert: str = "reverb",
                model_path: Path | None = None, rave_backend: str = "auto",
                references: Sequence[Path] = (), match: Path | None = None,
                seed: int | None = DEFAULT_SEED, denoise: bool = False,
                plugins: Sequence[str] = (), lenient: bool = False) -> tuple[Engine, Audio]:
    """Render ``src`` to ``dst`` (WAV or FLAC); nothing is left at ``dst`` on failure.
    Returns the engine (its stats) and the decoded input."""
    subtype = check_output(dst, [src], float_output)
    if not 1 <= blocksize <= 65536:
        raise UsageError(f"--blocksize {blocksize} must be within 1..65536")
    audio = read_audio(src, force)
    y, engine = render_array(audio.samples, audio.rate_hz, None, blocksize, insert, preset,
                             model_path, rave_backend, references=references, match=match,
                             seed=seed, denoise=denoise, align=True, plugins=plugins,
                             lenient=lenient, force=force)
    write_audio(dst, y, audio.rate_hz, subtype)
    return engine, audio
