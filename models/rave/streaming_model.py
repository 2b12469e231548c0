"""RAVE's streaming layers with explicit state, rebuilt from a TorchScript export.

acids' ``cached_conv`` keeps each layer's history in a buffer that ``forward`` overwrites in
place. That is invisible to exporters: ONNX tracing freezes the buffer as a constant (so every
block is computed as if it were the first) and the dynamo exporter stops on a data-dependent
guard. Here every layer takes its caches as arguments and returns the updated ones, so the
state is an ordinary graph input and output.

Convention: ``module(x, states) -> (y, new_states)`` where ``states`` is the flat list of the
module's caches in ``cache_names()`` order. Modules without state use an empty list. The
initial caches are the ones stored in the export (acids warm the model up before saving, so
they are not zeros; starting from zeros is valid but sounds different for the first blocks).

``from_torchscript`` walks the scripted module tree by class name (``original_name``) and
builds the matching layer; anything it does not know is refused by name rather than guessed.
"""

from __future__ import annotations

import re

import torch
from torch import Tensor, nn

States = list[Tensor]


class StreamingModule(nn.Module):
    """Base: a layer whose caches are passed in and returned instead of kept in buffers."""

    def state_children(self) -> list[tuple[str, StreamingModule]]:
        """Children holding state, in the order ``forward`` hands them their caches."""
        return [(name, child) for name, child in self.named_children()
                if isinstance(child, StreamingModule)]

    def cache_names(self) -> list[str]:
        """Dotted names of this module's caches, in the order ``forward`` consumes them."""
        return [f"{name}.{n}" for name, child in self.state_children()
                for n in child.cache_names()]

    def initial_states(self, batch: int = 1) -> States:
        """The caches as saved in the export, repeated to ``batch`` rows."""
        return [s for _, child in self.state_children() for s in child.initial_states(batch)]

    def n_states(self) -> int:
        """How many cache tensors ``forward`` takes and returns."""
        return len(self.cache_names())


class CachedPadding(StreamingModule):
    """Left-pads with the last ``padding`` samples of the previous block (cached_conv's
    ``CachedPadding1d``). With ``crop`` the output keeps the input length: a pure delay,
    used to align a residual branch with a convolution's latency."""

    def __init__(self, initial: Tensor, crop: bool) -> None:
        super().__init__()
        self.padding = int(initial.shape[-1])
        self.crop = crop
        # The first row of the export's (max_batch, C, padding) buffer.
        self.register_buffer("initial", initial[:1].detach().clone())

    def cache_names(self) -> list[str]:
        return ["pad"]

    def initial_states(self, batch: int = 1) -> States:
        return [self.initial.expand(batch, -1, -1).clone()]

    def forward(self, x: Tensor, states: States) -> tuple[Tensor, States]:
        padded = torch.cat([states[0], x], -1)
        new_cache = padded[..., padded.shape[-1] - self.padding :]
        y = padded[..., : padded.shape[-1] - self.padding] if self.crop else padded
        return y, [new_cache]


class StreamingConv1d(StreamingModule):
    """Convolution over [cache, block] so that chunked output equals the offline output
    (cached_conv's ``CachedConv1d``); the optional ``delay`` aligns strided layers."""

    def __init__(self, weight: Tensor, bias: Tensor | None, stride: int, dilation: int,
                 groups: int, cache: CachedPadding | None, delay: CachedPadding | None) -> None:
        super().__init__()
        self.weight = nn.Parameter(weight.detach().clone(), requires_grad=False)
        self.bias = None if bias is None else nn.Parameter(bias.detach().clone(),
                                                           requires_grad=False)
        self.stride, self.dilation, self.groups = stride, dilation, groups
        self.delay = delay
        self.cache = cache

    def forward(self, x: Tensor, states: States) -> tuple[Tensor, States]:
        out: States = []
        i = 0
        for pad in (self.delay, self.cache):
            if pad is not None:
                x, new = pad(x, states[i : i + 1])
                out += new
                i += 1
        y = nn.functional.conv1d(x, self.weight, self.bias, self.stride, 0, self.dilation,
                                 self.groups)
        return y, out


class StreamingConvTranspose1d(StreamingModule):
    """Transposed convolution whose overlapping tail is carried to the next block and added
    to its head (cached_conv's ``CachedConvTranspose1d``)."""

    def __init__(self, weight: Tensor, bias: Tensor | None, stride: int, groups: int,
                 initial: Tensor) -> None:
        super().__init__()
        self.weight = nn.Parameter(weight.detach().clone(), requires_grad=False)
        self.bias = None if bias is None else nn.Parameter(bias.detach().clone(),
                                                           requires_grad=False)
        self.stride, self.groups = stride, groups
        self.overlap = int(initial.shape[-1])
        self.register_buffer("initial", initial[:1].detach().clone())

    def cache_names(self) -> list[str]:
        return ["cache"]

    def initial_states(self, batch: int = 1) -> States:
        return [self.initial.expand(batch, -1, -1).clone()]

    def forward(self, x: Tensor, states: States) -> tuple[Tensor, States]:
        y = nn.functional.conv_transpose1d(x, self.weight, None, self.stride, 0, 0, self.groups)
        n = y.shape[-1] - self.overlap
        head = y[..., : self.overlap] + states[0]
        body = torch.cat([head, y[..., self.overlap : n]], -1)
        if self.bias is not None:
            body = body + self.bias.unsqueeze(-1)
        return body, [y[..., n:]]


class Stateless(StreamingModule):
    """Wraps a state-free op (activation, identity) in the streaming calling convention."""

    def __init__(self, op: nn.Module) -> None:
        super().__init__()
        self.op = op

    def cache_names(self) -> list[str]:
        return []

    def forward(self, x: Tensor, states: States) -> tuple[Tensor, States]:
        return self.op(x), []


class StreamingSequential(StreamingModule):
    """Runs children in order, handing each its own slice of the state list."""

    def __init__(self, layers: list[StreamingModule]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def state_children(self) -> list[tuple[str, StreamingModule]]:
        return [(str(i), layer) for i, layer in enumerate(self.layers)]

    def forward(self, x: Tensor, states: States) -> tuple[Tensor, States]:
        out: States = []
        i = 0
        for layer in self.layers:
            n = layer.n_states()
            x, new = layer(x, states[i : i + n])
            out += new
            i += n
        return x, out


class StreamingResidual(StreamingModule):
    """``sum(branch_k(delay_k(x)))``: cached_conv's ``Residual(AlignBranches(...))``, where
    the delays give every branch the same latency before the sum."""

    def __init__(self, branches: list[StreamingModule], delays: list[StreamingModule]) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)
        self.delays = nn.ModuleList(delays)

    def state_children(self) -> list[tuple[str, StreamingModule]]:
        # Each branch's delay runs just before the branch, so its cache comes first.
        pairs = zip(self.delays, self.branches, strict=True)
        return [item for k, (delay, branch) in enumerate(pairs)
                for item in ((f"delays.{k}", delay), (f"branches.{k}", branch))]

    def forward(self, x: Tensor, states: States) -> tuple[Tensor, States]:
        out: States = []
        outputs: list[Tensor] = []
        i = 0
        for delay, branch in zip(self.delays, self.branches, strict=True):
            n = delay.n_states()
            h, new = delay(x, states[i : i + n])
            out += new
            i += n
            n = branch.n_states()
            h, new = branch(h, states[i : i + n])
            out += new
            i += n
            outputs.append(h)
        total = outputs[0]
        for h in outputs[1:]:
            total = total + h
        return total, out


def reverse_half(x: Tensor) -> Tensor:
    """Negates odd bands at even time steps, as RAVE's PQMF does (``mask[..., 1::2, ::2]``)."""
    band = torch.arange(x.shape[-2], device=x.device).unsqueeze(-1)
    time = torch.arange(x.shape[-1], device=x.device).unsqueeze(0)
    flip = (band % 2 == 1) & (time % 2 == 0)
    return torch.where(flip, -x, x)


class StreamingPQMFAnalysis(StreamingModule):
    """Mono audio (B, 1, N) to ``n_band`` sub-bands (B, n_band, N / n_band)."""

    def __init__(self, conv: StreamingConv1d) -> None:
        super().__init__()
        self.conv = conv

    def forward(self, x: Tensor, states: States) -> tuple[Tensor, States]:
        y, out = self.conv(x, states)
        return reverse_half(y), out


class StreamingPQMFSynthesis(StreamingModule):
    """Sub-bands (B, n_band, T) back to audio (B, 1, T * n_band): polyphase synthesis."""

    def __init__(self, conv: StreamingConv1d, n_band: int) -> None:
        super().__init__()
        self.conv = conv
        self.n_band = n_band

    def forward(self, x: Tensor, states: States) -> tuple[Tensor, States]:
        y, out = self.conv(reverse_half(x), states)
        y = torch.flip(y * self.n_band, [1]).permute(0, 2, 1)
        y = y.reshape(y.shape[0], y.shape[1], -1, self.n_band).permute(0, 2, 1, 3)
        return y.reshape(y.shape[0], y.shape[1], -1), out


class StreamingEncoder(StreamingModule):
    """RAVE ``encode`` for mono: PQMF, conv stack, posterior sample, PCA rotation.

    The posterior noise is an explicit input ``eps`` (B, full_latent_size, T): pass zeros
    for the posterior mean, or standard normal noise to sample as RAVE does.
    """

    def __init__(self, pqmf: StreamingPQMFAnalysis | None, net: StreamingModule,
                 latent_pca: Tensor, latent_mean: Tensor, latent_size: int) -> None:
        super().__init__()
        self.pqmf = pqmf
        self.net = net
        self.register_buffer("latent_pca", latent_pca.detach().clone())
        self.register_buffer("latent_mean", latent_mean.detach().clone())
        self.latent_size = latent_size

    def forward(self, x: Tensor, eps: Tensor, states: States) -> tuple[Tensor, States]:
        out: States = []
        i = 0
        if self.pqmf is not None:
            n = self.pqmf.n_states()
            x, out = self.pqmf(x, states[:n])
            i = n
        z, new = self.net(x, states[i:])
        mean, scale = torch.chunk(z, 2, 1)
        std = nn.functional.softplus(scale) + 1e-4
        z = eps * std + mean
        z = z - self.latent_mean.unsqueeze(-1)
        z = nn.functional.conv1d(z, self.latent_pca.unsqueeze(-1))
        return z[:, : self.latent_size], out + new


class StreamingDecoder(StreamingModule):
    """RAVE ``decode`` for mono: inverse PCA, generator, amplitude modulation, inverse PQMF.

    When the model keeps fewer latent dims than it was trained with, RAVE fills the rest
    with noise; here that noise is the explicit input ``latent_noise``.
    """

    def __init__(self, net: StreamingModule, pqmf: StreamingPQMFSynthesis | None,
                 latent_pca: Tensor, latent_mean: Tensor, amplitude_modulation: bool) -> None:
        super().__init__()
        self.net = net
        self.pqmf = pqmf
        self.register_buffer("latent_pca", latent_pca.detach().clone())
        self.register_buffer("latent_mean", latent_mean.detach().clone())
        self.amplitude_modulation = amplitude_modulation

    def forward(self, z: Tensor, latent_noise: Tensor | None,
                states: States) -> tuple[Tensor, States]:
        if latent_noise is not None:
            z = torch.cat([z, latent_noise], 1)
        z = nn.functional.conv1d(z, self.latent_pca.T.unsqueeze(-1))
        z = z + self.latent_mean.unsqueeze(-1)
        n = self.net.n_states()
        y, out = self.net(z, states[:n])
        if self.amplitude_modulation:
            y, amplitude = torch.chunk(y, 2, 1)
            y = y * torch.sigmoid(amplitude)
        y = torch.tanh(y)
        if self.pqmf is not None:
            y, new = self.pqmf(y, states[n:])
            out = out + new
        return y, out


class FlatStateWrapper(nn.Module):
    """``forward(x, [extra], *state_in) -> (y, *state_out)``: the flat signature ONNX needs."""

    def __init__(self, inner: StreamingEncoder | StreamingDecoder, n_extra: int) -> None:
        super().__init__()
        self.inner = inner
        self.n_extra = n_extra

    def forward(self, x: Tensor, *args: Tensor) -> tuple[Tensor, ...]:
        extra, states = args[: self.n_extra], list(args[self.n_extra :])
        if isinstance(self.inner, StreamingEncoder):
            y, out = self.inner(x, extra[0], states)
        else:
            y, out = self.inner(x, extra[0] if extra else None, states)
        return (y, *out)


# --- conversion from a TorchScript export ------------------------------------------------


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


def _padding(module: torch.jit.ScriptModule) -> CachedPadding | None:
    """A ``CachedPadding1d`` with any history, or None when it is a zero-length no-op."""
    if not int(module.padding):
        return None
    return CachedPadding(module.pad, bool(module.crop))


def _leaky_relu(module: torch.jit.ScriptModule) -> nn.Module:
    match = re.search(r"\(input, ([-0-9.e]+)", module.forward.code)
    if match is None:
        raise UnsupportedModelError("could not read the LeakyReLU slope from its code")
    return nn.LeakyReLU(float(match.group(1)))


def convert(module: torch.jit.ScriptModule, path: str = "") -> StreamingModule:
    """Rebuild one scripted RAVE / cached_conv layer in the explicit-state form."""
    kind = module.original_name
    if kind in ("CachedSequential", "Sequential"):
        return StreamingSequential([convert(c, f"{path}.{i}")
                                    for i, c in enumerate(_children(module))])
    if kind in ("EncoderV2", "DilatedUnit", "GeneratorV2"):
        return convert(module.net, f"{path}.net")
    if kind == "CachedConv1d":
        node = _find_node(module.graph, "aten::conv1d")
        args = list(node.inputs())
        if _int_list(args[4]) != [0]:
            raise UnsupportedModelError(f"{path}: conv with implicit padding")
        return StreamingConv1d(module.weight, _optional_tensor(module, "bias"),
                               _int_list(args[3])[0], _int_list(args[5])[0],
                               int(args[6].toIValue()), _padding(module.cache),
                               _padding(module.downsampling_delay))
    if kind == "CachedConvTranspose1d":
        node = _find_node(module.graph, "aten::conv_transpose1d")
        args = list(node.inputs())
        if _int_list(args[4]) != [0] or _int_list(args[5]) != [0] or _int_list(args[7]) != [1]:
            raise UnsupportedModelError(f"{path}: transposed conv with padding or dilation")
        return StreamingConvTranspose1d(module.weight, _optional_tensor(module, "bias"),
                                        _int_list(args[3])[0], int(args[6].toIValue()),
                                        module.cache)
    if kind == "Residual":
        aligned = module.aligned
        if aligned.original_name != "AlignBranches":
            raise UnsupportedModelError(f"{path}: Residual without AlignBranches")
        branches = [convert(b, f"{path}.branches.{i}")
                    for i, b in enumerate(_children(aligned.branches))]
        delays: list[StreamingModule] = []
        for pad in _children(aligned.paddings):
            cached = _padding(pad)
            delays.append(cached if cached is not None else Stateless(nn.Identity()))
        return StreamingResidual(branches, delays)
    if kind == "LeakyReLU":
        return Stateless(_leaky_relu(module))
    if kind == "Identity":
        return Stateless(nn.Identity())
    raise UnsupportedModelError(f"{path or 'model'}: layer type {kind!r} is not supported")


def _check_mono_v2(model: torch.jit.ScriptModule) -> None:
    """Refuse, with the reason, the export variants this converter does not rebuild."""
    if not hasattr(model, "full_latent_size") or not hasattr(model, "decode_params"):
        raise UnsupportedModelError("not a RAVE v2 export (no full_latent_size / decode_params); "
                                    "v1 exports are not supported")
    if int(model.n_channels) != 1 or bool(model.stereo_mode):
        raise UnsupportedModelError(f"only mono models are supported (n_channels = "
                                    f"{int(model.n_channels)}, stereo_mode = {model.stereo_mode})")
    if getattr(model, "input_mode", "pqmf") != "pqmf":
        raise UnsupportedModelError(f"input_mode {model.input_mode!r} is not supported")
    if bool(getattr(model, "is_using_adain", False)):
        raise UnsupportedModelError("models using adaptive instance normalisation "
                                    "are not supported")
    if model.encoder.original_name != "VariationalEncoder":
        raise UnsupportedModelError(f"encoder type {model.encoder.original_name!r} "
                                    "is not supported")
    decoder_code = model.decoder.forward.code
    if "noise" in decoder_code:
        raise UnsupportedModelError("decoders with a noise branch are not supported yet")


def _pqmf_convs(model: torch.jit.ScriptModule) -> tuple[StreamingPQMFAnalysis | None,
                                                        StreamingPQMFSynthesis | None]:
    pqmf = model.pqmf
    n_band = int(pqmf.n_band)
    if n_band == 1:
        return None, None
    analysis = convert(pqmf.forward_conv, "pqmf.forward_conv")
    synthesis = convert(pqmf.inverse_conv, "pqmf.inverse_conv")
    assert isinstance(analysis, StreamingConv1d) and isinstance(synthesis, StreamingConv1d)
    return StreamingPQMFAnalysis(analysis), StreamingPQMFSynthesis(synthesis, n_band)


def from_torchscript(model: torch.jit.ScriptModule) -> tuple[StreamingEncoder,
                                                             StreamingDecoder]:
    """Rebuild a mono RAVE v2 streaming export's ``encode`` and ``decode``.

    The layers keep the export's weights and its saved caches (as initial states). Raises
    ``UnsupportedModelError`` for anything the TorchScript uses that is not rebuilt here.
    """
    _check_mono_v2(model)
    analysis, synthesis = _pqmf_convs(model)
    encoder = StreamingEncoder(analysis, convert(model.encoder.encoder, "encoder.encoder"),
                               model.latent_pca, model.latent_mean, int(model.latent_size))
    decoder = StreamingDecoder(convert(model.decoder, "decoder"), synthesis,
                               model.latent_pca, model.latent_mean,
                               bool(model.decoder.amplitude_modulation))
    return encoder.eval(), decoder.eval()
