"""Export a RAVE streaming TorchScript model to ONNX with every cache as an explicit input.

One ``.onnx`` file holds one graph, so ``encode`` and ``decode`` go to two files beside the
requested name: ``MODEL.encode.onnx`` and ``MODEL.decode.onnx`` (for ``-o MODEL.onnx``).

Graph signatures (B = batch, C = audio channels, T = latent frames, block = T * compression
samples):

* encode: ``audio`` (B, C, block), ``eps`` (B, full_latent, T) -> ``z`` (B, latent, T),
  plus ``state_in_<k>`` -> ``state_out_<k>``. ``eps`` is the posterior noise: zeros give the
  posterior mean, ``randn`` reproduces RAVE's sampling.
* decode: ``z`` (B, latent, T) [, ``latent_noise`` (B, full_latent - latent, T)]
  [, ``noise`` (B, C * n_band, block / n_band)] -> ``audio`` (B, C, block), plus the states.
  ``latent_noise`` is there when the export keeps fewer latent dims than the model has
  (RAVE fills them with ``randn``); ``noise`` when the decoder has a noise branch (v1,
  v2_small): uniform in [-1, 1), one signal per PQMF band of every channel at the band rate.
  :func:`decode_noise_layout` says which (the export records it in the decode graph's
  metadata, read back by :func:`graph_noise_layout`), and :func:`draw_decode_noise` draws
  them.

Feed each call's ``state_out_<k>`` back as the next call's ``state_in_<k>``. The export's
saved caches are stored as default values of the ``state_in_*`` inputs (batch 1), so the first
call may leave them out; :class:`~models.rave.onnx_stream.OnnxStream` starts from them
(its ``initial``).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from dsp.io.atomic import atomic_path
from models.rave.onnx_stream import STATE_IN, STATE_OUT, OnnxStream
from models.rave.streaming_model import FlatStateWrapper, StreamingDecoder, StreamingEncoder
from models.rave.ts_convert import from_torchscript

OPSET = 17
# Metadata key of the decode graph's DecodeNoiseLayout (JSON).
NOISE_LAYOUT_KEY = "musicmill.decode_noise_layout"


def onnx_paths(onnx_path: Path | str) -> tuple[Path, Path]:
    """The encode and decode file names derived from the requested ``MODEL.onnx``."""
    path = Path(onnx_path)
    stem = path.name[: -len(".onnx")] if path.name.endswith(".onnx") else path.name
    return path.with_name(f"{stem}.encode.onnx"), path.with_name(f"{stem}.decode.onnx")


def state_names(n: int) -> tuple[list[str], list[str]]:
    return [f"{STATE_IN}{k}" for k in range(n)], [f"{STATE_OUT}{k}" for k in range(n)]


def _export_one(module: StreamingEncoder | StreamingDecoder, inputs: list[torch.Tensor],
                input_names: list[str], output_name: str, path: Path,
                metadata: dict[str, str] | None = None) -> None:
    """Trace ``module`` with explicit states and write it to ``path`` atomically.

    The states' saved values become defaults (initializers with the input's name), so the
    graph stays runnable without the caller knowing the export's warm-up caches.
    """
    wrapper = FlatStateWrapper(module, input_names[1:])
    export_graph(wrapper, inputs, input_names, output_name, module.initial_states(1), path,
                 metadata=metadata)


def export_graph(wrapper: torch.nn.Module, inputs: list[torch.Tensor], input_names: list[str],
                 output_name: str, states: list[torch.Tensor], path: Path,
                 dynamic_batch: bool = True, metadata: dict[str, str] | None = None) -> None:
    """Export ``wrapper(*inputs, *states) -> (output, *new_states)`` to ``path`` atomically.

    States are named ``state_in_k``/``state_out_k`` and ``states`` become their defaults
    (:func:`store_state_defaults`). The time axis (2) of the inputs and the output is
    dynamic, and with ``dynamic_batch`` the batch axis (0) of everything too. ``metadata``
    goes to the graph's metadata properties.
    """
    state_in, state_out = state_names(len(states))
    axes = {0: "batch", 2: "time"} if dynamic_batch else {2: "time"}
    dynamic: dict[str, dict[int, str]] = {name: dict(axes) for name in input_names}
    dynamic[output_name] = dict(axes)
    if dynamic_batch:
        for a, b in zip(state_in, state_out, strict=True):
            dynamic[a] = dynamic[b] = {0: "batch"}
    with atomic_path(path) as tmp, torch.no_grad(), warnings.catch_warnings():
        # The TorchScript-based exporter is deprecated in favour of dynamo, but our modules
        # have no data-dependent control flow and it needs no onnxscript; hide the notice.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(wrapper.eval(), (*inputs, *states), str(tmp), dynamo=False,
                          input_names=input_names + state_in,
                          output_names=[output_name, *state_out],
                          dynamic_axes=dynamic, opset_version=OPSET)
        store_state_defaults(tmp, state_in, states, metadata or {})


def store_state_defaults(path: Path, names: list[str], states: list[torch.Tensor],
                         metadata: dict[str, str] | None = None) -> None:
    """Give the graph at ``path`` its states' values as defaults of the ``names`` inputs
    (initializers with the input's name) and the ``metadata`` properties, check it and save
    it back."""
    import onnx

    model = onnx.load(str(path))
    for name, value in zip(names, states, strict=True):
        model.graph.initializer.append(onnx.numpy_helper.from_array(value.numpy(), name))
    onnx.helper.set_model_props(model, metadata or {})
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


@dataclass(frozen=True)
class DecodeNoiseLayout:
    """The random inputs of a model's decode graph, in the order RAVE's ``decode`` draws
    them: ``randn`` latent dims (always drawn, possibly empty), then the noise branch's
    uniform noise as (B, noise frames, bands, length) before it is laid out by band."""

    latent_dims: int  # full_latent - latent; 0: no ``latent_noise`` input
    bands: int  # noise signals (PQMF bands x channels); 0: no ``noise`` input
    length: int  # samples per noise frame
    band_ratio: int  # band-rate samples per latent frame (compression / n_band)


def decode_noise_layout(ts: torch.jit.ScriptModule,
                        decoder: StreamingDecoder) -> DecodeNoiseLayout:
    """What ``decode``'s randomness looks like for the export ``ts`` rebuilt as ``decoder``."""
    noise = decoder.noise_filter
    n_band = decoder.pqmf.n_band if decoder.pqmf is not None else 1
    return DecodeNoiseLayout(int(ts.full_latent_size) - int(ts.latent_size),
                             noise.bands if noise is not None else 0,
                             noise.length if noise is not None else 1,
                             int(ts.decode_params[1]) // n_band)


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


def draw_decode_noise(layout: DecodeNoiseLayout, frames: int,
                      batch: int = 1) -> dict[str, np.ndarray]:
    """The decode graph's random inputs drawn from torch's generator exactly as the
    TorchScript ``decode`` draws them: seed torch before each, the same way, to reproduce
    one of its calls. Returns only the inputs the graph has."""
    inputs: dict[str, np.ndarray] = {}
    if not (layout.latent_dims or layout.bands):
        return inputs  # nothing to draw (a draw of zero numbers leaves torch's state as is)
    latent = torch.randn(batch, layout.latent_dims, frames)
    if layout.latent_dims:
        inputs["latent_noise"] = latent.numpy()
    if layout.bands:
        steps = frames * layout.band_ratio // layout.length
        uniform = torch.rand(batch, steps, layout.bands, layout.length) * 2 - 1
        inputs["noise"] = uniform.permute(0, 2, 1, 3).reshape(batch, layout.bands, -1).numpy()
    return inputs


def export_onnx(ts_path: Path | str, onnx_path: Path | str,
                block: int | None = None) -> tuple[Path, Path]:
    """Convert a RAVE streaming ``.ts`` to ``MODEL.encode.onnx`` and ``MODEL.decode.onnx``.

    ``block`` is the audio block used for tracing (default: the compression ratio); the
    graphs accept any multiple of the compression ratio. Returns the two paths written.
    """
    ts = torch.jit.load(str(ts_path), map_location="cpu").eval()
    encoder, decoder = from_torchscript(ts)
    ratio, channels = int(ts.decode_params[1]), int(ts.n_channels)
    latent, full = int(ts.latent_size), int(ts.full_latent_size)
    frames = max(1, (block or ratio) // ratio)
    enc_path, dec_path = onnx_paths(onnx_path)
    _export_one(encoder, [torch.zeros(1, channels, frames * ratio),
                          torch.zeros(1, full, frames)], ["audio", "eps"], "z", enc_path)
    layout = decode_noise_layout(ts, decoder)
    with torch.random.fork_rng(devices=[]):  # tracing values: leave the caller's RNG be
        noise = {name: torch.from_numpy(value)
                 for name, value in draw_decode_noise(layout, frames).items()}
    _export_one(decoder, [torch.zeros(1, latent, frames), *noise.values()], ["z", *noise],
                "audio", dec_path, {NOISE_LAYOUT_KEY: json.dumps(asdict(layout))})
    return enc_path, dec_path


def verify(ts_path: Path | str, onnx_path: Path | str, blocks: int = 4,
           seed: int = 0) -> dict[str, float]:
    """Max abs difference between TorchScript and ONNX over ``blocks`` successive blocks.

    Both sides start from the export's saved caches and see the same randomness: torch is
    seeded the same way before each TorchScript call and before drawing the ONNX graph's
    noise inputs (``eps`` for encode, :func:`draw_decode_noise` for decode).
    """
    ts = torch.jit.load(str(ts_path), map_location="cpu").eval()
    ratio, latent = int(ts.decode_params[1]), int(ts.latent_size)
    full, channels = int(ts.full_latent_size), int(ts.n_channels)
    enc_path, dec_path = onnx_paths(onnx_path)
    enc, dec = OnnxStream(enc_path), OnnxStream(dec_path)
    layout = graph_noise_layout(dec)
    rng = np.random.default_rng(seed)
    enc_diff = dec_diff = 0.0
    with torch.no_grad():
        for k in range(blocks):
            audio = (0.3 * rng.standard_normal((1, channels, ratio))).astype(np.float32)
            torch.manual_seed(seed + k)
            z_ts = ts.encode(torch.from_numpy(audio))
            # randn_like in RAVE's reparametrize draws the same numbers as this randn.
            torch.manual_seed(seed + k)
            eps = torch.randn(1, full, 1).numpy()
            z = enc(audio=audio, eps=eps)
            enc_diff = max(enc_diff, float(np.abs(z - z_ts.numpy()).max()))
            zin = rng.standard_normal((1, latent, 1)).astype(np.float32)
            torch.manual_seed(seed + k)
            y_ts = ts.decode(torch.from_numpy(zin)).numpy()
            torch.manual_seed(seed + k)
            y = dec(z=zin, **draw_decode_noise(layout, 1))
            dec_diff = max(dec_diff, float(np.abs(y - y_ts).max()))
    return {"encode_max_abs_diff": enc_diff, "decode_max_abs_diff": dec_diff,
            "max_abs_diff": max(enc_diff, dec_diff)}
