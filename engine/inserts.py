"""Worker inserts selectable by name from the command line and presets."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.errors import UsageError
from engine.worker import PassThrough, PedalboardInsert, Processor

INSERT_NAMES = ("none", "passthrough", "reverb", "rave", "drums")
# "auto": ONNX Runtime for the drum model (its graphs are ours and several times faster),
# TorchScript for a user's RAVE export (the ONNX conversion takes a while on big models).
RAVE_BACKENDS = ("auto", "torchscript", "onnx")
DEFAULT_INSERT = "drums"
WORKER_BLOCK_FRAMES = 256


def make_insert(name: str, sample_rate_hz: float, model_path: Path | None = None,
                backend: str = "auto", onnx_path: Path | None = None
                ) -> Processor | None:
    """Build the named worker insert; ``none`` means no worker path at all.

    ``rave`` streams the RAVE export at ``model_path`` (a .ts file is code: load only
    files you chose). ``backend="onnx"`` runs it on ONNX Runtime instead of TorchScript:
    graphs from ``onnx_path`` (a ``MODEL.onnx`` base name from ``musicmill rave
    export-onnx``) or exported once into the user cache (``models/rave/onnx_backend.py``).
    ``drums`` plays the shipped neural drum model (``models/drum_ae``), or the drum-model
    export at ``model_path`` (from ``musicmill drum-model train``), through the same RAVE
    insert. The RAVE processors have ``bind(values)``: the engine hands them its parameter
    array so the ``rave_*`` parameters drive them.
    """
    if backend not in RAVE_BACKENDS:
        raise UsageError(f"unknown RAVE backend {backend!r}; "
                         f"choose one of {', '.join(RAVE_BACKENDS)}")
    if name == "none":
        return None
    if name == "passthrough":
        return PassThrough(WORKER_BLOCK_FRAMES)
    if name == "reverb":
        from pedalboard import Pedalboard, Reverb

        board = Pedalboard([Reverb(room_size=0.6, damping=0.4, wet_level=0.5, dry_level=0.5)])
        return PedalboardInsert(board, sample_rate_hz, WORKER_BLOCK_FRAMES)
    if name == "drums":
        from models.drum_ae.shipped import make_drums_insert

        return make_drums_insert(sample_rate_hz, model_path,
                                 "torchscript" if backend == "torchscript" else "onnx")
    if name == "rave":
        if model_path is None:
            raise UsageError("--insert rave needs --model PATH (a RAVE .ts export)")
        if backend == "onnx":  # "auto" keeps TorchScript for RAVE exports
            from models.rave.onnx_backend import make_rave_onnx_insert

            return make_rave_onnx_insert(model_path, sample_rate_hz, onnx_path=onnx_path)
        from models.rave.processor import make_rave_insert

        return make_rave_insert(model_path, sample_rate_hz)
    raise ValueError(f"unknown insert {name!r}; choose one of {', '.join(INSERT_NAMES)}")


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
