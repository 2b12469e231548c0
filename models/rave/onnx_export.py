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
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from dsp.io.atomic import atomic_path
from models.rave.onnx_graphs import (
    NOISE_LAYOUT_KEY,
    DecodeNoiseLayout,
    draw_decode_noise,
    graph_noise_layout,
    onnx_paths,
)
from models.rave.onnx_stream import STATE_IN, STATE_OUT, OnnxStream
from models.rave.streaming_model import FlatStateWrapper, StreamingDecoder, StreamingEncoder
from models.rave.torch_rng import TorchRng
from models.rave.ts_convert import from_torchscript

OPSET = 17


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


def decode_noise_layout(ts: torch.jit.ScriptModule,
                        decoder: StreamingDecoder) -> DecodeNoiseLayout:
    """What ``decode``'s randomness looks like for the export ``ts`` rebuilt as ``decoder``."""
    noise = decoder.noise_filter
    n_band = decoder.pqmf.n_band if decoder.pqmf is not None else 1
    return DecodeNoiseLayout(int(ts.full_latent_size) - int(ts.latent_size),
                             noise.bands if noise is not None else 0,
                             noise.length if noise is not None else 1,
                             int(ts.decode_params[1]) // n_band)


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
    # tracing values (any will do: they only fix the shapes)
    noise = {name: torch.from_numpy(value)
             for name, value in draw_decode_noise(layout, frames, TorchRng(0)).items()}
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
    rng, noise = np.random.default_rng(seed), TorchRng(seed)
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
            noise.manual_seed(seed + k)
            y = dec(z=zin, **draw_decode_noise(layout, 1, noise))
            dec_diff = max(dec_diff, float(np.abs(y - y_ts).max()))
    return {"encode_max_abs_diff": enc_diff, "decode_max_abs_diff": dec_diff,
            "max_abs_diff": max(enc_diff, dec_diff)}
