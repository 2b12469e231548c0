"""Export the trained drum model: a RAVE-compatible TorchScript file and explicit-state ONNX.

TorchScript (``drums.ts``): the interface acids-rave exports have, so everything that loads
RAVE models loads this one (``models/rave/loader.py``, the worker insert, nn~-style hosts):
methods ``encode``, ``decode``, ``forward`` and ``get_methods``; attributes ``sr``,
``latent_size``, ``full_latent_size``, ``n_channels``, ``stereo_mode``; buffers
``encode_params = [1, 1, L, 256]`` and ``decode_params = [L, 256, 1, 1]``; and two of our
own, ``latency_samples`` (the delay it was trained to) and ``is_causal``. The streaming
caches are buffers named ``...cache`` that every call updates in place, as in RAVE exports;
restoring them as loaded resets the model. ``encode`` samples the posterior with torch's
generator, as RAVE's does.

ONNX (``drums.encode.onnx`` / ``drums.decode.onnx``): the signatures of
``models/rave/onnx_export.py`` (``audio`` + ``eps`` -> ``z``; ``z`` -> ``audio``; caches as
``state_in_k`` -> ``state_out_k`` with zero defaults), so the RAVE ONNX runner plays it.

Both decode paths draw the noise branch from the same fixed table of white noise (a buffer,
walked by a position kept in the state), so TorchScript and ONNX give the same output and
the graph needs no random-number operator.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from dsp.io.atomic import atomic_path
from models.drum_ae.network import (
    BANDS,
    COMPRESSION,
    DELAY_SAMPLES,
    LATENT_DIMS,
    NOISE_FRAMES,
    SAMPLE_RATE_HZ,
    DrumAE,
)
from models.rave.onnx_export import export_graph, onnx_paths

NOISE_SEED = 20261123


def noise_table() -> Tensor:
    """The decoder's white noise, ``(BANDS, NOISE_FRAMES)``, the same on every machine."""
    rng = np.random.default_rng(NOISE_SEED)
    return torch.from_numpy(rng.standard_normal((BANDS, NOISE_FRAMES)).astype(np.float32))


class NoisyDecoder(nn.Module):
    """``decode_stream`` with its noise read from :func:`noise_table` at a stateful position.

    State: the model decoder's caches, then the table position (1, 1, 1) as a float (exact
    up to 2**24, and it wraps at NOISE_FRAMES).
    """

    def __init__(self, model: DrumAE) -> None:
        super().__init__()
        self.model = model
        self.register_buffer("table", noise_table())
        # Attributes, not module globals: TorchScript reads no Python globals.
        self.hop = COMPRESSION // BANDS
        self.period = float(NOISE_FRAMES)

    def forward(self, z: Tensor, states: list[Tensor]) -> tuple[Tensor, list[Tensor]]:
        frames = z.shape[-1] * self.hop
        position = states[-1]
        steps = torch.arange(frames, dtype=torch.float32).reshape(1, 1, -1)
        index = torch.remainder(position + steps, self.period).reshape(-1).long()
        noise = self.table.index_select(1, index).unsqueeze(0)
        audio, new = self.model.decode_stream(z, noise, states[:-1])
        # From the traced tensor, not a Python number, so any block length advances right.
        new.append(torch.remainder(position + steps[..., -1:] + 1.0, self.period))
        return audio, new


def decoder_states(model: DrumAE) -> list[Tensor]:
    """Initial states of :class:`NoisyDecoder`: zero caches, table position 0."""
    return model.decoder_states(1) + [torch.zeros(1, 1, 1)]


class _CacheHolder(nn.Module):
    """One streaming cache as a buffer named ``cache`` (how RAVE exports are recognised)."""

    def __init__(self, initial: Tensor) -> None:
        super().__init__()
        self.register_buffer("cache", initial.clone())


class RaveInterface(nn.Module):
    """The drum model behind acids-rave's streaming export interface (see module doc)."""

    def __init__(self, model: DrumAE) -> None:
        super().__init__()
        self.model = model
        self.decoder = NoisyDecoder(model)
        self.sr = SAMPLE_RATE_HZ
        self.latent_size = LATENT_DIMS
        self.full_latent_size = LATENT_DIMS
        self.n_channels = 1
        self.stereo_mode = False
        self.compression = COMPRESSION
        # Declared rather than measured (models/rave/loader.py reads them): the delay the
        # model was trained to, and causality (no layer looks past the block it is given).
        self.latency_samples = DELAY_SAMPLES
        self.is_causal = True
        self.register_buffer("encode_params", torch.tensor([1, 1, LATENT_DIMS, COMPRESSION]))
        self.register_buffer("decode_params", torch.tensor([LATENT_DIMS, COMPRESSION, 1, 1]))
        self.enc_caches = nn.ModuleList([_CacheHolder(s) for s in model.encoder_states(1)])
        self.dec_caches = nn.ModuleList([_CacheHolder(s) for s in decoder_states(model)])

    @torch.jit.export
    def get_methods(self) -> list[str]:
        return ["encode", "decode", "forward"]

    @torch.jit.export
    def encode(self, x: Tensor) -> Tensor:
        states: list[Tensor] = []
        for holder in self.enc_caches:
            states.append(holder.cache)
        eps = torch.randn(x.shape[0], self.latent_size, x.shape[-1] // self.compression)
        z, _, _, new = self.model.encode_stream(x, eps, states)
        for i, holder in enumerate(self.enc_caches):
            holder.cache.copy_(new[i])
        return z

    @torch.jit.export
    def decode(self, z: Tensor) -> Tensor:
        states: list[Tensor] = []
        for holder in self.dec_caches:
            states.append(holder.cache)
        audio, new = self.decoder(z, states)
        for i, holder in enumerate(self.dec_caches):
            holder.cache.copy_(new[i])
        return audio

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x))


def export_torchscript(model: DrumAE, path: Path | str) -> Path:
    """Script ``model`` behind :class:`RaveInterface` and save it atomically to ``path``."""
    path = Path(path)
    with atomic_path(path) as tmp, warnings.catch_warnings():
        # torch 2.13 deprecates TorchScript; RAVE hosts load nothing else.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(RaveInterface(model.eval())), str(tmp))
    return path


class _FlatEncoder(nn.Module):
    def __init__(self, model: DrumAE) -> None:
        super().__init__()
        self.model = model

    def forward(self, audio: Tensor, eps: Tensor, *states: Tensor) -> tuple[Tensor, ...]:
        z, _, _, new = self.model.encode_stream(audio, eps, list(states))
        return (z, *new)


class _FlatDecoder(nn.Module):
    def __init__(self, model: DrumAE) -> None:
        super().__init__()
        self.decoder = NoisyDecoder(model)

    def forward(self, z: Tensor, *states: Tensor) -> tuple[Tensor, ...]:
        audio, new = self.decoder(z, list(states))
        return (audio, *new)


def export_onnx(model: DrumAE, onnx_path: Path | str) -> tuple[Path, Path]:
    """Write ``MODEL.encode.onnx`` and ``MODEL.decode.onnx`` for ``-o MODEL.onnx``."""
    model = model.eval()
    enc_path, dec_path = onnx_paths(onnx_path)
    # Batch 1 throughout, as the engine runs them; the states' defaults are zeros, so a
    # caller may start without knowing their shapes.
    export_graph(_FlatEncoder(model),
                 [torch.zeros(1, 1, COMPRESSION), torch.zeros(1, LATENT_DIMS, 1)],
                 ["audio", "eps"], "z", model.encoder_states(1), enc_path, dynamic_batch=False)
    export_graph(_FlatDecoder(model), [torch.zeros(1, LATENT_DIMS, 1)], ["z"], "audio",
                 decoder_states(model), dec_path, dynamic_batch=False)
    return enc_path, dec_path
