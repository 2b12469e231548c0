"""Swap the worker's model while the engine plays; a file that fails keeps the old one.

Loading runs on the caller's thread (a console or GUI thread), never on the worker or in
the audio callback: a model takes from a fraction of a second to several seconds to load,
export or warm up, and the running model keeps playing meanwhile. Only a finished, bound
and warmed-up processor is handed to the worker (``Engine.swap_processor``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from engine.engine import Engine
from engine.errors import UsageError
from engine.inserts import MODEL_INSERTS, make_insert


class ModelSwapError(UsageError):
    """The new model could not be used; the previous one is still playing."""


def swap_model(engine: Engine, insert: str, model_path: Path, backend: str = "auto",
               references: Sequence[Path] = (), match: Path | None = None) -> str:
    """Load ``model_path`` as the ``insert`` (rave or drums) model and swap it in.

    Style and match references are encoded again by the new model (latent spaces differ
    between models). Returns a one-line report; raises :class:`ModelSwapError` naming the
    file and the reason when anything fails, with the engine untouched.
    """
    if insert not in MODEL_INSERTS:
        raise UsageError(f"model swap needs a model insert ({', '.join(MODEL_INSERTS)}), "
                         f"not --insert {insert}")
    if engine.worker is None:
        raise UsageError("there is no worker insert to swap")
    block = engine.worker.processor.block_frames
    try:
        # force: the references passed the duration policy when the run started, and a
        # swap mid-set must not refuse them now
        new = make_insert(insert, engine.sample_rate_hz, Path(model_path), backend,
                          references=references, match=match, block_frames=block,
                          force=True)
        added = engine.swap_processor(new)
    except Exception as exc:  # noqa: BLE001 -- a bad file of any kind must not stop the show
        text = str(exc).strip().splitlines()
        reason = text[0] if text else type(exc).__name__
        if not reason.startswith(f"{model_path}:"):  # most loaders name the file already
            reason = f"{model_path}: {reason}"
        raise ModelSwapError(f"{reason} (still playing the previous model)") from None
    ms = 1e3 * engine.worker_latency_frames / engine.sample_rate_hz
    grown = f", worker path +{added} frames" if added else ""
    return f"playing {Path(model_path).name} (worker path {ms:.1f} ms{grown})"
