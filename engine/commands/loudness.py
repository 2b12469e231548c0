"""``musicmill loudness FILE [--json]``: EBU R128 / BS.1770 measurement of an audio file."""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys

import numpy as np
import soundfile as sf

from dsp import loudness

# (key, label, unit) in the order printed.
_FIELDS = (
    ("integrated_lufs", "Integrated loudness", "LUFS"),
    ("momentary_max_lufs", "Momentary max", "LUFS"),
    ("short_term_max_lufs", "Short-term max", "LUFS"),
    ("lra_lu", "Loudness range", "LU"),
    ("true_peak_dbtp", "True peak", "dBTP"),
    ("sample_peak_dbfs", "Sample peak", "dBFS"),
)

# libsndfile notes a header that promises more data than the file holds as
# "data : 192000 (should be 95978)" in its log, but still reads what is there.
_TRUNCATED_LOG = re.compile(
    r"^(data|RIFF|FORM|SSND)\s*:.*should be|lacks an end-of-stream", re.MULTILINE
)


class AudioFileError(Exception):
    """The file cannot be measured; the message says why (without the file name)."""


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``loudness`` subcommand to ``subparsers``; sets ``func=run``."""
    parser = subparsers.add_parser(
        "loudness",
        help="measure loudness (EBU R128) and true peak of an audio file",
        description="Measure integrated, momentary-max and short-term-max loudness (LUFS), "
        "loudness range (LU), true peak (dBTP) and sample peak (dBFS) of FILE.",
    )
    parser.add_argument("file", metavar="FILE", help="audio file readable by libsndfile")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object instead of a table"
    )
    parser.set_defaults(func=run)
    return parser


def read_audio(path: str) -> tuple[np.ndarray, int]:
    """Read a whole file as planar float32 (n_channels, n_frames) and its rate (Hz).

    Raises AudioFileError for a missing, unreadable, empty, truncated or non-audio file.
    """
    if not os.path.exists(path):
        raise AudioFileError("no such file")
    if os.path.isdir(path):
        raise AudioFileError("is a directory")
    if os.path.getsize(path) == 0:
        raise AudioFileError("file is empty (0 bytes)")
    try:
        with sf.SoundFile(path) as f:
            declared = f.frames
            log = f.extra_info
            data = f.read(dtype="float32", always_2d=True)
            rate = f.samplerate
    except sf.LibsndfileError as e:
        raise AudioFileError(f"not a readable audio file ({e.error_string})") from None
    except (RuntimeError, OSError, ValueError) as e:
        raise AudioFileError(f"cannot decode audio ({e})") from None
    if _TRUNCATED_LOG.search(log) or data.shape[0] < declared:
        raise AudioFileError(
            f"file is truncated (header promises more audio than present; read "
            f"{data.shape[0]} frames)"
        )
    if data.shape[0] == 0:
        raise AudioFileError("contains no audio frames")
    if rate <= 0 or data.shape[1] == 0:
        raise AudioFileError("invalid sample rate or channel count")
    return np.ascontiguousarray(data.T), rate


def _json_value(value: float) -> float | None:
    # JSON has no -Infinity (silence reads -inf); null keeps the output standard JSON.
    return value if math.isfinite(value) else None


def run(args: argparse.Namespace) -> int:
    """Measure ``args.file`` and print the result; 0 on success, 2 if the file is unusable."""
    try:
        audio, rate = read_audio(args.file)
    except AudioFileError as e:
        print(f"musicmill loudness: error: {args.file}: {e}", file=sys.stderr)
        return 2
    result = loudness.measure(audio, rate)
    if args.json:
        print(json.dumps({key: _json_value(result[key]) for key, _, _ in _FIELDS}))
        return 0
    print(f"{args.file}  ({audio.shape[0]} ch, {rate} Hz, {audio.shape[1] / rate:.2f} s)")
    for key, label, unit in _FIELDS:
        value = result[key]
        text = f"{value:8.1f}" if math.isfinite(value) else f"{'-inf':>8}"
        print(f"  {label:<20}{text} {unit}")
    return 0
