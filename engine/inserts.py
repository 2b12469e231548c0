"""Worker inserts selectable by name from the command line and presets."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.errors import UsageError
from engine.worker import PassThrough, PedalboardInsert, Processor

INSERT_NAMES = ("none", "passthrough", "reverb", "rave")
RAVE_BACKENDS = ("torchscript", "onnx")
WORKER_BLOCK_FRAMES = 256


def make_insert(name: str, sample_rate_hz: float, model_path: Path | None = None,
                backend: str = "torchscript", onnx_path: Path | None = None
                ) -> Processor | None:
    """Build the named worker insert; ``none`` means no worker path at all.

    ``rave`` streams the RAVE export at ``model_path`` (a .ts file is code: load only
    files you chose). ``backend="onnx"`` runs it on ONNX Runtime instead of TorchScript:
    graphs from ``onnx_path`` (a ``MODEL.onnx`` base name from ``musicmill rave
    export-onnx``) or exported once into the user cache (``models/rave/onnx_backend.py``).
    The RAVE processors have ``bind(values)``: the engine hands them its parameter array so
    the ``rave_*`` parameters drive them.
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
    if name == "rave":
        if model_path is None:
            raise UsageError("--insert rave needs --model PATH (a RAVE .ts export)")
        if backend == "onnx":
            from models.rave.onnx_backend import make_rave_onnx_insert

            return make_rave_onnx_insert(model_path, sample_rate_hz, onnx_path=onnx_path)
        from models.rave.processor import make_rave_insert

        return make_rave_insert(model_path, sample_rate_hz)
    raise ValueError(f"unknown insert {name!r}; choose one of {', '.join(INSERT_NAMES)}")


def add_insert_args(p: argparse.ArgumentParser) -> None:
    """The worker-insert options shared by ``run`` and ``render``."""
    p.add_argument("--insert", choices=INSERT_NAMES, default="reverb", help="worker insert")
    p.add_argument("--model", type=Path, help="RAVE .ts export for --insert rave")
    p.add_argument("--rave-backend", choices=RAVE_BACKENDS, default="torchscript",
                   help="run the RAVE model on TorchScript (default) or ONNX Runtime")
