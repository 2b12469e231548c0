"""``musicmill mix``: stems mixed to a genre style (predictor, strips, master, correction)
or, with the live styles, summed and mastered through the live master bus."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from engine.commands.options import add_set_arg
from engine.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("mix", help="mix stems to a style: per-stem strips, master, targets met")
    p.add_argument("stems", type=Path, nargs="*", help="WAV, FLAC, OGG or MP3, mono or stereo")
    p.add_argument("-o", "--output", type=Path, help=".wav or .flac")
    p.add_argument("--style", metavar="NAME|FILE",
                   help="genre style (rock_punk, rnb_ballad, country_pop: the predictor's mix), "
                   "a live auto-mix style (streaming, broadcast, club, warm, wide) or an audio "
                   "file to match (both through the live master bus)")
    p.add_argument("--targets", type=Path, metavar="FILE", help="a style YAML file of your own")
    p.add_argument("--validate", action="store_true",
                   help="print target, measured and error per figure; exit 1 outside tolerance")
    p.add_argument("--test-stems", type=int, metavar="N",
                   help="mix N generated test stems (our synths) instead of files")
    p.add_argument("--validate-suite", action="store_true",
                   help="every genre style on noise, bass-heavy, bright, quiet and loud stems")
    p.add_argument("--export", type=Path, metavar="DIR",
                   help="also write a Reaper project (.RPP), the processed stems and the "
                   "parameters into DIR")
    p.add_argument("--preset", help="live styles: master-bus values from this preset")
    add_set_arg(p)
    p.add_argument("--no-balance", action="store_true",
                   help="live styles: sum the stems as they are (default: to equal loudness)")
    p.add_argument("--float", action="store_true", dest="float_output", help="32-bit float WAV")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--force", action="store_true", help="mix stems over 30 minutes")
    p.set_defaults(func=run)


def _genre_style(args: argparse.Namespace):
    """The MixStyle asked for, or None for the live-bus path."""
    from presets import mix_styles
    from presets.styles import STYLES

    if args.targets is not None:
        return mix_styles.load_style_file(args.targets)
    name = args.style or ("rock_punk" if args.test_stems else None)
    if name is None:
        return None
    if mix_styles.is_mix_style(name):
        return mix_styles.load(name)
    if name.lower() in STYLES or Path(name).exists():
        return None
    every = mix_styles.names() + list(STYLES)
    raise UsageError(f"unknown style {name!r}: name one of {', '.join(every)}, or an audio file")


def run(args: argparse.Namespace) -> int:
    if args.validate_suite:
        return _suite(args)
    style = _genre_style(args)
    if style is None:
        if args.test_stems or args.validate or args.export:
            raise UsageError("--test-stems, --validate and --export need a genre style "
                             "(--style rock_punk|rnb_ballad|country_pop or --targets FILE)")
        return _live_bus(args)
    if args.preset or args.assignments or args.no_balance:
        raise UsageError("--preset, --set and --no-balance apply to the live styles only")
    return _styled(args, style)


def _suite(args: argparse.Namespace) -> int:
    if args.stems or args.output or args.test_stems:
        raise UsageError("--validate-suite makes its own stems: give no stems, -o or --test-stems")
    from engine.offline.validation import run_suite, table

    rows = run_suite()
    print(json.dumps(rows, indent=2) if args.json else table(rows))
    return 0 if all(r["pass"] for r in rows) else 1


def _styled(args: argparse.Namespace, style) -> int:
    from dsp.io.audio import check_output, write_audio
    from engine.offline.daw_export import check_folder, export
    from engine.offline.styled_mix import mix_styled

    subtype = check_output(args.output, args.stems, args.float_output) if args.output else None
    if args.export is not None:
        check_folder(args.export)
    if args.test_stems is not None:
        if args.stems:
            raise UsageError("--test-stems makes its own stems: give no stem files")
        from models.automix import synth_stems

        if not 1 <= args.test_stems <= len(synth_stems.PARTS):
            raise UsageError(f"--test-stems: 1 to {len(synth_stems.PARTS)}")
        named = synth_stems.band(args.test_stems)
        names, stems, rate = [n for n, _ in named], [x for _, x in named], 48000
        nonfinite = [0] * len(stems)
    else:
        if not args.stems:
            raise UsageError("no stems: give stem files or --test-stems N")
        if args.output is None:
            raise UsageError("-o OUT is required with stem files")
        from engine.offline.mix import load_stems

        stems, rate, nonfinite = load_stems(args.stems, args.force)
        names = [str(p) for p in args.stems]
    result = mix_styled(stems, rate, style, names)
    for row, bad in zip(result.report["stems"], nonfinite, strict=True):
        row["nonfinite_replaced"] = bad
    if args.output is not None:
        write_audio(args.output, result.audio.T, rate, subtype)
    if args.export is not None:
        export(args.export, names, result.unplaced, result.strips, result.audio, rate,
               result.report)
    report = result.report
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_styled(report, args.validate)
    for path in (args.output, args.export):
        if path is not None and not args.json:
            print(f"wrote {path}")
    return 1 if args.validate and not report["within_tolerance"] else 0


def _print_styled(report: dict, validate: bool) -> None:
    for row in report["stems"]:
        print(f"{row['name']}: gain {row['gain_db']:+.1f} dB, pan {row['pan']:+.2f}, "
              f"hpf {row['hpf_hz']:.0f} Hz, eq {row['low_db']:+.1f}/{row['mid_db']:+.1f}"
              f"@{row['mid_hz']:.0f}/{row['high_db']:+.1f} dB, comp {row['comp_ratio']:.1f}:1 "
              f"at {row['comp_threshold_db']:.0f} dB, drive {row['drive_db']:.1f} dB, "
              f"width {row['width']:.2f}")
    m = report["master"]
    print(f"master: bus {m['bus_ratio']:.1f}:1 at {m['bus_threshold_db']:.0f} dB, tilt "
          f"{m['tilt_db']:+.1f} dB, side {m['side_db']:+.1f} dB, gain {m['gain_db']:+.1f} dB")
    style, out = report["style"], report["output"]
    tol = style["tolerance"]
    rows = (("loudness (LUFS)", style["lufs"], out["lufs"], out["lufs_error"], tol["lufs_db"]),
            ("centroid (Hz)", style["centroid_hz"], out["centroid_hz"],
             out["centroid_error_hz"], tol["centroid_hz"]),
            ("M/S ratio", style["ms_ratio"], out["ms_ratio"], out["ms_ratio_error"],
             tol["ms_ratio"]))
    if validate:
        print(f"{'figure':<16} {'target':>9} {'measured':>9} {'error':>8} {'tolerance':>9}")
    for name, target, got, err, t in rows:
        ok = err is not None and abs(err) <= t
        if validate:
            print(f"{name:<16} {target:>9g} {got if got is not None else 'n/a':>9} "
                  f"{err if err is not None else 'n/a':>8} {t:>9g}  {'ok' if ok else 'OUT'}")
        else:
            print(f"{name}: {got} (target {target:g}, error {err})")
    print(f"true peak {report['true_peak_dbtp']} dBTP; {style['name']} "
          f"{'met' if report['within_tolerance'] else 'NOT met'}")


def _live_bus(args: argparse.Namespace) -> int:
    from dsp import automix
    from dsp.io.audio import check_output, write_audio
    from engine.offline.mix import load_stems, mix
    from engine.session.setup import resolve_preset

    if not args.stems or args.output is None:
        raise UsageError("mix needs stem files and -o OUT")
    dst = args.output
    subtype = check_output(dst, args.stems, args.float_output)
    preset = resolve_preset(args.preset, args.assignments, args.style, args.force)
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
