"""``musicmill mix-model train|info``: the auto-mix predictor (models/automix)."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

DEFAULT_CACHE = Path("runs/automix-cache")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("mix-model", help="auto-mix predictor: train, show its record")
    msub = p.add_subparsers(dest="mix_model_command", required=True, metavar="ACTION")
    tr = msub.add_parser("train", help="train through the differentiable strips (resumable)")
    tr.add_argument("-o", "--out", type=Path, required=True,
                    help="run directory: checkpoint.pt, predictor.npz, record.json")
    tr.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                    help=f"rendered songs (made when missing; default {DEFAULT_CACHE})")
    tr.add_argument("--songs", type=int, default=400, help="generated songs (default 400)")
    tr.add_argument("--steps", type=int, default=600, help="training steps (default 600)")
    tr.add_argument("--batch", type=int, default=8, help="songs per step (default 8)")
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--threads", type=int, default=2, help="torch threads and renderers")
    tr.add_argument("--resume", action="store_true", help="continue the run's checkpoint")
    tr.set_defaults(func=run_train)
    info = msub.add_parser("info", help="the shipped predictor's training record")
    info.set_defaults(func=run_info)


def run_train(args: argparse.Namespace) -> int:
    from engine.errors import UsageError

    for name in ("songs", "steps", "batch", "threads"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name} must be at least 1")
    from models.automix.train import train

    record = train(args.cache, args.out, args.songs, args.steps, args.batch, args.seed,
                   args.threads, args.resume)
    record = {"command": shlex.join(["musicmill", *sys.argv[1:]]), **record}
    (args.out / "record.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record["final"]))
    print(f"wrote {args.out / 'predictor.npz'}")
    return 0


def run_info(args: argparse.Namespace) -> int:
    from models.automix.predictor import WEIGHTS

    print(WEIGHTS.with_name("record.json").read_text(encoding="utf-8"), end="")
    return 0
