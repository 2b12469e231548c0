"""``musicmill compare ORIGINAL RENDERED [--json] [--weights ...]``: how close a render is.

Timbre (MFCC), brightness (centroid), harmony (chroma), energy (RMS), timing (onsets),
multi-resolution STFT distance and per-band levels; see :mod:`dsp.analysis.similarity`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dsp.analysis.scores import COMPONENTS, DEFAULT_WEIGHTS
from engine.errors import UsageError


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``compare`` subcommand to ``sub``; sets ``func=run``."""
    defaults = ",".join(f"{k}={DEFAULT_WEIGHTS[k]:g}" for k in COMPONENTS)
    p = sub.add_parser(
        "compare",
        help="compare a rendered audio file with its original (timbre, timing, level...)",
        description="Compare RENDERED with ORIGINAL: MFCC timbre distance, spectral-centroid "
        "difference, chroma correlation, RMS ratio, onset F-measure and offset, "
        "multi-resolution STFT distance, per-band level differences and a weighted overall "
        "score in 0..1. Different rates, channel counts and lengths are reconciled (resample "
        "to ORIGINAL's rate, downmix, trim to the shorter) and reported in the notes.",
    )
    p.add_argument("original", type=Path, metavar="ORIGINAL", help="reference audio file")
    p.add_argument("rendered", type=Path, metavar="RENDERED", help="audio file to judge")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--onset-window-ms", type=float, default=50.0, metavar="MS",
                   help="onsets within this many ms count as matched (default 50)")
    p.add_argument("--weights", metavar="NAME=W,...",
                   help=f"weights of the overall score (default {defaults})")
    p.add_argument("--force", action="store_true", help="compare files over 30 minutes")
    p.set_defaults(func=run)
    return p


def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def run(args: argparse.Namespace) -> int:
    """Print the comparison; 0 on success. Bad files are an InputError (exit 2)."""
    from dsp.analysis.similarity import compare_files
    from dsp.io.jsonfile import json_safe

    if not 0.0 < args.onset_window_ms <= 1000.0:
        raise UsageError(f"--onset-window-ms {args.onset_window_ms:g} must be in (0, 1000]")
    result = compare_files(args.original, args.rendered, args.weights,
                           args.onset_window_ms / 1e3, force=args.force)
    if args.json:
        print(json.dumps(json_safe(result)))
        return 0
    offset = result["onset_offset_ms"]
    print(f"{args.rendered} vs {args.original}")
    rows = (
        ("Overall score", _fmt(result["overall"], ".3f"), "0..1"),
        ("MFCC similarity", _fmt(result["mfcc_similarity"], ".3f"), "0..1"),
        ("MFCC distance", _fmt(result["mfcc_distance"], ".2f"), "dB"),
        ("Centroid difference", _fmt(result["centroid_diff_hz"], "+.1f"), "Hz"),
        ("Centroid error", _fmt(None if result["centroid_rel_error"] is None
                                else 100.0 * result["centroid_rel_error"], ".1f"), "%"),
        ("Chroma correlation", _fmt(result["chroma_correlation"], ".3f"), "-1..1"),
        ("RMS ratio", _fmt(result["rms_ratio"], ".3f"), "x"),
        ("RMS envelope corr.", _fmt(result["rms_envelope_correlation"], ".3f"), "-1..1"),
        ("Onset F-measure", _fmt(result["onset_f_measure"], ".3f"), "0..1"),
        ("Onset offset (median)", _fmt(offset["median"], "+.1f"), "ms"),
        ("Onset offset (mean)", _fmt(offset["mean"], "+.1f"), "ms"),
        ("MR-STFT distance", _fmt(result["mrstft_distance"], ".3f"), ""),
    )
    for label, text, unit in rows:
        print(f"  {label:<24}{text:>10} {unit}")
    print("  Band levels (rendered - original):")
    for band in result["bands"]:
        name = f"{band['low_hz']:g}-{band['high_hz']:g} Hz"
        print(f"    {name:<20}{band['diff_db']:+8.2f} dB")
    for note in result["notes"]:
        print(f"  note: {note}")
    return 0
