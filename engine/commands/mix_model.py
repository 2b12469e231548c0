"""``musicmill mix-model train|info``: the auto-mix predictor (models/automix)."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.commands.options import add_training_args, check_at_least_one, write_training_record

DEFAULT_CACHE = Path("runs/automix-cache")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("mix-model", help="auto-mix predictor: train, show its record")
    msub = p.add_subparsers(dest="mix_model_command", required=True, metavar="ACTION")
    tr = msub.add_parser("train", help="train through the differentiable strips (resumable)")
    add_training_args(tr, "checkpoint.pt, predictor.npz, record.json", DEFAULT_CACHE, 600, 8,
                      "songs")
    tr.add_argument("--songs", type=int, default=400, help="generated songs (default 400)")
    tr.set_defaults(func=run_train)
    info = msub.add_parser("info", help="the shipped predictor's training record")
    info.set_defaults(func=run_info)


def run_train(args: argparse.Namespace) -> int:
    check_at_least_one(args, "songs", "steps", "batch", "threads")
    from models.automix.train import train

    record = train(args.cache, args.out, args.songs, args.steps, args.batch, args.seed,
                   args.threads, args.resume)
    return write_training_record(args, record, "predictor.npz")


def run_info(args: argparse.Namespace) -> int:
    from models.automix.predictor import WEIGHTS

    print(WEIGHTS.with_name("record.json").read_text(encoding="utf-8"), end="")
    return 0
