"""Rebuild a RAVE TorchScript export as our explicit-state streaming layers.

``from_torchscript`` walks the scripted module tree by class name (``original_name``) and
builds the matching layer of ``streaming_model``; anything it does not know is refused by
name (``UnsupportedModelError``) rather than guessed. It rebuilds acids-rave 2.x streaming
exports of the v1 and v2 families (v2, v2 causal, v2_small with its noise branch, v1 with
its loudness and noise branches), mono or multichannel (``rave train --channels 2``). The
weights and the caches the export saved are copied over.
"""

from __future__ import annotations

import re

import torch
from torch import Tensor, nn

from models.rave.streaming_model import (
    AlignedBranches,
    CachedPadding,
    Generator,
    GeneratorV1Stream,
    GeneratorV2Stream,
    NoiseFilter,
    Stateless,
    StreamingConv1d,
    StreamingConvTranspose1d,
    StreamingDecoder,
    StreamingEncoder,
    StreamingModule,
    StreamingPQMFAnalysis,
    StreamingPQMFSynthesis,
    StreamingResidual,
    StreamingSequential,
)


class UnsupportedModelError(ValueError):
    """The export contains a layer or option this converter does not rebuild."""


def _int_list(value: torch._C.Value) -> list[int]:
    """A constant int or int list argument of a graph node, e.g. a conv's stride."""
    node = value.node()
    if node.kind() == "prim::ListConstruct":
        return [int(v.toIValue()) for v in node.inputs()]
    ivalue = value.toIValue()
    return list(ivalue) if isinstance(ivalue, (list, tuple)) else [int(ivalue)]


def _find_node(graph: torch._C.Graph, kind: str) -> torch._C.Node:
    nodes = [n for n in graph.nodes() if n.kind() == kind]
    if len(nodes) != 1:
        raise UnsupportedModelError(f"expected one {kind} in the layer, found {len(nodes)}")
    return nodes[0]


def _optional_tensor(module: torch.jit.ScriptModule, name: str) -> Tensor | None:
    value = getattr(module, name, None)
    return value if isinstance(value, Tensor) else None


def _children(module: torch.jit.ScriptModule) -> list[torch.jit.ScriptModule]:
    """Children in index order ("0", "1", ... sorted numerically, as Sequential runs them)."""
    items = list(module.named_children())
    if all(name.isdigit() for name, _ in items):
        items.sort(key=lambda item: int(item[0]))
    return [child for _, child in items]


def _padding(module: torch.jit.ScriptModule, rows: int = 1) -> CachedPadding | None:
    """A ``CachedPadding1d`` with any history, or None when it is a zero-length no-op."""
    if not int(module.padding):
        return None
    return CachedPadding(module.pad, bool(module.crop), rows)


def _delay(module: torch.jit.ScriptModule) -> StreamingModule:
    """An ``AlignBranches`` padding: a delay, or the identity when the branch needs none."""
    cached = _padding(module)
    return cached if cached is not None else Stateless(nn.Identity())


def _leaky_relu(module: torch.jit.ScriptModule) -> nn.Module:
    match = re.search(r"\(input, ([-0-9.e]+)", module.forward.code)
    if match is None:
        raise UnsupportedModelError("could not read the LeakyReLU slope from its code")
    return nn.LeakyReLU(float(match.group(1)))


def _conv1d(module: torch.jit.ScriptModule, path: str, rows: int = 1) -> StreamingConv1d:
    """cached_conv's ``CachedConv1d``; ``rows`` > 1 for a conv run once per audio channel."""
    args = list(_find_node(module.graph, "aten::conv1d").inputs())
    if _int_list(args[4]) != [0]:
        raise UnsupportedModelError(f"{path}: conv with implicit padding")
    return StreamingConv1d(module.weight, _optional_tensor(module, "bias"),
                           _int_list(args[3])[0], _int_list(args[5])[0],
                           int(args[6].toIValue()), _padding(module.cache, rows),
                           _padding(module.downsampling_delay, rows))


def _conv_transpose1d(module: torch.jit.ScriptModule, path: str) -> StreamingConvTranspose1d:
    args = list(_find_node(module.graph, "aten::conv_transpose1d").inputs())
    if _int_list(args[4]) != [0] or _int_list(args[5]) != [0] or _int_list(args[7]) != [1]:
        raise UnsupportedModelError(f"{path}: transposed conv with padding or dilation")
    return StreamingConvTranspose1d(module.weight, _optional_tensor(module, "bias"),
                                    _int_list(args[3])[0], int(args[6].toIValue()),
                                    module.cache)


def _aligned(module: torch.jit.ScriptModule,
             path: str) -> tuple[list[StreamingModule], list[StreamingModule]]:
    """The converted branches and delays of a cached_conv ``AlignBranches``."""
    if module.original_name != "AlignBranches":
        raise UnsupportedModelError(f"{path}: {module.original_name!r} where AlignBranches "
                                    "was expected")
    branches = [convert(b, f"{path}.branches.{i}")
                for i, b in enumerate(_children(module.branches))]
    return branches, [_delay(pad) for pad in _children(module.paddings)]


def _residual(module: torch.jit.ScriptModule, path: str) -> StreamingResidual:
    """``Residual`` (``AlignBranches(net, Identity)`` summed) or v1's ``ResidualStack``."""
    name = "aligned" if module.original_name == "Residual" else "net"
    return StreamingResidual(*_aligned(getattr(module, name), f"{path}.{name}"))


def _batch_norm(module: torch.jit.ScriptModule, path: str) -> Stateless:
    """An inference-mode ``BatchNorm1d`` (RAVE v1's encoder) with the export's statistics."""
    stats = [_optional_tensor(module, n) for n in ("weight", "bias", "running_mean",
                                                    "running_var")]
    if any(t is None for t in stats):
        raise UnsupportedModelError(f"{path}: BatchNorm1d without affine weights or "
                                    "running statistics")
    weight, bias, mean, var = (t.detach().clone() for t in stats if t is not None)
    norm = nn.BatchNorm1d(weight.shape[0], eps=float(module.eps))
    with torch.no_grad():
        norm.weight.copy_(weight)
        norm.bias.copy_(bias)
        norm.running_mean.copy_(mean)
        norm.running_var.copy_(var)
    return Stateless(norm.eval().requires_grad_(False))


def _runs_only_its_net(module: torch.jit.ScriptModule) -> bool:
    """Whether ``forward`` is just ``return self.net(x)`` (nothing else computed)."""
    nodes = [n for n in module.graph.nodes()
             if n.kind() not in ("prim::GetAttr", "prim::Constant")]
    if len(nodes) != 1 or nodes[0].kind() != "prim::CallMethod":
        return False
    return nodes[0].output().debugName() == next(module.graph.outputs()).debugName()


# Layers whose forward only runs their ``net`` child (checked by _runs_only_its_net).
_NET_WRAPPERS = ("EncoderV2", "Encoder", "DilatedUnit", "UpsampleLayer", "ResidualBlock",
                 "ResidualLayer")

_BUILDERS = {
    "CachedConv1d": _conv1d,
    "CachedConvTranspose1d": _conv_transpose1d,
    "Residual": _residual,
    "ResidualStack": _residual,
    "BatchNorm1d": _batch_norm,
    "LeakyReLU": lambda module, path: Stateless(_leaky_relu(module)),
    "Identity": lambda module, path: Stateless(nn.Identity()),
}


def convert(module: torch.jit.ScriptModule, path: str = "") -> StreamingModule:
    """Rebuild one scripted RAVE / cached_conv layer in the explicit-state form."""
    kind = module.original_name
    if kind in ("CachedSequential", "Sequential"):
        return StreamingSequential([convert(c, f"{path}.{i}")
                                    for i, c in enumerate(_children(module))])
    if kind in _NET_WRAPPERS:
        if not _runs_only_its_net(module):
            raise UnsupportedModelError(f"{path}: {kind} computes more than its net")
        return convert(module.net, f"{path}.net")
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise UnsupportedModelError(f"{path or 'model'}: layer type {kind!r} is not supported")
    return builder(module, path)


def _noise_branch(module: torch.jit.ScriptModule,
                  path: str) -> tuple[StreamingModule, NoiseFilter]:
    """RAVE's ``NoiseGenerator`` (v1) / ``NoiseGeneratorV2``: conv stack and filter."""
    code = module.forward.code
    if "rand_like" not in code or "fft_convolve" not in code:
        raise UnsupportedModelError(f"{path}: noise branch {module.original_name!r} does not "
                                    "filter uniform noise as RAVE's do")
    net = convert(module.net, f"{path}.net")
    bands = int(module.data_size) * int(getattr(module, "n_channels", 1))
    convs = [m for m in net.modules() if isinstance(m, StreamingConv1d)]
    n_noise_bands = int(convs[-1].weight.shape[0]) // bands
    return net, NoiseFilter(n_noise_bands, int(module.target_size), bands)


def _generator_v2(module: torch.jit.ScriptModule) -> GeneratorV2Stream:
    net = convert(module.net, "decoder.net")
    noise_module = getattr(module, "noise_module", None)
    if noise_module is None:
        return GeneratorV2Stream(net, bool(module.amplitude_modulation))
    noise_net, noise_filter = _noise_branch(noise_module, "decoder.noise_module")
    return GeneratorV2Stream(net, bool(module.amplitude_modulation),
                             convert(module.waveform_module, "decoder.waveform_module"),
                             noise_net, noise_filter)


def _generator_v1(module: torch.jit.ScriptModule) -> GeneratorV1Stream:
    """v1: the noise is added only once the model is warmed up (past its first training
    phase); before that its branch runs but nothing hears it, so it is left out."""
    branches = _children(module.synth.branches)
    use_noise = bool(module.use_noise)
    if len(branches) != (3 if use_noise else 2):
        raise UnsupportedModelError(f"decoder.synth: {len(branches)} branches, expected "
                                    "waveform, loudness" + (" and noise" if use_noise else ""))
    add_noise = use_noise and bool(module.warmed_up)
    kept = 3 if add_noise else 2
    paddings = _children(module.synth.paddings)[:kept]
    converted = [convert(b, f"decoder.synth.branches.{i}") for i, b in enumerate(branches[:2])]
    noise_filter = None
    if add_noise:
        noise_net, noise_filter = _noise_branch(branches[2], "decoder.synth.branches.2")
        converted.append(noise_net)
    synth = AlignedBranches(converted, [_delay(pad) for pad in paddings])
    return GeneratorV1Stream(convert(module.net, "decoder.net"), synth, noise_filter,
                             int(module.loud_stride))


def _generator(module: torch.jit.ScriptModule) -> Generator:
    kind = module.original_name
    if kind == "GeneratorV2":
        return _generator_v2(module)
    if kind == "Generator":
        return _generator_v1(module)
    raise UnsupportedModelError(f"decoder type {kind!r} is not supported")


def _check_supported(model: torch.jit.ScriptModule) -> None:
    """Refuse, with the reason, the export variants this converter does not rebuild."""
    if not hasattr(model, "full_latent_size") or not hasattr(model, "decode_params"):
        raise UnsupportedModelError("not an acids-rave 2.x export (no full_latent_size / "
                                    "decode_params): the RAVE 1.x export format is not "
                                    "supported")
    n_channels = int(model.n_channels)
    if bool(model.stereo_mode):
        raise UnsupportedModelError("stereo_mode (a mono model run on two channels) is not "
                                    "supported")
    target = int(model.decode_params[2])
    if target != n_channels:
        raise UnsupportedModelError(f"exports with {target} output channels from a "
                                    f"{n_channels}-channel model are not supported")
    if getattr(model, "input_mode", "pqmf") != "pqmf":
        raise UnsupportedModelError(f"input_mode {model.input_mode!r} is not supported")
    if getattr(model, "resampler", None) is not None:
        raise UnsupportedModelError("exports with a resampler (rave export --sr) are not "
                                    "supported")
    if bool(getattr(model, "is_using_adain", False)):
        raise UnsupportedModelError("models using adaptive instance normalisation "
                                    "are not supported")
    if model.encoder.original_name == "DiscreteEncoder":
        raise UnsupportedModelError("discrete exports (DiscreteEncoder: a residual vector "
                                    "quantizer) are not supported by the ONNX converter; "
                                    "play the .ts itself (--rave-backend torchscript)")
    if model.encoder.original_name != "VariationalEncoder":
        raise UnsupportedModelError(f"encoder type {model.encoder.original_name!r} "
                                    "is not supported")
    if not any(m.original_name == "CachedConv1d" for m in model.modules()):
        raise UnsupportedModelError("not a streaming export (no cached convolutions): "
                                    "export the model with rave export --streaming")


def _pqmf_convs(model: torch.jit.ScriptModule,
                n_channels: int) -> tuple[StreamingPQMFAnalysis | None,
                                          StreamingPQMFSynthesis | None]:
    pqmf = model.pqmf
    n_band = int(pqmf.n_band)
    if n_band == 1:
        return None, None
    analysis = _conv1d(pqmf.forward_conv, "pqmf.forward_conv", n_channels)
    synthesis = _conv1d(pqmf.inverse_conv, "pqmf.inverse_conv", n_channels)
    return (StreamingPQMFAnalysis(analysis, n_channels),
            StreamingPQMFSynthesis(synthesis, n_band, n_channels))


def from_torchscript(model: torch.jit.ScriptModule) -> tuple[StreamingEncoder,
                                                             StreamingDecoder]:
    """Rebuild a RAVE streaming export's ``encode`` and ``decode`` (v1 or v2 family).

    The layers keep the export's weights and its saved caches (as initial states). Raises
    ``UnsupportedModelError`` for anything the TorchScript uses that is not rebuilt here.
    """
    _check_supported(model)
    analysis, synthesis = _pqmf_convs(model, int(model.n_channels))
    encoder = StreamingEncoder(analysis, convert(model.encoder.encoder, "encoder.encoder"),
                               model.latent_pca, model.latent_mean, int(model.latent_size))
    decoder = StreamingDecoder(_generator(model.decoder), synthesis, model.latent_pca,
                               model.latent_mean)
    return encoder.eval(), decoder.eval()
