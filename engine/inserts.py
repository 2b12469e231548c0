"""Worker inserts selectable by name from the command line and presets."""

from __future__ import annotations

from engine.worker import PassThrough, PedalboardInsert, Processor

INSERT_NAMES = ("none", "passthrough", "reverb")
WORKER_BLOCK_FRAMES = 256


def make_insert(name: str, sample_rate_hz: float) -> Processor | None:
    """Build the named worker insert; ``none`` means no worker path at all."""
    if name == "none":
        return None
    if name == "passthrough":
        return PassThrough(WORKER_BLOCK_FRAMES)
    if name == "reverb":
        from pedalboard import Pedalboard, Reverb

        board = Pedalboard([Reverb(room_size=0.6, damping=0.4, wet_level=0.5, dry_level=0.5)])
        return PedalboardInsert(board, sample_rate_hz, WORKER_BLOCK_FRAMES)
    raise ValueError(f"unknown insert {name!r}; choose one of {', '.join(INSERT_NAMES)}")
