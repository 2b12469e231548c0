"""Offline render: the live block function in a loop over a file.

The engine runs at the file's own rate and channel count; the worker is stepped inline
after every chunk, so the result equals a live run whose worker is never late.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

from dsp.io.atomic import atomic_path
from dsp.io.audio import read_audio
from engine.engine import Engine
from engine.errors import UsageError
from engine.inserts import make_insert
from engine.session.setup import build_engine
from presets.schema import Preset

WARN_SECONDS = 10 * 60
REFUSE_SECONDS = 30 * 60
OUTPUT_SUBTYPES = {".wav": ("PCM_24", "FLOAT"), ".flac": ("PCM_24", None)}


def check_duration(path: Path, force: bool) -> None:
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError):
        return  # read_audio gives the precise error
    if info.duration > REFUSE_SECONDS and not force:
        raise UsageError(f"{path}: {info.duration / 60:.1f} min is over the 30 min limit; "
                         "pass --force to render it anyway")
    if info.duration > WARN_SECONDS:
        print(f"musicmill: warning: {path} is {info.duration / 60:.1f} min long", file=sys.stderr)


def render_array(x: np.ndarray, sample_rate_hz: int, params: dict[str, float] | None = None,
                 blocksize: int = 128, insert: str = "reverb",
                 preset: Preset | None = None,
                 model_path: Path | None = None,
                 rave_backend: str = "auto",
                 transcribe: bool = False, references: Sequence[Path] = (),
                 match: Path | None = None) -> tuple[np.ndarray, Engine]:
    """Render ``x (frames, channels)`` through the engine; returns the output and engine.

    ``preset`` brings its macro assignments and LFO routes too; ``params`` override values.
    ``transcribe`` runs the note transcriber (``engine.read_voice_notes()`` after).
    ``references``/``match``: audio for the model insert's style blend and match.
    """
    channels = x.shape[1]
    if channels > 2:
        raise UsageError(f"{channels} channels: only mono and stereo are supported")
    engine = build_engine(sample_rate_hz, channels, channels,
                          make_insert(insert, sample_rate_hz, model_path, rave_backend,
                                      references=references, match=match),
                          preset, params)
    engine.enable_transcription(transcribe)
    y = np.zeros_like(x)
    chunk = min(blocksize, engine.max_offline_chunk)
    for start in range(0, x.shape[0], chunk):
        engine.process(x[start: start + chunk], y[start: start + chunk])
    return y, engine


def output_subtype(dst: Path, float_output: bool) -> str:
    """The soundfile subtype to write ``dst`` with (render, mix); UsageError for an output
    path that cannot be written: not .wav/.flac, float into FLAC, no such directory."""
    suffix = dst.suffix.lower()
    if suffix not in OUTPUT_SUBTYPES:
        raise UsageError(f"{dst}: output must be .wav or .flac")
    if float_output and OUTPUT_SUBTYPES[suffix][1] is None:
        raise UsageError(f"{dst}: float output needs .wav")
    if not dst.parent.exists():
        raise UsageError(f"{dst.parent}: output directory does not exist")
    return OUTPUT_SUBTYPES[suffix][1 if float_output else 0]


def render_file(src: Path, dst: Path, preset: Preset | None, blocksize: int = 128,
                float_output: bool = False, force: bool = False, insert: str = "reverb",
                model_path: Path | None = None, rave_backend: str = "auto",
                references: Sequence[Path] = (), match: Path | None = None) -> Engine:
    """Render ``src`` to ``dst`` (WAV or FLAC); nothing is left at ``dst`` on failure."""
    dst = Path(dst)
    subtype = output_subtype(dst, float_output)
    if not 1 <= blocksize <= 65536:
        raise UsageError(f"--blocksize {blocksize} must be within 1..65536")
    check_duration(src, force)
    x, rate = read_audio(src)
    y, engine = render_array(x, rate, None, blocksize, insert, preset, model_path,
                             rave_backend, references=references, match=match)
    with atomic_path(dst) as tmp:
        sf.write(tmp, y, rate, subtype=subtype)
    return engine
