"""``musicmill drum-model train|evaluate|export-onnx``: the neural drum model (models/drum_ae)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("drum-model", help="neural drum model: train, evaluate, export to ONNX")
    dsub = p.add_subparsers(dest="drum_model_command", required=True, metavar="ACTION")
    tr = dsub.add_parser("train", help="train on generated drum loops (checkpoints, resumable)")
    tr.add_argument("-o", "--out", type=Path, required=True,
                    help="run directory: checkpoint.pt, drums.ts (the trained model)")
    tr.add_argument("--steps", type=int, default=None, help="training steps (default 10000)")
    tr.add_argument("--resume", action="store_true", help="continue the run's checkpoint")
    tr.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    tr.set_defaults(func=run_train)
    ev = dsub.add_parser("evaluate", help="quality on held-out loops and a beatbox")
    ev.add_argument("model", type=Path, nargs="?", help="drum-model .ts (default: shipped)")
    ev.add_argument("--loops", type=int, default=8, help="held-out loops (default 8)")
    ev.add_argument("--write", type=Path, metavar="DIR", help="also write inputs and outputs")
    ev.add_argument("--json", action="store_true", help="print the results as JSON")
    ev.set_defaults(func=run_evaluate)
    ex = dsub.add_parser("export-onnx", help="explicit-state ONNX graphs of a drum model")
    ex.add_argument("model", type=Path, nargs="?", help="drum-model .ts (default: shipped)")
    ex.add_argument("-o", "--out", type=Path, required=True,
                    help="MODEL.onnx: writes MODEL.encode.onnx and MODEL.decode.onnx")
    ex.set_defaults(func=run_export)


def run_train(args: argparse.Namespace) -> int:
    from engine.errors import UsageError
    from models.drum_ae.train import TrainOptions, train

    opt = TrainOptions(threads=args.threads)
    if args.steps is not None:
        if args.steps < 1:
            raise UsageError("--steps must be at least 1")
        opt.steps = args.steps
    try:
        path = train(args.out, opt, resume=args.resume, log=lambda line: print(line, flush=True))
    except ValueError as exc:  # a checkpoint made with other options
        raise UsageError(str(exc)) from None
    print(f"wrote {path}")
    return 0


def _model(path: Path | None) -> Path:
    from engine.errors import UsageError
    from models.drum_ae.shipped import SHIPPED_MODEL

    model = path or SHIPPED_MODEL
    if not model.is_file():
        raise UsageError(f"{model}: no such model file")
    return model


def run_evaluate(args: argparse.Namespace) -> int:
    from engine.errors import UsageError
    from models.drum_ae.evaluate import evaluate

    if args.loops < 1:
        raise UsageError("--loops must be at least 1")
    result = evaluate(_model(args.model), loops=args.loops, write_dir=args.write)
    if args.json:
        from dsp.io.jsonfile import json_safe

        print(json.dumps(json_safe(result), indent=2))
        return 0
    ok = result["passed"]
    rows = (
        ("Onset F-measure (20 ms)", f"{result['onset_f_measure']:.3f}", ">= 0.9",
         ok["onset_f_measure"]),
        ("RMS envelope correlation", f"{result['rms_envelope_correlation']:.3f}", ">= 0.9",
         ok["rms_envelope_correlation"]),
        ("Centroid error", f"{100 * result['centroid_rel_error']:.1f} %", "<= 20 %",
         ok["centroid_rel_error"]),
        ("MR-STFT distance", f"{result['mrstft_distance']:.3f}",
         f"< {result['baseline_mrstft_distance']:.3f} (noise baseline)",
         ok["mrstft_below_baseline"]),
        ("Beatbox onset F (20 ms)", f"{result['beatbox_onset_f_measure']:.3f}", ">= 0.8",
         ok["beatbox_onset_f_measure"]),
    )
    print(f"{result['model']}: {result['loops']} held-out loops of {result['loop_s']:g} s, "
          f"{result['beatbox_hits']} beatbox hits")
    for label, value, target, passed in rows:
        print(f"  {label:<26}{value:>10}   target {target}  {'ok' if passed else 'MISSED'}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from engine.errors import UsageError
    from models.drum_ae.export import export_onnx
    from models.drum_ae.shipped import load_network

    if not args.out.parent.is_dir():
        raise UsageError(f"{args.out.parent}: no such directory")
    for path in export_onnx(load_network(_model(args.model)), args.out):
        print(f"wrote {path}")
    return 0
