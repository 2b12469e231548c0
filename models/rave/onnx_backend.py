"""RAVE on ONNX Runtime: the worker insert of ``processor.py`` with another model runtime.

``RaveOnnxProcessor`` is a :class:`~models.rave.processor.RaveProcessor` (same Processor
protocol, controls, :meth:`bind`, resampling, FIFOs, dry/wet and delay) whose model block
runs the explicit-state graphs of ``onnx_export.py`` instead of the TorchScript methods:

* encode: ``audio`` + posterior noise ``eps`` -> ``z``; ``eps`` is drawn with
  ``torch.randn`` right after the same per-block ``torch.manual_seed(seed + n)`` that the
  TorchScript path uses, which are exactly the numbers RAVE's ``randn_like`` draws there, so
  with a seed both backends give the same output (to float rounding). ``encode_mode="mean"``
  feeds zeros: the posterior mean.
* decode: ``z`` after the latent controls [+ ``latent_noise`` when the model pads latents,
  drawn next from the same generator, as RAVE's ``decode`` does] -> ``audio``.

The ``RaveModel`` (TorchScript) is still loaded: it supplies the rates, sizes and measured
delay, and encodes the ``match`` reference offline. Only the live path runs on ONNX.

Graphs come from :func:`onnx_graphs`: an explicit ``onnx_path`` (``MODEL.onnx`` base name,
as ``musicmill rave export-onnx`` writes it) or a per-file cache under
``$XDG_CACHE_HOME/musicmill/rave-onnx/<sha256 of the .ts>/`` exported on first use.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models.errors import ModelError
from models.rave.loader import RaveModel
from models.rave.onnx_export import (
    draw_decode_noise,
    export_onnx,
    graph_noise_layout,
    onnx_paths,
)
from models.rave.onnx_stream import OnnxStream
from models.rave.processor import RaveProcessor


def cache_dir() -> Path:
    """Where exported graphs are kept: ``$XDG_CACHE_HOME/musicmill/rave-onnx``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "musicmill" / "rave-onnx"


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def onnx_graphs(ts_path: Path | str, onnx_path: Path | str | None = None,
                cache: Path | None = None,
                exporter: Callable[[Path, Path], Any] = export_onnx) -> Path:
    """The ``MODEL.onnx`` base name whose encode/decode graphs match ``ts_path``.

    With ``onnx_path`` the graphs must already exist there (``ModelError`` otherwise).
    Without, they are exported once into ``cache`` (default :func:`cache_dir`), keyed by
    the .ts content so an edited model file is never served stale graphs. The export
    writes each file atomically, so a crash mid-export leaves no half graph behind.
    ``exporter(ts_path, base)`` writes the graphs (default: RAVE's, ``onnx_export``).
    """
    if onnx_path is not None:
        base = Path(onnx_path)
        missing = [p for p in onnx_paths(base) if not p.is_file()]
        if missing:
            raise ModelError(f"ONNX graph {missing[0]} not found (export it with "
                             "`musicmill rave export-onnx`)")
        return base
    ts_path = Path(ts_path)
    base = (cache or cache_dir()) / _digest(ts_path) / "model.onnx"
    if not all(p.is_file() for p in onnx_paths(base)):
        base.parent.mkdir(parents=True, exist_ok=True)
        exporter(ts_path, base)
    return base


class PosteriorNoise:
    """The encode graph's ``eps``, from torch's generator as RAVE's ``encode`` draws it.

    ``draw(frames, exact=True)`` is one ``torch.randn`` call per block: after the seeded
    processor's per-block ``manual_seed`` these are exactly the TorchScript path's numbers.
    Unseeded there is nothing to reproduce, and a torch call between two ORT runs cost
    15-20 us of a ~200 us block here (its code and data evict the graphs'), so ``exact=False``
    hands out slices of one draw of :data:`POOL_FRAMES` frames.
    """

    POOL_FRAMES = 256

    def __init__(self, dims: int) -> None:
        self.dims = dims
        self._pool = np.empty((1, dims, 0), np.float32)
        self._used = 0

    def draw(self, frames: int, exact: bool) -> np.ndarray:
        """``(1, dims, frames)`` float32 standard normal."""
        if exact:
            return torch.randn(1, self.dims, frames).numpy()
        if self._used + frames > self._pool.shape[-1]:
            self._pool = torch.randn(1, self.dims, max(frames, self.POOL_FRAMES)).numpy()
            self._used = 0
        self._used += frames
        return self._pool[..., self._used - frames: self._used]


class RaveOnnxProcessor(RaveProcessor):
    """``RaveProcessor`` whose encode/decode run on ONNX Runtime (see module doc).

    One intra-op thread, like the TorchScript path on the worker (FACTS: two were erratic).
    Mono and stereo, every family ``onnx_export`` rebuilds.
    """

    def __init__(self, model: RaveModel, onnx_path: Path | str,
                 engine_rate_hz: float = 48000.0, latent_frames: int = 1,
                 block_frames: int | None = None, seed: int | None = None,
                 texture_seed: int = 0, encode_mode: str = "sample") -> None:
        """``onnx_path``: the ``MODEL.onnx`` base name of graphs exported from ``model``."""
        enc_path, dec_path = onnx_paths(onnx_path)
        # Before super().__init__: it calls reset(), which rewinds these streams.
        self._enc = OnnxStream(enc_path, threads=1)
        self._dec = OnnxStream(dec_path, threads=1)
        self._noise_layout = graph_noise_layout(self._dec)
        self._eps = PosteriorNoise(model.full_latent_dims)
        super().__init__(model, engine_rate_hz, latent_frames=latent_frames,
                         block_frames=block_frames, seed=seed, texture_seed=texture_seed,
                         encode_mode=encode_mode)

    def reset(self) -> None:
        """As :meth:`RaveProcessor.reset`, and the graphs' states back to the export's."""
        self._enc.reset()
        self._dec.reset()
        super().reset()

    def _encode(self, x: np.ndarray) -> np.ndarray:
        """``(channels, model_block)`` -> ``(latent_dims, frames)`` through the encode graph.

        ``eps`` is drawn from torch's generator, where RAVE's ``encode`` draws it (block by
        block when seeded, pooled otherwise: :class:`PosteriorNoise`).
        """
        model = self.model
        frames = x.shape[1] // model.compression_ratio
        if self.encode_mode == "mean":
            eps = np.zeros((1, model.full_latent_dims, frames), np.float32)
        else:
            eps = self._eps.draw(frames, exact=self.seed is not None)
        return self._enc(audio=x[None], eps=eps)[0]

    def _decode(self, z: np.ndarray) -> np.ndarray:
        """``(latent_dims, frames)`` -> audio through the decode graph. Its random inputs
        (latent padding, the noise branch) are drawn next from the same generator, in the
        order and shapes RAVE's ``decode`` draws them."""
        zc = np.ascontiguousarray(z[None], dtype=np.float32)
        return self._dec(z=zc, **draw_decode_noise(self._noise_layout, z.shape[1]))[0]


def make_rave_onnx_insert(path: str | Path, sample_rate_hz: float,
                          onnx_path: Path | str | None = None, latent_frames: int = 1,
                          seed: int | None = None, block_frames: int | None = None
                          ) -> RaveOnnxProcessor:
    """The ONNX worker insert: load the .ts at ``path`` and run its ONNX graphs.

    ``onnx_path``: prebuilt graphs (``MODEL.onnx`` base name); ``None`` exports to the cache
    on first use (seconds for the tiny fixtures, longer for full-size models).
    """
    from models.rave.loader import load_rave

    model = load_rave(path)
    base = onnx_graphs(path, onnx_path)
    return RaveOnnxProcessor(model, base, sample_rate_hz, latent_frames=latent_frames,
                             seed=seed, block_frames=block_frames)
