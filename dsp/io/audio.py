"""Reading audio files with one set of clear errors, for every command that reads audio."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import soundfile as sf

from dsp.errors import InputError


class AudioFileError(InputError):
    """An audio file that cannot be used; the message names the file and the reason."""


# libsndfile reads a short WAV/AIFF without complaint and only says so in its log
_TRUNCATED_LOG = re.compile(
    r"^(data|RIFF|FORM|SSND)\s*:.*should be|lacks an end-of-stream", re.MULTILINE
)


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Read a whole file as float32 ``(frames, channels)`` and its rate in Hz.

    Raises :class:`AudioFileError` (one line, naming the file) for a missing, directory, empty,
    non-audio, truncated or frameless file.
    """
    path = Path(path)
    if not path.exists():
        raise AudioFileError(f"{path}: no such file")
    if path.is_dir():
        raise AudioFileError(f"{path}: is a directory")
    if path.stat().st_size == 0:
        raise AudioFileError(f"{path}: file is empty (0 bytes)")
    try:
        with sf.SoundFile(path) as f:
            declared = f.frames
            log = f.extra_info
            data = f.read(dtype="float32", always_2d=True)
            rate = f.samplerate
    except sf.LibsndfileError as exc:
        raise AudioFileError(f"{path}: not a readable audio file ({exc.error_string})") from None
    except (RuntimeError, OSError, ValueError) as exc:
        raise AudioFileError(f"{path}: not a readable audio file ({exc})") from None
    if _TRUNCATED_LOG.search(log) or data.shape[0] < declared:
        raise AudioFileError(f"{path}: file is truncated (header promises more audio than "
                         f"present; read {data.shape[0]} frames)")
    if data.shape[0] == 0 or data.shape[1] == 0:
        raise AudioFileError(f"{path}: contains no audio frames")
    return data, int(rate)
