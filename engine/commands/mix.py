"""``musicmill mix STEM... -o OUT``: stems summed and mastered through the master bus."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from engine.commands.options import add_set_arg, add_style_arg
from engine.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("mix", help="mix stems through the master bus and its auto-mix")
    p.add_argument("stems", type=Path, nargs="+", help="WAV, FLAC, OGG or MP3, mono or stereo")
    p.add_argument("-o", "--output", type=Path, required=True, help=".wav or .flac")
    add_style_arg(p)
    p.add_argument("--preset", help="master-bus values from this preset (default: registry)")
    add_set_arg(p)
    p.add_argument("--no-balance", action="store_true",
                   help="sum the stems as they are (default: each to the same loudness)")
    p.add_argument("--float", action="store_true", dest="float_output", help="32-bit float WAV")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--force", action="store_true", help="mix stems over 30 minutes")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:

    from dsp import automix
    from dsp.io.audio import check_output, write_audio
    from engine.offline.mix import load_stems, mix
    from engine.session.setup import resolve_preset

    dst = args.output
    subtype = check_output(dst, args.stems, args.float_output)
    preset = resolve_preset(args.preset, args.assignments, args.style)
    stems, rate, nonfinite = load_stems(args.stems, args.force)
    if rate <= automix.MIN_RATE_HZ:
        raise UsageError(f"{args.stems[0]}: {rate} Hz; mix needs a rate above "
                         f"{automix.MIN_RATE_HZ:g} Hz (the auto-mix's 2 kHz split)")
    y, report = mix(stems, rate, preset.full_params() if preset else {}, not args.no_balance)
    write_audio(dst, y.T, rate, subtype)
    result = report.as_dict()
    for row, path, bad in zip(result["stems"], args.stems, nonfinite, strict=True):
        row["path"] = str(path)
        row["nonfinite_replaced"] = bad
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for row in result["stems"]:
        print(f"{row['path']}: {row['loudness_lufs']} LUFS, gain {row['gain_db']:+} dB")
    for name in ("sum", "output"):
        d = result[name]
        print(f"{name}: {d['integrated_lufs']} LUFS, true peak {d['true_peak_dbtp']} dBTP, "
              f"brightness {d['brightness_db']} dB, width {d['width_db']} dB")
    a = result["automix"]
    print(f"auto-mix at the end: gain {a['gain_db']:+} dB, shelf {a['shelf_db']:+} dB, "
          f"side {a['side_db']:+} dB")
    print(f"wrote {dst}")
    return 0
