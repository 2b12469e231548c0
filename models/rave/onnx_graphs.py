"""The exported RAVE graphs' file names and random inputs, without torch.

``onnx_export.py`` writes ``MODEL.encode.onnx`` and ``MODEL.decode.onnx`` (its module doc
has the signatures); running them needs only ONNX Runtime, the names here, and the decode
graph's random inputs drawn as RAVE's ``decode`` draws them, from a
:class:`~models.rave.torch_rng.TorchRng` in place of torch's generator.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.rave.onnx_stream import OnnxStream
from models.rave.torch_rng import TorchRng

# Metadata key of the decode graph's DecodeNoiseLayout (JSON).
NOISE_LAYOUT_KEY = "musicmill.decode_noise_layout"


def onnx_paths(onnx_path: Path | str) -> tuple[Path, Path]:
    """The encode and decode file names derived from the requested ``MODEL.onnx``."""
    path = Path(onnx_path)
    stem = path.name[: -len(".onnx")] if path.name.endswith(".onnx") else path.name
    return path.with_name(f"{stem}.encode.onnx"), path.with_name(f"{stem}.decode.onnx")

@dataclass(frozen=True)
class DecodeNoiseLayout:
    """The random inputs of a model's decode graph, in the order RAVE's ``decode`` draws
    them: ``randn`` latent dims (always drawn, possibly empty), then the noise branch's
    uniform noise as (B, noise frames, bands, length) before it is laid out by band."""

    latent_dims: int  # full_latent - latent; 0: no ``latent_noise`` input
    bands: int  # noise signals (PQMF bands x channels); 0: no ``noise`` input
    length: int  # samples per noise frame
    band_ratio: int  # band-rate samples per latent frame (compression / n_band)

def graph_noise_layout(stream: OnnxStream) -> DecodeNoiseLayout:
    """The noise layout ``export_onnx`` recorded in a decode graph's metadata.

    Graphs exported before it was recorded have no noise branch: their layout is read from
    the inputs (a ``latent_noise`` input's dims).
    """
    recorded = stream.session.get_modelmeta().custom_metadata_map.get(NOISE_LAYOUT_KEY)
    if recorded is not None:
        return DecodeNoiseLayout(**json.loads(recorded))
    inputs = {i.name: i for i in stream.session.get_inputs()}
    if "noise" in inputs:
        raise ValueError("decode graph with a noise input but no recorded noise layout: "
                         "export it again with musicmill rave export-onnx")
    latent = inputs["latent_noise"].shape[1] if "latent_noise" in inputs else 0
    return DecodeNoiseLayout(int(latent), 0, 1, 1)


def draw_decode_noise(layout: DecodeNoiseLayout, frames: int, rng: TorchRng,
                      batch: int = 1) -> dict[str, np.ndarray]:
    """The decode graph's random inputs drawn from ``rng`` as the TorchScript ``decode``
    draws them from torch's generator: seed both the same way to reproduce one of its
    calls. Returns only the inputs the graph has."""
    inputs: dict[str, np.ndarray] = {}
    if not (layout.latent_dims or layout.bands):
        return inputs  # nothing to draw (a draw of zero numbers leaves the generator as is)
    latent = rng.randn(batch, layout.latent_dims, frames)
    if layout.latent_dims:
        inputs["latent_noise"] = latent
    if layout.bands:
        steps = frames * layout.band_ratio // layout.length
        two, one = np.float32(2), np.float32(1)  # float32 arithmetic, as torch's
        uniform = rng.rand(batch, steps, layout.bands, layout.length) * two - one
        inputs["noise"] = np.ascontiguousarray(
            uniform.transpose(0, 2, 1, 3).reshape(batch, layout.bands, -1))
    return inputs
