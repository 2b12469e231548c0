"""``musicmill bench ...``: speed targets measured against a named peer in the same run."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

# The genuine tiny exports the tests carry (tests/fixtures/rave), in a source checkout.
RAVE_FIXTURES = Path(__file__).resolve().parents[2] / "tests/fixtures/rave"
DEFAULT_RAVE = RAVE_FIXTURES / "rave_v2_tiny_causal_streaming.ts"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="benchmarks against peers")
    kinds = p.add_subparsers(dest="bench", required=True, metavar="BENCH")
    e = kinds.add_parser("engine", help="cfunc callback vs Python callback under GIL load (JACK)")
    e.add_argument("--seconds", type=float, default=60.0,
                   help="how long each callback runs under the load, s (default 60)")
    e.add_argument("--samplerate", type=int, default=48000,
                   help="sample rate of the JACK dummy server, Hz (default 48000)")
    e.add_argument("--blocksize", type=int, default=128,
                   help="JACK period (block length), frames (default 128)")
    e.add_argument("--json", action="store_true", help="print the results as JSON")
    e.set_defaults(func=run_engine)
    d = kinds.add_parser("dsp", help="channel strips + master vs pedalboard; loudness vs pyebur128")
    d.add_argument("--seconds", type=float, default=10.0, help="audio for the chain test")
    d.add_argument("--loudness-seconds", type=float, default=60.0,
                   help="stereo audio both loudness meters measure, s (default 60)")
    d.add_argument("--json", action="store_true", help="print the results as JSON")
    d.set_defaults(func=run_dsp)
    r = kinds.add_parser("rave", help="RAVE encode+decode: TorchScript vs ONNX Runtime, 1 thread")
    r.add_argument("model", nargs="?", type=Path, default=None, metavar="MODEL",
                   help="streaming RAVE .ts (default: the causal streaming test fixture)")
    r.add_argument("--full-size", action="store_true",
                   help="instead of MODEL: a full-size v2 (capacity 96, random weights) built "
                   "here, its scripted stateful peer vs our ONNX graphs")
    r.add_argument("--seconds", type=float, default=10.0, help="audio to process per runtime")
    r.add_argument("--rounds", type=int, default=5,
                   help="turns each runtime takes over the audio; the median is reported "
                   "(not with --full-size)")
    r.add_argument("--json", action="store_true", help="print the results as JSON")
    r.set_defaults(func=run_rave)
    dm = kinds.add_parser("drums", help="neural drum model encode+decode: TorchScript vs ONNX "
                          "Runtime, 1 thread, one latent frame (256 samples) per call")
    dm.add_argument("model", nargs="?", type=Path, default=None, metavar="MODEL",
                    help="drum-model .ts (default: the shipped models/drum_ae/drums.ts)")
    dm.add_argument("--seconds", type=float, default=10.0, help="audio to process per runtime")
    dm.add_argument("--rounds", type=int, default=5,
                    help="turns each runtime takes over the audio; the median is reported")
    dm.add_argument("--json", action="store_true", help="print the results as JSON")
    dm.set_defaults(func=run_drums)
    c = kinds.add_parser("cli", help="wall time and peak memory of everyday commands (--help, "
                         "loudness, render, run) beside a bare interpreter and pyebur128")
    c.add_argument("--runs", type=int, default=5, help="starts of each command (median)")
    c.add_argument("--no-run", action="store_true", help="leave out `run` (it needs JACK)")
    c.add_argument("--json", action="store_true", help="print the results as JSON")
    c.set_defaults(func=run_cli)
    _register_trigger_latency(kinds)
    dn = kinds.add_parser("denoise", help="mic noise reducer on noisy espeak-ng speech vs "
                          "noisereduce (SI-SDR improvement), and its cost per block")
    dn.add_argument("--split", choices=("heldout", "tuning"), default="heldout",
                    help="sentences, voices and noise seeds (the constants were tuned on "
                    "'tuning')")
    dn.add_argument("--no-nonstationary", action="store_true",
                    help="leave out noisereduce's non-stationary mode")
    dn.add_argument("--json", action="store_true", help="print the results as JSON")
    dn.set_defaults(func=run_denoise)
    pl = kinds.add_parser("plugins", help="an LV2 chain hosted in our callback vs lv2bench "
                          "(lilv's benchmark) on the same plugins, and live under JACK")
    pl.add_argument("--plugin", action="append", default=[], metavar="URI", dest="chain",
                    help="a plugin of the chain (repeatable; default x42 balance, fil4 "
                    "stereo and fil4 mono)")
    pl.add_argument("--blocks", type=int, default=20000, help="128-frame blocks timed")
    pl.add_argument("--live-seconds", type=float, default=10.0,
                    help="the live run under JACK (0 leaves it out)")
    pl.add_argument("--json", action="store_true", help="print the results as JSON")
    pl.set_defaults(func=run_plugins)
    mx = kinds.add_parser("mix", help="the styled mix vs today's rule-based mix on held-out "
                          "stems: style errors, speed, memory")
    mx.add_argument("--songs", type=int, default=3, help="held-out songs (default 3)")
    mx.add_argument("--json", action="store_true", help="print the results as JSON")
    mx.set_defaults(func=run_mix)
    _register_continuo(kinds)
    _register_window(kinds)


def _register_trigger_latency(kinds: argparse._SubParsersAction) -> None:
    tl = kinds.add_parser("trigger-latency", help="beatbox hit to drum latency of `musicmill "
                          "run`, live under JACK (probe client, calibrated loop)")
    tl.add_argument("--hits", type=Path, default=None, metavar="FILE",
                    help="beatbox recording to cut the hits from, 48 kHz "
                         "(default: docs/examples/beatbox.wav)")
    tl.add_argument("--repeats", type=int, default=2, help="times the hits are played")
    tl.add_argument("--force", action="store_true",
                    help="read a hits file over the 30-minute limit")
    tl.add_argument("--json", action="store_true", help="print the results as JSON")
    tl.set_defaults(func=run_trigger_latency)


def _register_window(kinds: argparse._SubParsersAction) -> None:
    w = kinds.add_parser("window", help="`musicmill run` with its window on $DISPLAY, "
                         "untouched and worked by a mouse (XTest): drawing cost and the "
                         "real-time counters (JACK, 128 frames / 48 kHz)")
    w.add_argument("--seconds", type=float, default=14.0, help="length of each run (default 14)")
    w.add_argument("--screenshot", type=Path, default=None, metavar="PNG",
                   help="also save the worked window as a PNG (the docs' picture; the "
                   "screen must be at least 1220 x 820)")
    w.add_argument("--json", action="store_true", help="print the results as JSON")
    w.set_defaults(func=run_window)


def _register_continuo(kinds: argparse._SubParsersAction) -> None:
    co = kinds.add_parser("continuo", help="the neural transcriber's worker cost at 48 kHz "
                          "vs Basic Pitch on the same held-out takes")
    co.add_argument("--instruments", default="voice,piano,guitar,violin,flute",
                    help="comma-separated (default all five)")
    co.add_argument("--clips", type=int, default=2, help="held-out takes each (default 2)")
    co.add_argument("--no-peer", action="store_true", help="leave out Basic Pitch")
    co.add_argument("--json", action="store_true", help="print the results as JSON")
    co.set_defaults(func=run_continuo)


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.3g}" if b else ("1" if a == b else "inf")


def run_engine(args: argparse.Namespace) -> int:
    from engine.bench.realtime import bench_engine

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
    from engine.bench.dsp import bench_dsp

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


def run_rave(args: argparse.Namespace) -> int:
    """Time the full model path (encode + decode) on both runtimes, same blocks."""
    from engine.bench.models import bench_rave_full
    from engine.errors import UsageError

    if args.seconds <= 0:
        raise UsageError("--seconds must be positive")
    if args.full_size:
        return _run_rave_full_size(args)
    model = args.model
    if model is None:
        if not DEFAULT_RAVE.is_file():
            raise UsageError("bench rave needs MODEL (a streaming RAVE .ts export)")
        model = DEFAULT_RAVE
    if not Path(model).is_file():
        raise UsageError(f"{model}: no such file")
    _check_rounds(args)
    from engine.commands.rave_onnx import model_errors

    with model_errors(Path(model), "benchmark"):  # junk, non-RAVE or discrete: one line
        result = bench_rave_full(model, args.seconds, rounds=args.rounds)
    return _print_model_bench(model, result, args)


def _check_rounds(args: argparse.Namespace) -> None:
    from engine.errors import UsageError

    if args.rounds < 1:
        raise UsageError("--rounds must be at least 1")


def _run_rave_full_size(args: argparse.Namespace) -> int:
    """A random-weight full-size v2: its scripted stateful peer vs our ONNX graphs."""
    from engine.bench.rave_full import bench_v2_full
    from engine.errors import UsageError

    if args.model is not None:
        raise UsageError("--full-size builds its own model: leave MODEL out")
    result = bench_v2_full(args.seconds)
    if args.json:
        print(json.dumps({"model": "v2 full size (random weights)", **result}, indent=2))
        return 0
    print(f"RAVE v2 full size, {result['params'] / 1e6:.1f} M parameters, random weights: "
          f"{result['blocks']} blocks of {result['block']} samples ({args.seconds:g} s), "
          "encode+decode, 1 thread each")
    print(f"  TorchScript {result['torchscript_rtf']:.2f}x real time, ONNX Runtime "
          f"{result['onnx_rtf']:.2f}x real time, ONNX speedup {result['speedup']:.2f}x")
    return 0


def run_drums(args: argparse.Namespace) -> int:
    """The drum model's worker path on both runtimes (its ONNX graphs are our own export)."""
    from engine.bench.models import bench_rave_full
    from engine.errors import UsageError
    from models.drum_ae.shipped import SHIPPED_MODEL, drum_onnx_graphs

    model = args.model or SHIPPED_MODEL
    if not Path(model).is_file():
        raise UsageError(f"{model}: no such file")
    if args.seconds <= 0:
        raise UsageError("--seconds must be positive")
    _check_rounds(args)
    from engine.commands.rave_onnx import model_errors

    with model_errors(Path(model), "benchmark"):
        result = bench_rave_full(model, args.seconds, onnx_path=drum_onnx_graphs(model),
                                 rounds=args.rounds)
    return _print_model_bench(model, result, args)


def _print_model_bench(model: Path, result: dict, args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps({"model": str(model), **result}, indent=2))
        return 0
    print(f"{Path(model).name}: {result['blocks']} blocks of {result['block']} samples "
          f"({args.seconds:g} s) x {result['rounds']} rounds, encode+decode, 1 thread each")
    print(f"  median block: TorchScript {result['torchscript_rtf']:.1f}x real time, ONNX "
          f"Runtime {result['onnx_rtf']:.1f}x real time, ONNX speedup "
          f"{result['speedup']:.2f}x")
    for key, name in (("torchscript", "TorchScript"), ("onnx", "ONNX Runtime")):
        rounds = ", ".join(f"{r:.1f}" for r in result[f"{key}_rtf_rounds"])
        print(f"  {name}: mean {result[f'{key}_rtf_mean']:.1f}x, p99 block "
              f"{result[f'{key}_p99_ms']:.2f} ms, per round {rounds}")
    return 0


def run_trigger_latency(args: argparse.Namespace) -> int:
    """Play beatbox hits into `musicmill run` under JACK and time the drums that come out."""
    from engine.bench.trigger_latency import EXAMPLE_HITS, measure
    from engine.errors import UsageError

    if args.repeats < 1:
        raise UsageError("--repeats must be at least 1")
    try:
        result = measure(args.hits or EXAMPLE_HITS, args.repeats, force=args.force)
    except (ValueError, RuntimeError) as exc:  # wrong rate, no JACK, run failed to start
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    live, offline, cal = result["engine_latency"], result["offline_latency"], result["calibration"]
    print(f"{result['hits_played']} beatbox hits into `musicmill run` at "
          f"{result['jack_frames_per_cycle']} frames / {result['sample_rate_hz']} Hz (JACK), "
          f"{result['drums_heard']} drums out")
    print(f"  probe loop (calibration): {cal['loop_frames']} frames, "
          f"bit-exact {cal['bit_exact']}")
    for name, passes in (("probe loop", cal), ("engine", result["passes"])):
        print(f"  {name} passes: JACK xruns {passes['xruns_per_pass']}, hits taken "
              f"{passes['hits_taken_per_pass']} (a hit with an xrun near it is played again)")
    print(f"  engine input port to output port: median {live['median_ms']} ms, "
          f"max {live['max_ms']} ms (target <= 10 ms)")
    print(f"  offline render, same hits: median {offline['median_ms']} ms, "
          f"max {offline['max_ms']} ms; live - offline: {result['live_minus_offline_frames']} "
          "frames")
    return 0


def run_cli(args: argparse.Namespace) -> int:
    from engine.bench.cli import bench_cli
    from engine.errors import UsageError

    if args.runs < 1:
        raise UsageError("--runs must be at least 1")
    result = bench_cli(args.runs, include_run=not args.no_run)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{'command':<22}{'wall s (median)':>16}{'peak MB':>10}")
    for key, row in result.items():
        if key != "ratios":
            print(f"{key:<22}{row['wall_s']:>16.3f}{row['peak_rss_mb']:>10.0f}")
    r = result["ratios"]
    print(f"--help / bare interpreter start: {r['help_vs_python_start']:.2f}x; "
          f"loudness / pyebur128 script: {r['loudness_vs_pyebur128']:.2f}x")
    return 0


def run_denoise(args: argparse.Namespace) -> int:
    """Score our streaming reducer and noisereduce on the same noisy speech."""
    from engine.bench.denoise import bench_denoise
    from engine.errors import UsageError

    try:
        result = bench_denoise(args.split, nonstationary=not args.no_nonstationary)
    except (ImportError, RuntimeError) as exc:  # noisereduce or espeak-ng missing
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    cols = [("ours_db", "ours"), ("peer_stationary_db", "nr stat"),
            ("peer_stationary_clip_db", "nr stat+clip"), ("peer_nonstationary_db", "nr nonstat")]
    cols = [c for c in cols if c[0] in result["means"]["all"]]
    print(f"SI-SDR improvement (dB), {result['split']} split, {result['seconds_per_file']:.1f} s "
          "per file at 48 kHz; ours streamed in 128-frame blocks, latency "
          f"{result['latency_ms']:.2f} ms; noisereduce (nr) on whole files")
    print(f"{'noise':<8}{'SNR dB':>7}{'input':>8}" + "".join(f"{name:>14}" for _, name in cols))
    for row in result["rows"]:
        print(f"{row['noise']:<8}{row['snr_db']:>7g}{row['input_si_sdr_db']:>8.2f}"
              + "".join(f"{row[key]:>14.2f}" for key, _ in cols))
    for kind, m in result["means"].items():
        print(f"{'mean ' + kind:<15}{'':>8}" + "".join(f"{m[key]:>14.2f}" for key, _ in cols))
    m = result["means"]["all"]
    for key, name in cols[1:]:
        print(f"  ours - {name}: {m['ours_db'] - m[key]:+.2f} dB")
    met = m["ours_db"] >= m["peer_stationary_db"] - 1.0
    print(f"  target ours >= nr stationary - 1 dB: {'met' if met else 'NOT met'}")
    for ch in ("mono", "stereo"):
        c = result[f"cost_{ch}"]
        print(f"process() per 128-frame {ch} block: median {c['median_us']:.1f} us, mean "
              f"{c['mean_us']:.1f} us ({100 * c['mean_us'] / 1e3 / result['block_ms']:.1f}% of "
              f"the {result['block_ms']:.2f} ms block)")
    return 0


def run_plugins(args: argparse.Namespace) -> int:
    from engine.bench.plugins import DEFAULT_CHAIN, bench_plugins

    r = bench_plugins(tuple(args.chain) or DEFAULT_CHAIN, args.blocks, args.live_seconds)
    if args.json:
        print(json.dumps(r, indent=2))
        return 0
    print(f"chain: {', '.join(r['chain'])}")
    print(f"ours {r['ours_us_per_block']:.2f} us per 128-frame block, lv2bench "
          f"{r['lv2bench_us_per_block']:.2f} us (128-frame runs), "
          f"{r['lv2bench_64_us_per_block']:.2f} us (64-frame runs): ratio "
          f"{_ratio(r['ours_us_per_block'], r['lv2bench_us_per_block'])}")
    if "live" in r:
        lv = r["live"]
        print(f"live {lv['seconds']:g} s under JACK: {lv['over_budget_cpu_blocks']} blocks over "
              f"budget (CPU), {lv['over_budget_blocks']} (wall), callback max "
              f"{lv['callback_max_ms']:.3f} ms / p99 {lv['callback_p99_ms']:.3f} ms of "
              f"{lv['block_budget_ms']:.2f} ms")
    return 0


def run_mix(args: argparse.Namespace) -> int:
    from engine.bench.mix import bench_mix, table
    from engine.errors import UsageError

    if args.songs < 1:
        raise UsageError("--songs must be at least 1")
    r = bench_mix(args.songs)
    print(json.dumps(r, indent=2) if args.json else table(r))
    return 0


def run_continuo(args: argparse.Namespace) -> int:
    from engine.bench.continuo import bench_continuo
    from engine.errors import UsageError

    instruments = [s.strip() for s in args.instruments.split(",") if s.strip()]
    known = ("voice", "piano", "guitar", "violin", "flute")
    if not instruments or any(s not in known for s in instruments):
        raise UsageError(f"--instruments {args.instruments!r}: choose from {', '.join(known)}")
    if args.clips < 1:
        raise UsageError("--clips must be at least 1")
    r = bench_continuo(instruments, args.clips, peer=not args.no_peer)
    if args.json:
        print(json.dumps(r, indent=2))
        return 0
    print(f"{r['takes']} held-out takes, {r['audio_s']:.0f} s, fed in {r['block']}-sample "
          f"blocks at {r['rate_hz']} Hz, 1 thread")
    print(f"  ours: {100 * r['ours_core_share']:.1f} % of one core (target <= "
          f"{100 * r['target_core_share']:.0f} %), block median {r['ours_block_us_median']:.0f}"
          f" us, p99 {r['ours_block_us_p99']:.0f} us, max {r['ours_block_us_max']:.0f} us")
    if "peer_core_share" in r:
        print(f"  Basic Pitch (whole file): {100 * r['peer_core_share']:.1f} % of one core; "
              f"ratio ours/peer {r['ratio']:.2f}")
    return 0


def run_window(args: argparse.Namespace) -> int:
    from engine.bench.window import bench_window
    from engine.errors import UsageError

    if args.seconds < 3:
        raise UsageError("--seconds must be at least 3")
    try:
        r = bench_window(args.seconds, args.screenshot)
    except RuntimeError as exc:
        raise UsageError(str(exc)) from exc
    if args.json:
        print(json.dumps(r, indent=2))
        return 0
    print(f"`musicmill run` with the window on {r['display']}, {r['seconds']:g} s each, "
          "JACK 128 frames / 48 kHz, the shipped drum model")
    keys = ("frames_per_s", "cpu_fraction", "busy_fraction", "over_budget_cpu_blocks",
            "over_budget_blocks", "late_blocks", "worker_underruns")
    print(f"{'':24}{'untouched':>12}{'worked':>12}")
    for key in keys:
        cells = [r[k][key] for k in ("untouched", "worked")]
        print(f"{key:24}" + "".join(f"{'-' if c is None else f'{c:.3g}':>12}" for c in cells))
    hand = r["worked"]["hand"]
    print(f"worked: {hand['drags']} drags on the XY pad and a stage fader; the window set "
          f"{', '.join(r['worked']['written']) or 'nothing'}")
    return 0
