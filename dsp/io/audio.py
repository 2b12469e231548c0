"""Audio files in and out, one path for every command that reads or writes audio.

In (:func:`read_audio`): decoded whole as float32 ``(frames, channels)``; non-finite samples
replaced with silence and counted; the duration policy (a warning over ``WARN_MINUTES``,
refused over ``REFUSE_MINUTES`` unless forced); one line naming the file for each way a
file can be bad. Out (:func:`check_output`, :func:`write_audio`): the output checked before
any work (not an input, not a folder, a known extension, its folder there) and written under
a temporary name, renamed into place when complete.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from dsp.errors import InputError
from dsp.io.atomic import OutputPathError, atomic_path, check_target

WARN_MINUTES = 10.0
REFUSE_MINUTES = 30.0
# A header declaring more than this is corrupt (a 0-sample FLAC reads as 2**63 frames).
MAX_FRAMES = 1 << 40
# (subtype, float subtype or None) per writable extension
OUTPUT_SUBTYPES = {".wav": ("PCM_24", "FLOAT"), ".flac": ("PCM_24", None)}
_SFC_SET_ADD_PEAK_CHUNK = 0x1050


class AudioFileError(InputError):
    """An audio file that cannot be used; the message names the file and the reason."""


@dataclass(frozen=True)
class Audio:
    """A decoded file: ``samples`` float32 ``(frames, channels)``, its rate, and how many
    non-finite samples were replaced with 0."""

    samples: np.ndarray
    rate_hz: int
    path: Path
    nonfinite: int = 0

    @property
    def seconds(self) -> float:
        return self.samples.shape[0] / self.rate_hz


# libsndfile reads a short WAV/AIFF without complaint and only says so in its log
_TRUNCATED_LOG = re.compile(
    r"^(data|RIFF|FORM|SSND)\s*:.*should be|lacks an end-of-stream", re.MULTILINE
)


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence what decoders (mpg123, FLAC) print straight to file descriptor 2 while a
    file is opened: our own one-line error says what went wrong."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _unreadable(path: Path, reason: str) -> AudioFileError:
    # libsndfile says "File does not exist" or "Format not recognised" of a file that exists
    # but is no audio it can decode; say what that means instead.
    reason = " ".join(reason.split())
    if "does not exist" in reason or "not recogni" in reason.lower() or not reason:
        reason = "unrecognised format or corrupt data"
    return AudioFileError(f"{path}: not a readable audio file ({reason})")


def _check_length(path: Path, frames: int, rate_hz: int, force: bool,
                  force_option: str = "--force") -> None:
    """The duration policy, applied from the header before the file is decoded."""
    if frames <= 0 or frames > MAX_FRAMES or rate_hz <= 0:
        raise AudioFileError(f"{path}: contains no audio frames")
    minutes = frames / rate_hz / 60.0
    if minutes > REFUSE_MINUTES and not force:
        raise AudioFileError(f"{path}: {minutes:.1f} min is over the {REFUSE_MINUTES:g} min "
                             f"limit; pass {force_option} to use it anyway")
    if minutes > WARN_MINUTES:
        print(f"musicmill: warning: {path} is {minutes:.1f} min long", file=sys.stderr)


def read_audio(path: str | Path, force: bool = False, force_option: str = "--force") -> Audio:
    """Decode a whole file; :class:`AudioFileError` (one line naming the file) for a missing,
    folder, empty, non-audio, truncated, frameless or (without ``force``) too long file.
    ``force_option``: the command's option that passes ``force``, named in the refusal."""
    path = Path(path)
    if not path.exists():
        raise AudioFileError(f"{path}: no such file")
    if path.is_dir():
        raise AudioFileError(f"{path}: is a directory")
    if path.stat().st_size == 0:
        raise AudioFileError(f"{path}: file is empty (0 bytes)")
    try:
        with _quiet_stderr(), sf.SoundFile(path) as f:
            _check_length(path, f.frames, f.samplerate, force, force_option)
            declared, log, rate = f.frames, f.extra_info, int(f.samplerate)
            data = f.read(dtype="float32", always_2d=True)
    except sf.LibsndfileError as exc:
        raise _unreadable(path, exc.error_string) from None
    except (RuntimeError, OSError, ValueError, TypeError) as exc:
        raise _unreadable(path, str(exc)) from None
    if _TRUNCATED_LOG.search(log) or data.shape[0] < declared:
        raise AudioFileError(f"{path}: file is truncated (header promises more audio than "
                             f"present; read {data.shape[0]} frames)")
    if data.shape[0] == 0 or data.shape[1] == 0:
        raise AudioFileError(f"{path}: contains no audio frames")
    bad = ~np.isfinite(data)
    nonfinite = int(np.count_nonzero(bad))
    if nonfinite:
        data[bad] = 0.0
        print(f"musicmill: warning: {path}: {nonfinite} non-finite samples (NaN or infinity) "
              "replaced with silence", file=sys.stderr)
    return Audio(data, rate, path, nonfinite)


def check_output(dst: str | Path, inputs: Sequence[str | Path] = (),
                 float_output: bool = False) -> str:
    """The soundfile subtype to write ``dst`` with, checked before any work (an
    ``OutputPathError`` for an input, a folder, not .wav/.flac, float into FLAC, or a folder
    that does not exist)."""
    dst = check_target(dst, inputs, tuple(OUTPUT_SUBTYPES))
    if float_output and OUTPUT_SUBTYPES[dst.suffix.lower()][1] is None:
        raise OutputPathError(f"{dst}: float output needs .wav")
    return OUTPUT_SUBTYPES[dst.suffix.lower()][1 if float_output else 0]


def write_audio(dst: str | Path, samples: np.ndarray, rate_hz: int, subtype: str) -> None:
    """``samples (frames, channels)`` to ``dst``, complete or not at all. No PEAK chunk:
    libsndfile stamps it with the time, and the same render must give the same bytes."""
    samples = samples if samples.ndim == 2 else samples[:, None]
    with atomic_path(dst) as tmp, sf.SoundFile(tmp, "w", rate_hz, samples.shape[1],
                                               subtype=subtype) as f:
        sf._snd.sf_command(f._file, _SFC_SET_ADD_PEAK_CHUNK, sf._ffi.NULL, 0)
        f.write(samples)
