"""``musicmill continuo-model train|tune|info``: the neural transcriber (models/continuo)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine.commands.options import add_training_args, check_at_least_one, write_training_record

DEFAULT_CACHE = Path("runs/continuo-cache")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("continuo-model", help="neural transcriber: train, tune, show its record")
    csub = p.add_subparsers(dest="continuo_model_command", required=True, metavar="ACTION")
    tr = csub.add_parser("train", help="render the training set, train (resumable), tune")
    add_training_args(tr, "checkpoint.pt, continuo.onnx, continuo.pt, continuo.decoder.json, "
                      "record.json", DEFAULT_CACHE, 5000, 20, "crops of 4 s")
    tr.set_defaults(func=run_train)
    tu = csub.add_parser("tune", help="choose a run's decoder thresholds per instrument "
                         "on development takes")
    tu.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="holds continuo.onnx")
    tu.add_argument("--clips", type=int, default=4, help="takes per instrument (default 4)")
    tu.set_defaults(func=run_tune)
    info = csub.add_parser("info", help="the shipped model's training record")
    info.set_defaults(func=run_info)


def _log(message: str) -> None:
    print(message, file=sys.stderr)


def run_train(args: argparse.Namespace) -> int:
    from engine.errors import UsageError

    check_at_least_one(args, "steps", "batch", "threads")
    from models.continuo.dataset import CorpusError, build
    from models.continuo.train import train
    from models.continuo.tune import tune, write

    try:
        data = build(args.cache, log=_log)
    except CorpusError as exc:
        raise UsageError(str(exc)) from None
    record = train(data, args.out, args.steps, args.batch, args.seed, args.threads,
                   args.resume, log=_log)
    best = tune(args.out / "continuo.onnx", log=_log)
    write(best, args.out / "continuo.decoder.json")
    return write_training_record(args, {"device": "cpu", **record, "decoder": best},
                                 "continuo.onnx")


def run_tune(args: argparse.Namespace) -> int:
    from engine.errors import UsageError

    check_at_least_one(args, "clips")
    model = args.run_dir / "continuo.onnx"
    if not model.is_file():
        raise UsageError(f"{model}: no such file (train first)")
    from models.continuo.tune import tune, write

    best = tune(model, args.clips, log=_log)
    write(best, args.run_dir / "continuo.decoder.json")
    print(json.dumps(best))
    return 0


def run_info(args: argparse.Namespace) -> int:
    from models.continuo.layout import SHIPPED

    print(SHIPPED.with_name("record.json").read_text(encoding="utf-8"), end="")
    return 0
