"""Worker inserts selectable by name from the command line and presets."""

from __future__ import annotations

from pathlib import Path

from engine.errors import UsageError
from engine.worker import PassThrough, PedalboardInsert, Processor

INSERT_NAMES = ("none", "passthrough", "reverb", "rave")
WORKER_BLOCK_FRAMES = 256


def make_insert(name: str, sample_rate_hz: float,
                model_path: Path | None = None) -> Processor | None:
    """Build the named worker insert; ``none`` means no worker path at all.

    ``rave`` streams the RAVE export at ``model_path`` (a .ts file is code: load only
    files you chose).
    """
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
        from models.rave.processor import make_rave_insert

        return make_rave_insert(model_path, sample_rate_hz)
    raise ValueError(f"unknown insert {name!r}; choose one of {', '.join(INSERT_NAMES)}")
