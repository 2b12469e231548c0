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

``models/rave/ts_convert.py`` builds these layers from an acids-rave export (v1 and v2
families, mono or multichannel).

Randomness is explicit too: the posterior noise of ``encode`` (``eps``), the latent dims
``decode`` adds when the export keeps fewer than the model has (``latent_noise``) and the
uniform noise a noise branch filters (``noise``) are inputs, so a caller can feed what the
TorchScript would have drawn and compare block by block.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

States = list[Tensor]


def fold_channels(x: Tensor, n_channels: int) -> Tensor:
    """(B, n * C, T) -> (B * n, C, T): each audio channel its own batch row, the way RAVE
    runs its PQMF on multichannel audio. Mono tensors pass unchanged."""
    return x if n_channels == 1 else x.reshape(x.shape[0] * n_channels, -1, x.shape[-1])


def unfold_channels(x: Tensor, n_channels: int) -> Tensor:
    """(B * n, C, T) -> (B, n * C, T), the inverse of :func:`fold_channels`."""
    return x if n_channels == 1 else x.reshape(-1, n_channels * x.shape[1], x.shape[-1])


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


class StateCursor:
    """Hands children consecutive slices of a flat state list and collects what they return.

    A parent must run its state children in ``state_children()`` order, so the slices line
    up with ``cache_names()``.
    """

    def __init__(self, states: States) -> None:
        self.states = states
        self.used = 0
        self.new: States = []

    def run(self, module: StreamingModule, x: Tensor, *extra: Tensor | None) -> Tensor:
        """``module(x, *extra, its_states)``; keeps its new states, returns its output."""
        n = module.n_states()
        y, new = module(x, *extra, self.states[self.used : self.used + n])
        self.used += n
        self.new += new
        return y


class CachedPadding(StreamingModule):
    """Left-pads with the last ``padding`` samples of the previous block (cached_conv's
    ``CachedPadding1d``). With ``crop`` the output keeps the input length: a pure delay,
    used to align a residual branch with a convolution's latency.

    ``rows`` > 1 keeps that many rows of the export's buffer, laid out as channels
    (:func:`unfold_channels`): a layer run once per audio channel keeps one row each.
    """

    def __init__(self, initial: Tensor, crop: bool, rows: int = 1) -> None:
        super().__init__()
        self.padding = int(initial.shape[-1])
        self.crop = crop
        # The first rows of the export's (max_batch, C, padding) buffer.
        self.register_buffer("initial", unfold_channels(initial[:rows].detach().clone(), rows))

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
        cursor = StateCursor(states)
        for pad in (self.delay, self.cache):
            if pad is not None:
                x = cursor.run(pad, x)
        y = nn.functional.conv1d(x, self.weight, self.bias, self.stride, 0, self.dilation,
                                 self.groups)
        return y, cursor.new


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
        cursor = StateCursor(states)
        for layer in self.layers:
            x = cursor.run(layer, x)
        return x, cursor.new


class AlignedBranches(StreamingModule):
    """cached_conv's ``AlignBranches``: ``branch_k(delay_k(x))`` for every k, where the
    delays give every branch the same latency."""

    def __init__(self, branches: list[StreamingModule], delays: list[StreamingModule]) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)
        self.delays = nn.ModuleList(delays)

    def state_children(self) -> list[tuple[str, StreamingModule]]:
        # Each branch's delay runs just before the branch, so its cache comes first.
        pairs = zip(self.delays, self.branches, strict=True)
        return [item for k, (delay, branch) in enumerate(pairs)
                for item in ((f"delays.{k}", delay), (f"branches.{k}", branch))]

    def branch_outputs(self, x: Tensor, cursor: StateCursor) -> list[Tensor]:
        """Every branch's output, in order, taking the states from ``cursor``."""
        return [cursor.run(branch, cursor.run(delay, x))
                for delay, branch in zip(self.delays, self.branches, strict=True)]


class StreamingResidual(AlignedBranches):
    """``sum(branch_k(delay_k(x)))``: cached_conv's ``Residual(AlignBranches(...))`` and
    RAVE v1's ``ResidualStack``."""

    def forward(self, x: Tensor, states: States) -> tuple[Tensor, States]:
        cursor = StateCursor(states)
        outputs = self.branch_outputs(x, cursor)
        total = outputs[0]
        for h in outputs[1:]:
            total = total + h
        return total, cursor.new


def reverse_half(x: Tensor) -> Tensor:
    """Negates odd bands at even time steps, as RAVE's PQMF does (``mask[..., 1::2, ::2]``)."""
    band = torch.arange(x.shape[-2], device=x.device).unsqueeze(-1)
    time = torch.arange(x.shape[-1], device=x.device).unsqueeze(0)
    flip = (band % 2 == 1) & (time % 2 == 0)
    return torch.where(flip, -x, x)


class StreamingPQMFAnalysis(StreamingModule):
    """Audio (B, n_channels, N) to ``n_band`` sub-bands per channel (B, n_channels * n_band,
    N / n_band), channel-major, as RAVE lays them out for its encoder."""

    def __init__(self, conv: StreamingConv1d, n_channels: int = 1) -> None:
        super().__init__()
        self.conv = conv
        self.n_channels = n_channels

    def forward(self, x: Tensor, states: States) -> tuple[Tensor, States]:
        n = self.n_channels
        y, out = self.conv(fold_channels(x, n), [fold_channels(s, n) for s in states])
        return unfold_channels(reverse_half(y), n), [unfold_channels(s, n) for s in out]


class StreamingPQMFSynthesis(StreamingModule):
    """Sub-bands (B, n_channels * n_band, T) back to audio (B, n_channels, T * n_band):
    polyphase synthesis, one channel at a time."""

    def __init__(self, conv: StreamingConv1d, n_band: int, n_channels: int = 1) -> None:
        super().__init__()
        self.conv = conv
        self.n_band = n_band
        self.n_channels = n_channels

    def forward(self, x: Tensor, states: States) -> tuple[Tensor, States]:
        n = self.n_channels
        y, out = self.conv(reverse_half(fold_channels(x, n)),
                           [fold_channels(s, n) for s in states])
        y = torch.flip(y * self.n_band, [1]).permute(0, 2, 1)
        y = y.reshape(y.shape[0], y.shape[1], -1, self.n_band).permute(0, 2, 1, 3)
        y = y.reshape(y.shape[0], y.shape[1], -1)
        return unfold_channels(y, n), [unfold_channels(s, n) for s in out]


# --- noise branches -----------------------------------------------------------------------


def mod_sigmoid(x: Tensor) -> Tensor:
    """RAVE's positive gain curve, ``2 * sigmoid(x) ** 2.3 + 1e-7``."""
    return 2 * torch.sigmoid(x) ** 2.3 + 1e-7


def impulse_response_basis(n_bands: int, length: int) -> Tensor:
    """(n_bands, length): row k is the filter RAVE's noise branch builds from a unit
    amplitude in frequency band k.

    RAVE turns band amplitudes into a zero-phase impulse response (inverse real FFT),
    centres it under a Hann window, zero-pads or cuts it to ``length`` and rolls it back to
    start at 0. Every step is linear in the amplitudes, so ``amplitudes @ basis`` gives the
    same response with a matrix product, which ONNX runs without FFT operators.
    """
    spectrum = torch.eye(n_bands, dtype=torch.float64).to(torch.complex128)
    response = torch.fft.irfft(spectrum)
    size = response.shape[-1]
    response = torch.roll(response, size // 2, -1) * torch.hann_window(size,
                                                                        dtype=torch.float64)
    response = nn.functional.pad(response, (0, length - size))
    return torch.roll(response, -size // 2, -1).float()


class NoiseFilter(nn.Module):
    """The stateless half of a RAVE noise branch: filters uniform noise frame by frame.

    ``logits`` (B, bands * n_noise_bands, frames) are the branch's conv output; ``noise``
    (B, bands, frames * length) is uniform in [-1, 1), one signal per PQMF band (of every
    channel) at the band rate. Each frame of ``length`` samples is filtered by the response
    its amplitudes describe, causally and cut to the frame (what RAVE's zero-padded FFT
    convolution computes). Returns (B, bands, frames * length).
    """

    def __init__(self, n_noise_bands: int, length: int, bands: int) -> None:
        super().__init__()
        self.bands = bands
        self.length = length
        self.register_buffer("basis", impulse_response_basis(n_noise_bands, length))
        # toeplitz[m, n] = response[n - m] for n >= m, else the zero padding in front.
        m = torch.arange(length).unsqueeze(1)
        n = torch.arange(length).unsqueeze(0)
        self.register_buffer("toeplitz_index", (length + n - m).flatten())

    def forward(self, logits: Tensor, noise: Tensor) -> Tensor:
        amp = mod_sigmoid(logits - 5).permute(0, 2, 1)
        amp = amp.reshape(amp.shape[0], amp.shape[1], self.bands, -1)
        response = amp @ self.basis
        # Zeros in front (a concat: padding would export a reversed-slice Pad).
        response = torch.cat([torch.zeros_like(response), response], -1)
        toeplitz = response.index_select(-1, self.toeplitz_index)
        toeplitz = toeplitz.reshape(*response.shape[:-1], self.length, self.length)
        frames = noise.reshape(noise.shape[0], self.bands, -1, self.length).permute(0, 2, 1, 3)
        filtered = (frames.unsqueeze(-2) @ toeplitz).squeeze(-2)
        filtered = filtered.permute(0, 2, 1, 3)
        return filtered.reshape(filtered.shape[0], filtered.shape[1], -1)


# --- generators ---------------------------------------------------------------------------


def _required(noise: Tensor | None) -> Tensor:
    if noise is None:
        raise ValueError("this decoder has a noise branch: pass its uniform noise")
    return noise


class GeneratorV2Stream(StreamingModule):
    """RAVE's ``GeneratorV2``: conv stack, [waveform conv], [amplitude modulation],
    [+ filtered noise], tanh. ``forward(x, noise, states)``; ``noise`` is None without a
    noise branch."""

    def __init__(self, net: StreamingModule, amplitude_modulation: bool,
                 waveform: StreamingModule | None = None,
                 noise_net: StreamingModule | None = None,
                 noise_filter: NoiseFilter | None = None) -> None:
        super().__init__()
        self.net = net
        self.waveform = waveform
        self.noise_net = noise_net
        self.noise_filter = noise_filter
        self.amplitude_modulation = amplitude_modulation

    def forward(self, x: Tensor, noise: Tensor | None,
                states: States) -> tuple[Tensor, States]:
        cursor = StateCursor(states)
        h = cursor.run(self.net, x)
        y = h if self.waveform is None else cursor.run(self.waveform, h)
        if self.amplitude_modulation:
            y, amplitude = torch.chunk(y, 2, 1)
            y = y * torch.sigmoid(amplitude)
        if self.noise_net is not None and self.noise_filter is not None:
            y = y + self.noise_filter(cursor.run(self.noise_net, h), _required(noise))
        return torch.tanh(y), cursor.new


class GeneratorV1Stream(StreamingModule):
    """RAVE's v1 ``Generator``: conv stack, then aligned branches for the waveform, the
    loudness and (when the model is past its warm-up phase) the noise;
    ``tanh(waveform) * mod_sigmoid(loudness) [+ filtered noise]``."""

    def __init__(self, net: StreamingModule, synth: AlignedBranches,
                 noise_filter: NoiseFilter | None, loud_stride: int) -> None:
        super().__init__()
        self.net = net
        self.synth = synth
        self.noise_filter = noise_filter
        self.loud_stride = loud_stride

    def forward(self, x: Tensor, noise: Tensor | None,
                states: States) -> tuple[Tensor, States]:
        cursor = StateCursor(states)
        outputs = self.synth.branch_outputs(cursor.run(self.net, x), cursor)
        loudness = outputs[1]
        if self.loud_stride != 1:
            loudness = loudness.repeat_interleave(self.loud_stride, -1)
        y = torch.tanh(outputs[0]) * mod_sigmoid(loudness)
        if self.noise_filter is not None:
            y = y + self.noise_filter(outputs[2], _required(noise))
        return y, cursor.new


Generator = GeneratorV1Stream | GeneratorV2Stream


# --- encode and decode --------------------------------------------------------------------


class StreamingEncoder(StreamingModule):
    """RAVE ``encode``: PQMF, conv stack, posterior sample, PCA rotation.

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
        cursor = StateCursor(states)
        if self.pqmf is not None:
            x = cursor.run(self.pqmf, x)
        z = cursor.run(self.net, x)
        mean, scale = torch.chunk(z, 2, 1)
        std = nn.functional.softplus(scale) + 1e-4
        z = eps * std + mean
        z = z - self.latent_mean.unsqueeze(-1)
        z = nn.functional.conv1d(z, self.latent_pca.unsqueeze(-1))
        return z[:, : self.latent_size], cursor.new


class StreamingDecoder(StreamingModule):
    """RAVE ``decode``: inverse PCA, generator, inverse PQMF.

    ``generator`` is a :class:`GeneratorV1Stream` / :class:`GeneratorV2Stream`, or a bare
    conv stack that gets v2's output stage (amplitude modulation when asked, then tanh).
    When the model keeps fewer latent dims than it was trained with, RAVE fills the rest
    with noise; here that noise is the explicit input ``latent_noise``. A noise branch
    takes its uniform noise from ``noise`` (see :class:`NoiseFilter`).
    """

    def __init__(self, generator: StreamingModule, pqmf: StreamingPQMFSynthesis | None,
                 latent_pca: Tensor, latent_mean: Tensor,
                 amplitude_modulation: bool = False) -> None:
        super().__init__()
        if not isinstance(generator, Generator):
            generator = GeneratorV2Stream(generator, amplitude_modulation)
        self.generator = generator
        self.pqmf = pqmf
        self.register_buffer("latent_pca", latent_pca.detach().clone())
        self.register_buffer("latent_mean", latent_mean.detach().clone())

    @property
    def net(self) -> StreamingModule:
        """The generator's conv stack (before its output stage)."""
        return self.generator.net

    @property
    def noise_filter(self) -> NoiseFilter | None:
        """The noise branch's filter, None when decode draws no uniform noise."""
        return self.generator.noise_filter

    def forward(self, z: Tensor, latent_noise: Tensor | None, states: States,
                noise: Tensor | None = None) -> tuple[Tensor, States]:
        if latent_noise is not None:
            z = torch.cat([z, latent_noise], 1)
        z = nn.functional.conv1d(z, self.latent_pca.T.unsqueeze(-1))
        z = z + self.latent_mean.unsqueeze(-1)
        cursor = StateCursor(states)
        y = cursor.run(self.generator, z, noise)
        if self.pqmf is not None:
            y = cursor.run(self.pqmf, y)
        return y, cursor.new


class FlatStateWrapper(nn.Module):
    """``forward(x, *extra, *state_in) -> (y, *state_out)``: the flat signature ONNX needs.

    ``extra`` names the inputs between ``x`` and the states: ``["eps"]`` for an encoder,
    any of ``["latent_noise", "noise"]`` for a decoder. An int keeps the older spelling:
    that many of ``["eps"]`` / ``["latent_noise"]``.
    """

    def __init__(self, inner: StreamingEncoder | StreamingDecoder,
                 extra: int | list[str]) -> None:
        super().__init__()
        self.inner = inner
        if isinstance(extra, int):
            names = ["eps"] if isinstance(inner, StreamingEncoder) else ["latent_noise"]
            extra = names[:extra]
        self.extra_names = list(extra)

    def forward(self, x: Tensor, *args: Tensor) -> tuple[Tensor, ...]:
        n = len(self.extra_names)
        named = dict(zip(self.extra_names, args[:n], strict=True))
        states = list(args[n:])
        if isinstance(self.inner, StreamingEncoder):
            y, out = self.inner(x, named["eps"], states)
        else:
            y, out = self.inner(x, named.get("latent_noise"), states, named.get("noise"))
        return (y, *out)
