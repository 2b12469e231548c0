"""Worker inserts selectable by name from the command line and presets."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import UsageError

if TYPE_CHECKING:
    from engine.worker import Processor

INSERT_NAMES = ("none", "passthrough", "reverb", "rave", "drums")
# the inserts that load a model: --model, --rave-backend and a live model swap act on these
MODEL_INSERTS = ("rave", "drums")
# "auto": ONNX Runtime for the drum model (its graphs are ours and several times faster),
# TorchScript for a user's RAVE export (the ONNX conversion takes a while on big models).
RAVE_BACKENDS = ("auto", "torchscript", "onnx")
DEFAULT_INSERT = "drums"
WORKER_BLOCK_FRAMES = 256


def make_insert(name: str, sample_rate_hz: float, model_path: Path | None = None,
                backend: str = "auto", onnx_path: Path | None = None,
                references: Sequence[Path] = (), match: Path | None = None,
                block_frames: int | None = None, seed: int | None = None,
                force: bool = False) -> Processor | None:
    """Build the named worker insert; ``none`` means no worker path at all.

    ``rave`` streams the RAVE export at ``model_path`` (a .ts file is code: load only
    files you chose). ``backend="onnx"`` runs it on ONNX Runtime instead of TorchScript:
    graphs from ``onnx_path`` (a ``MODEL.onnx`` base name from ``musicmill rave
    export-onnx``) or exported once into the user cache (``models/rave/onnx_backend.py``).
    ``drums`` plays the shipped neural drum model (``models/drum_ae``), or the drum-model
    export at ``model_path`` (from ``musicmill drum-model train``), through the same RAVE
    insert. The RAVE processors have ``bind(values)``: the engine hands them its parameter
    array so the ``rave_*`` parameters drive them. ``references`` (style blend) and
    ``match`` (latent statistics to pull toward) are audio files for those two, encoded
    by the model once here (:func:`load_references`). ``block_frames``: the model
    inserts' worker block (default their model block; a hot-swap keeps the running one).
    ``seed``: the model inserts draw their randomness (posterior samples, chaos) from it, so
    a run repeats exactly (offline work); None draws freely (live). ``force``: reference
    files over the duration limit are read (the command's ``--force``).
    """
    processor = _build(name, sample_rate_hz, model_path, backend, onnx_path, block_frames,
                       seed)
    if references or match is not None:
        load_references(processor, name, references, match, force)
    return processor


def load_references(processor: Processor | None, name: str, references: Sequence[Path],
                    match: Path | None, force: bool = False) -> None:
    """Encode style references and the match reference with the insert's model.

    Files are read whole, downmixed or spread to the model's channels and resampled to its
    rate; a bad file is a ``UsageError`` naming it, one over the duration limit is refused
    unless ``force`` (the command's ``--force``).
    """
    from dsp.io.audio import read_audio
    from dsp.resample import resample
    from models.rave.processor import RaveProcessor

    if not isinstance(processor, RaveProcessor):
        raise UsageError(f"--reference/--match need a model insert (rave or drums), "
                         f"not --insert {name}")
    model = processor.model

    def at_model_rate(path: Path):
        audio = read_audio(path, force)
        y = resample(audio.samples, audio.rate_hz, model.sample_rate).T
        if y.shape[1] < model.compression_ratio:
            raise UsageError(f"{path}: too short to encode (under one latent frame, "
                             f"{model.compression_ratio} samples at {model.sample_rate} Hz)")
        return y

    if references:
        processor.set_style_references([at_model_rate(p) for p in references])
    if match is not None:
        processor.set_match_reference(at_model_rate(match))


def _build(name: str, sample_rate_hz: float, model_path: Path | None, backend: str,
           onnx_path: Path | None, block_frames: int | None, seed: int | None
           ) -> Processor | None:
    if backend not in RAVE_BACKENDS:
        raise UsageError(f"unknown RAVE backend {backend!r}; "
                         f"choose one of {', '.join(RAVE_BACKENDS)}")
    if name == "none":
        return None
    if name == "passthrough":
        from engine.worker import PassThrough

        return PassThrough(WORKER_BLOCK_FRAMES)
    if name == "reverb":
        from pedalboard import Pedalboard, Reverb

        from engine.worker import PedalboardInsert

        board = Pedalboard([Reverb(room_size=0.6, damping=0.4, wet_level=0.5, dry_level=0.5)])
        return PedalboardInsert(board, sample_rate_hz, WORKER_BLOCK_FRAMES)
    if name == "drums":
        from models.drum_ae.shipped import make_drums_insert

        return make_drums_insert(sample_rate_hz, model_path,
                                 "torchscript" if backend == "torchscript" else "onnx",
                                 seed=seed, block_frames=block_frames)
    if name == "rave":
        if model_path is None:
            raise UsageError("--insert rave needs --model PATH (a RAVE .ts export)")
        if backend == "onnx":  # "auto" keeps TorchScript for RAVE exports
            from models.rave.onnx_backend import make_rave_onnx_insert

            return make_rave_onnx_insert(model_path, sample_rate_hz, onnx_path=onnx_path,
                                         seed=seed, block_frames=block_frames)
        from models.rave.processor import make_rave_insert

        return make_rave_insert(model_path, sample_rate_hz, seed=seed, block_frames=block_frames)
    raise ValueError(f"unknown insert {name!r}; choose one of {', '.join(INSERT_NAMES)}")
