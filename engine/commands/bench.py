"""``musicmill bench ...``: speed targets measured against a named peer in the same run."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="benchmarks against peers")
    kinds = p.add_subparsers(dest="bench", required=True, metavar="BENCH")
    e = kinds.add_parser("engine", help="cfunc callback vs Python callback under GIL load (JACK)")
    e.add_argument("--seconds", type=float, default=60.0)
    e.add_argument("--samplerate", type=int, default=48000)
    e.add_argument("--blocksize", type=int, default=128)
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=run_engine)
    d = kinds.add_parser("dsp", help="channel strips + master vs pedalboard; loudness vs pyebur128")
    d.add_argument("--seconds", type=float, default=10.0, help="audio for the chain test")
    d.add_argument("--loudness-seconds", type=float, default=60.0)
    d.add_argument("--json", action="store_true")
    d.set_defaults(func=run_dsp)


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.3g}" if b else ("1" if a == b else "inf")


def run_engine(args: argparse.Namespace) -> int:
    from engine.bench_realtime import bench_engine

    result = bench_engine(args.seconds, args.samplerate, args.blocksize)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    ours, base = result["ours"], result["baseline"]
    print(f"{args.seconds:g} s at {args.blocksize} frames / {args.samplerate} Hz, "
          "Python GIL spinner + torch thread running")
    print(f"{'':24}{'ours (cfunc)':>14}{'baseline (Python)':>20}{'ratio':>8}")
    for key in ("late_blocks", "blocks", "callback_max_ms", "callback_p99_ms"):
        print(f"{key:24}{ours[key]:>14.4g}{base[key]:>20.4g}{_ratio(ours[key], base[key]):>8}")
    return 0


def run_dsp(args: argparse.Namespace) -> int:
    from engine.bench_dsp import bench_dsp

    result = bench_dsp(args.seconds, args.loudness_seconds)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    c, lo = result["chain"], result["loudness"]
    print("8 channel strips (HPF, peak, shelf, compressor, 2x saturation) + master "
          "(bus compressor, limiter), 128-frame stereo blocks at 48 kHz")
    print(f"  ours {c['ours_us_per_block']:.1f} us/block, pedalboard "
          f"{c['pedalboard_us_per_block']:.1f} us/block, ratio {c['ratio']:.2f} (target <= 1.0)")
    print(f"BS.1770 meter on {args.loudness_seconds:g} s stereo (I, LRA, true peak, sample peak)")
    print(f"  ours {lo['ours_s']:.3f} s, pyebur128 {lo['pyebur128_s']:.3f} s, "
          f"ratio {lo['ratio']:.2f} (target <= 1.0)")
    return 0
