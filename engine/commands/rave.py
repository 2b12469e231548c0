"""``musicmill rave info MODEL [--json]``: what a RAVE export is, read and measured."""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rave", help="inspect RAVE models (TorchScript .ts exports)")
    rsub = p.add_subparsers(dest="rave_command", required=True, metavar="ACTION")
    info = rsub.add_parser("info", help="sample rate, latent size, streaming, delay...")
    info.add_argument("model", type=Path, help="RAVE export (.ts)")
    info.add_argument("--json", action="store_true", help="print one JSON object")
    info.set_defaults(func=run_info)
    from engine.commands.rave_onnx import register_export

    register_export(rsub)


def run_info(args: argparse.Namespace) -> int:
    # Imported here: torch takes seconds to import and other subcommands do not need it.
    import torch

    from models.rave.loader import load_rave

    torch.set_num_threads(1)  # measure the delay the way the engine's worker runs it
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        model = load_rave(args.model)  # RaveLoadError is a UsageError: exit 2, one line
        info = model.info()
    if args.json:
        print(json.dumps(info))
        return 0
    width = max(len(k) for k in info)
    for key, value in info.items():
        shown = ", ".join(value) if isinstance(value, list) else value
        print(f"{key:<{width}}  {shown}")
    for w in caught:
        print(f"warning: {w.message}")
    return 0
