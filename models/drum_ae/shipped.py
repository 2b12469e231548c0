"""The drum model that ships with MusicMill, as the engine's default worker insert.

``drums.ts`` beside this file is the trained model (``musicmill drum-model train``, command
and results in the README and docs/BENCHMARKS.md) in the RAVE TorchScript interface. The
worker runs it through the RAVE worker insert (``models/rave``: resampling, latent controls,
dry/wet), on ONNX Runtime by default: the graphs are exported from the ``.ts`` once into
the user cache (``$XDG_CACHE_HOME/musicmill/drum-onnx/<sha256>/``) with the model's facts
beside them, so after the first run playing it imports no torch.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from models.errors import ModelError

if TYPE_CHECKING:
    from models.drum_ae.network import DrumAE

SHIPPED_MODEL = Path(__file__).with_name("drums.ts")


def load_network(ts_path: Path | str) -> DrumAE:
    """The :class:`DrumAE` inside a drum-model ``.ts`` (weights only; the file's code is
    not run). ``ModelError`` if the file is not one of our drum-model exports."""
    import torch

    from models.drum_ae.network import DrumAE  # its PQMF design imports scipy: only here

    ts_path = Path(ts_path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            module = torch.jit.load(str(ts_path), map_location="cpu")
        weights = {k[len("model."):]: v for k, v in module.state_dict().items()
                   if k.startswith("model.")}
        net = DrumAE()
        net.load_state_dict(weights)
    except (RuntimeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"{ts_path}: not a MusicMill drum-model export: {first}") from None
    return net.eval()


def _export(ts_path: Path, base: Path) -> None:
    from models.drum_ae.export import export_onnx

    export_onnx(load_network(ts_path), base)


def drum_onnx_graphs(ts_path: Path | str) -> Path:
    """The cached ``MODEL.onnx`` base name of the graphs for ``ts_path`` (exported once)."""
    from models.rave.onnx_backend import onnx_graphs

    return onnx_graphs(ts_path, cache=_cache(), exporter=_export)


def _cache() -> Path:
    from models.rave.onnx_backend import cache_dir

    return cache_dir().parent / "drum-onnx"


def make_drums_insert(sample_rate_hz: float, model_path: Path | str | None = None,
                      backend: str = "onnx", seed: int | None = None,
                      block_frames: int | None = None):
    """The worker insert playing the drum model (default: the shipped one).

    ``backend``: ``"onnx"`` (ONNX Runtime, the default: several times faster, and no
    torch once the graphs are cached) or ``"torchscript"``. One latent frame (256 samples
    at 48 kHz) per model call.
    """
    path = Path(model_path) if model_path is not None else SHIPPED_MODEL
    if backend == "onnx":
        from models.rave.onnx_backend import RaveOnnxProcessor, cached_rave

        model, base = cached_rave(path, cache=_cache(), exporter=_export)
        return RaveOnnxProcessor(model, base, sample_rate_hz, seed=seed,
                                 block_frames=block_frames)
    from models.rave.loader import load_rave
    from models.rave.processor import RaveProcessor

    return RaveProcessor(load_rave(path), sample_rate_hz, seed=seed, block_frames=block_frames)
