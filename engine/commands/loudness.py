"""``musicmill loudness FILE [--json]``: EBU R128 / BS.1770 measurement of an audio file."""

from __future__ import annotations

import argparse
import json
import math

# (key, label, unit) in the order printed.
_FIELDS = (
    ("integrated_lufs", "Integrated loudness", "LUFS"),
    ("momentary_max_lufs", "Momentary max", "LUFS"),
    ("short_term_max_lufs", "Short-term max", "LUFS"),
    ("lra_lu", "Loudness range", "LU"),
    ("true_peak_dbtp", "True peak", "dBTP"),
    ("sample_peak_dbfs", "Sample peak", "dBFS"),
)

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
    parser.add_argument("--force", action="store_true",
                        help="measure a file longer than 30 minutes")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Measure ``args.file`` and print the result; 0 on success, 2 if the file is unusable."""
    from dsp.analysis import loudness_file  # numpy: no Numba to start for one file
    from dsp.io.audio import read_audio
    from dsp.io.jsonfile import json_number

    decoded = read_audio(args.file, args.force)
    audio, rate = decoded.samples, decoded.rate_hz
    result = loudness_file.measure(audio.T, rate)
    if args.json:
        print(json.dumps({**{key: json_number(result[key]) for key, _, _ in _FIELDS},
                          "nonfinite_replaced": decoded.nonfinite}))
        return 0
    print(f"{args.file}  ({audio.shape[1]} ch, {rate} Hz, {audio.shape[0] / rate:.2f} s)")
    for key, label, unit in _FIELDS:
        value = result[key]
        text = f"{value:8.1f}" if math.isfinite(value) else f"{'-inf':>8}"
        print(f"  {label:<20}{text} {unit}")
    return 0
