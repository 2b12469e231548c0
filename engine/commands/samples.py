"""``musicmill samples build IN... -o BANK_DIR``: cut recordings into a sample bank."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine.errors import UsageError

# The fades take 6 ms (1 ms in, 5 ms out): a shorter slice would be all fade.
MIN_SLICE_MS = 6.0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("samples", help="sample banks: slice recordings into one-shots")
    ssub = p.add_subparsers(dest="samples_command", required=True, metavar="ACTION")
    b = ssub.add_parser(
        "build", help="slice audio files at their onsets into a sample bank",
        description="Cut each input at its onsets into one-shot slices (48 kHz mono float "
        "WAV), analyse pitch, loudness and brightness, and write BANK_DIR with slices/, "
        "index.json and strudel.json (a Strudel sample map). Classes are a heuristic: "
        "'tonal' when a pitch was found, else kick/snare/hat by spectral centroid.")
    # str, not Path: index.json records each source exactly as given ("./a.wav" stays so)
    b.add_argument("inputs", nargs="+", metavar="IN", help="WAV, FLAC, OGG or MP3")
    b.add_argument("-o", "--output", type=Path, required=True, metavar="BANK_DIR",
                   help="bank folder to create (must not exist, or be empty)")
    b.add_argument("--min-ms", type=float, default=30.0,
                   help="drop slices shorter than this (default 30)")
    b.add_argument("--max-ms", type=float, default=2000.0,
                   help="cut slices longer than this (default 2000)")
    b.add_argument("--force", action="store_true",
                   help="replace an existing bank at BANK_DIR (only a folder with index.json)")
    b.add_argument("--classes", metavar="C1,C2,...",
                   help="one class per input (tonal, kick, snare, hat), instead of the "
                   "estimated ones: e.g. a drum kit for the beatbox and MIDI drum hits")
    b.add_argument("--json", action="store_true", help="print the index instead of a summary")
    b.add_argument("--allow-long", action="store_true",
                   help="slice inputs over 30 minutes (--force only replaces a bank)")
    b.set_defaults(func=run_build)


def run_build(args: argparse.Namespace) -> int:
    from models.samplebank.build import build_bank
    from models.samplebank.index import CLASSES, index_to_json

    if not args.min_ms >= MIN_SLICE_MS:  # `not >=` also refuses NaN
        raise UsageError(f"--min-ms must be at least {MIN_SLICE_MS:g} ms (the fades), "
                         f"got {args.min_ms:g}")
    if not args.max_ms >= args.min_ms or args.max_ms == float("inf"):
        raise UsageError(f"--max-ms must be a finite number >= --min-ms ({args.min_ms:g}), "
                         f"got {args.max_ms:g}")

    def warn(message: str) -> None:
        print(f"musicmill: warning: {message}", file=sys.stderr)

    classes = None if args.classes is None else [c.strip() for c in args.classes.split(",")]
    nonfinite: dict[str, int] = {}
    index = build_bank(args.inputs, args.output, args.min_ms, args.max_ms, args.force, warn,
                       classes, allow_long=args.allow_long, nonfinite=nonfinite)
    if args.json:
        print(json.dumps({**index_to_json(index),
                          "nonfinite_replaced": sum(nonfinite.values())}, indent=2))
        return 0
    total_s = sum(s.duration_s for s in index.slices)
    print(f"wrote {args.output}: {len(index.slices)} slices, {total_s:.2f} s")
    for cls in CLASSES:
        chosen = [s for s in index.slices if s.class_ == cls]
        if chosen:
            seconds = sum(s.duration_s for s in chosen)
            print(f"  {cls:<6}{len(chosen):5d}  {seconds:8.2f} s")
    return 0
