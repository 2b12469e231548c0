"""Command-line options shared by several commands (kept light: ``--help`` imports this)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from engine.inserts import DEFAULT_INSERT, INSERT_NAMES, MODEL_INSERTS, RAVE_BACKENDS
from presets.styles import STYLES

DEFAULT_PRESET = "Balanced"  # what run and render start from


def add_style_arg(p: argparse.ArgumentParser) -> None:
    """``--style``, shared by run, render and mix."""
    p.add_argument("--style", metavar="NAME|FILE",
                   help=f"auto-mix targets: {', '.join(STYLES)}, or an audio file to "
                   "match (sets automix_amount=1; --set overrides)")


def add_denoise_arg(p: argparse.ArgumentParser) -> None:
    """``--denoise``, shared by run and render."""
    p.add_argument("--denoise", action="store_true",
                   help="spectral noise reduction in the input strip (adds 8 ms; "
                   "denoise_amount sets how much, denoise_learn learns the room)")


def add_set_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--set", action="append", metavar="PARAM=VALUE", dest="assignments",
                   default=[], help="set a parameter (repeatable), e.g. --set master_gain_db=-6")


def add_insert_args(p: argparse.ArgumentParser) -> None:
    """The worker-insert options shared by ``run`` and ``render``."""
    p.add_argument("--insert", choices=INSERT_NAMES, default=DEFAULT_INSERT,
                   help=f"worker insert (default {DEFAULT_INSERT}: the shipped neural drum "
                   "model)")
    p.add_argument("--model", type=Path,
                   help="RAVE .ts export for --insert rave; drum-model .ts for --insert drums")
    p.add_argument("--rave-backend", choices=RAVE_BACKENDS, default="auto",
                   help="model runtime: TorchScript or ONNX Runtime (auto: ONNX for the "
                   "drum model, TorchScript for RAVE exports)")
    p.add_argument("--reference", type=Path, action="append", default=[], metavar="FILE",
                   help="style reference audio for the model insert (repeat for more; "
                   "rave_style blends them, rave_generator=3 plays the blend)")
    p.add_argument("--match", type=Path, metavar="FILE",
                   help="reference audio whose latent statistics rave_match pulls toward")


def add_plugin_args(p: argparse.ArgumentParser) -> None:
    """``--plugin`` and ``--lenient``, shared by run and render."""
    p.add_argument("--plugin", action="append", default=[], metavar="SLOT:URI|PATH",
                   dest="plugins",
                   help="load a plugin into a chain slot (repeatable, in order): voice or "
                   "master (LV2, in the audio callback) or worker (LV2 or .vst3); e.g. "
                   "--plugin master:http://gareus.org/oss/lv2/balance")
    p.add_argument("--lenient", action="store_true",
                   help="drop a preset's plugin that is not installed (with a warning) "
                   "instead of refusing the preset")


def add_training_args(p: argparse.ArgumentParser, writes: str, cache: Path, steps: int,
                      batch: int, batch_unit: str) -> None:
    """A trainer's run directory, cache, length, seed, threads and resume (the auto-mix
    predictor and the transcriber train the same way)."""
    p.add_argument("-o", "--out", type=Path, required=True, help=f"run directory: {writes}")
    p.add_argument("--cache", type=Path, default=cache,
                   help=f"rendered training material (made when missing; default {cache})")
    p.add_argument("--steps", type=int, default=steps, help=f"training steps (default {steps})")
    p.add_argument("--batch", type=int, default=batch,
                   help=f"{batch_unit} per step (default {batch})")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the initial weights and of the batches drawn (default 0)")
    p.add_argument("--threads", type=int, default=2, help="torch threads")
    p.add_argument("--resume", action="store_true", help="continue the run's checkpoint")


def check_at_least_one(args: argparse.Namespace, *names: str) -> None:
    """UsageError naming the first of ``names`` (option dests) below 1."""
    from engine.errors import UsageError

    for name in names:
        if getattr(args, name) < 1:
            raise UsageError(f"--{name} must be at least 1")


def refuse_without(needed: str, given: Sequence[tuple[str, bool]]) -> None:
    """UsageError "FLAG needs NEEDED" for the first ``(flag, was given)`` pair given: the
    caller has found ``needed`` missing, and an option acting through it would do nothing."""
    from engine.errors import UsageError

    for flag, was_given in given:
        if was_given:
            raise UsageError(f"{flag} needs {needed}")


def check_insert_args(args: argparse.Namespace) -> None:
    """``--model`` and ``--rave-backend`` act on a model insert only (run and render)."""
    if args.insert not in MODEL_INSERTS:
        refuse_without("a model insert (--insert drums or rave)",
                       [("--model", args.model is not None),
                        ("--rave-backend", args.rave_backend != "auto")])


def write_training_record(args: argparse.Namespace, record: dict, made: str) -> int:
    """A trainer's record (with the command line that made it) into ``RUN_DIR/record.json``;
    prints its final losses and what was written."""
    import json
    import shlex
    import sys

    record = {"command": shlex.join(["musicmill", *sys.argv[1:]]), **record}
    (args.out / "record.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record["final"]))
    print(f"wrote {args.out / made}")
    return 0
