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

The random numbers come from a :class:`~models.rave.torch_rng.TorchRng`, which draws what
torch's generator would, so this path imports no torch. The export's rates, sizes and
measured delay come from a :class:`~models.rave.meta.LazyRaveModel` read from the graphs'
cache folder (:func:`cached_rave`); its TorchScript module is loaded only to encode a
``match`` reference offline or, for a discrete export, to map codes and latents.

Graphs come from :func:`onnx_graphs`: an explicit ``onnx_path`` (``MODEL.onnx`` base name,
as ``musicmill rave export-onnx`` writes it) or a per-file cache under
``$XDG_CACHE_HOME/musicmill/rave-onnx/<sha256 of the .ts>/`` exported on first use.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dsp.io.user_cache import prune, touch, user_cache_dir
from models.errors import ModelError
from models.rave.meta import (
    META_FILE,
    LazyRaveModel,
    meta_of,
    not_streaming_message,
    read_meta,
    write_meta,
)
from models.rave.onnx_graphs import draw_decode_noise, graph_noise_layout, onnx_paths
from models.rave.onnx_stream import OnnxStream
from models.rave.processor import RaveProcessor
from models.rave.torch_rng import TorchRng

if TYPE_CHECKING:
    from models.rave.loader import RaveModel


def export_onnx(ts_path: Path, base: Path) -> Any:
    """RAVE's exporter (``onnx_export``, which imports torch: only when it runs)."""
    from models.rave.onnx_export import export_onnx as export

    return export(ts_path, base)


def cache_dir() -> Path:
    """Where exported graphs are kept: ``$XDG_CACHE_HOME/musicmill/rave-onnx``."""
    return user_cache_dir("rave-onnx")


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
    return _exported(ts_path, (cache or cache_dir()) / _digest(ts_path), exporter)


def _exported(ts_path: Path, folder: Path, exporter: Callable[[Path, Path], Any]) -> Path:
    base = folder / "model.onnx"
    if all(p.is_file() for p in onnx_paths(base)):
        touch(folder)
        return base
    folder.mkdir(parents=True, exist_ok=True)
    exporter(ts_path, base)
    prune(folder.parent, keep=folder)
    return base


def cached_rave(ts_path: Path | str, onnx_path: Path | str | None = None,
                cache: Path | None = None,
                exporter: Callable[[Path, Path], Any] = export_onnx
                ) -> tuple[LazyRaveModel, Path]:
    """The export at ``ts_path`` as the ONNX insert needs it: its facts and its graphs.

    Both are kept in the cache folder of :func:`onnx_graphs` (``meta.json`` beside the
    graphs), so only the first use loads the ``.ts`` and measures it; later ones import
    no torch. A discrete export's module is loaded every time: its codes and latents are
    mapped by it on the worker, where a first load would stall the audio. A missing or
    unreadable ``.ts`` raises the loader's ``RaveLoadError``.
    """
    ts_path = Path(ts_path)
    if not ts_path.is_file():
        from models.rave.loader import load_rave

        load_rave(ts_path)  # raises its one-line "no such model file"
    folder = (cache or cache_dir()) / _digest(ts_path)
    model = _described(ts_path, folder / META_FILE)
    if onnx_path is not None:
        return model, onnx_graphs(ts_path, onnx_path)
    return model, _exported(ts_path, folder, exporter)


def _described(ts_path: Path, meta_path: Path) -> LazyRaveModel:
    meta = read_meta(meta_path)
    if meta is not None and not meta.discrete:
        if not meta.streaming:
            warnings.warn(not_streaming_message(ts_path), stacklevel=3)
        return LazyRaveModel(ts_path, meta)
    from models.rave.loader import load_rave

    loaded = load_rave(ts_path)
    if meta is None:
        meta = meta_of(loaded)  # measures the delay: the once-only cost
        try:
            meta_path.parent.mkdir(parents=True, exist_ok=True)
            write_meta(meta_path, meta)
        except OSError:
            pass  # a read-only cache: measured again next time, nothing else lost
    return LazyRaveModel(ts_path, meta, loaded)


class PosteriorNoise:
    """The encode graph's ``eps``, drawn as RAVE's ``encode`` draws it from torch's generator.

    ``draw(frames, exact=True)`` is one ``randn`` call per block: after the seeded
    processor's per-block ``manual_seed`` these are the TorchScript path's numbers.
    Unseeded there is nothing to reproduce, and each call costs more than its numbers
    (a few us of Python between two ORT runs), so ``exact=False`` hands out slices of one
    draw of :data:`POOL_FRAMES` frames.
    """

    POOL_FRAMES = 256

    def __init__(self, dims: int, rng: TorchRng) -> None:
        self.dims = dims
        self.rng = rng
        self._pool = np.empty((1, dims, 0), np.float32)
        self._used = 0

    def draw(self, frames: int, exact: bool) -> np.ndarray:
        """``(1, dims, frames)`` float32 standard normal."""
        if exact:
            return self.rng.randn(1, self.dims, frames)
        if self._used + frames > self._pool.shape[-1]:
            self._pool = self.rng.randn(1, self.dims, max(frames, self.POOL_FRAMES))
            self._used = 0
        self._used += frames
        return self._pool[..., self._used - frames: self._used]


class RaveOnnxProcessor(RaveProcessor):
    """``RaveProcessor`` whose encode/decode run on ONNX Runtime (see module doc).

    One intra-op thread, like the TorchScript path on the worker (FACTS: two were erratic).
    Mono and stereo, every family ``onnx_export`` rebuilds.
    """

    def __init__(self, model: RaveModel | LazyRaveModel, onnx_path: Path | str,
                 engine_rate_hz: float = 48000.0, latent_frames: int = 1,
                 block_frames: int | None = None, seed: int | None = None,
                 texture_seed: int = 0, encode_mode: str = "sample") -> None:
        """``onnx_path``: the ``MODEL.onnx`` base name of graphs exported from ``model``."""
        enc_path, dec_path = onnx_paths(onnx_path)
        # Before super().__init__: it calls reset(), which rewinds these streams.
        self._enc = OnnxStream(enc_path, threads=1)
        self._dec = OnnxStream(dec_path, threads=1)
        self._noise_layout = graph_noise_layout(self._dec)
        self._rng = TorchRng(seed)  # reseeded per block when seeded (_seed_block)
        self._eps = PosteriorNoise(model.full_latent_dims, self._rng)
        super().__init__(model, engine_rate_hz, latent_frames=latent_frames,
                         block_frames=block_frames, seed=seed, texture_seed=texture_seed,
                         encode_mode=encode_mode)

    def reset(self) -> None:
        """As :meth:`RaveProcessor.reset`, and the graphs' states back to the export's."""
        self._enc.reset()
        self._dec.reset()
        super().reset()

    def _seed_block(self, seed: int) -> None:
        self._rng.manual_seed(seed)

    def _encode(self, x: np.ndarray) -> np.ndarray:
        """``(channels, model_block)`` -> ``(latent_dims, frames)`` through the encode graph.

        ``eps`` is what torch's generator would give where RAVE's ``encode`` draws it
        (block by block when seeded, pooled otherwise: :class:`PosteriorNoise`).
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
        return self._dec(z=zc, **draw_decode_noise(self._noise_layout, z.shape[1], self._rng))[0]


def make_rave_onnx_insert(path: str | Path, sample_rate_hz: float,
                          onnx_path: Path | str | None = None, latent_frames: int = 1,
                          seed: int | None = None, block_frames: int | None = None
                          ) -> RaveOnnxProcessor:
    """The ONNX worker insert: the .ts at ``path`` run as its ONNX graphs.

    ``onnx_path``: prebuilt graphs (``MODEL.onnx`` base name); ``None`` exports to the cache
    on first use (seconds for the tiny fixtures, longer for full-size models). Only the
    first use of a file loads it with torch (:func:`cached_rave`).
    """
    model, base = cached_rave(path, onnx_path)
    return RaveOnnxProcessor(model, base, sample_rate_hz, latent_frames=latent_frames,
                             seed=seed, block_frames=block_frames)
