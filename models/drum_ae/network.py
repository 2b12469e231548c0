"""The drum model's network: a small causal RAVE-style autoencoder with explicit caches.

Signal path (48 kHz, compression 256 = 16 PQMF bands x 4 x 4, one latent frame = 5.3 ms):

    audio -> PQMF analysis (16 bands, 3 kHz) -> conv -> res x2 -> down 4 -> res ->
        down 4 -> res x2 -> conv -> (mean, scale) -> z = mean + softplus(scale) * eps
    z -> conv -> res x2 -> up 4 -> res x2 -> up 4 -> res x3 -> conv ->
        per band: tanh(wave) * sigmoid(amp) + noise * sigmoid(noise_amp) -> PQMF synthesis

Every convolution is causal (padding on the left only), so nothing looks ahead; the noise
branch gives hats and snares their noise without asking the decoder to invent it.

One code path for training and streaming: each stateful layer is ``layer(x, cache) ->
(y, new_cache)``. Training runs whole clips from zero caches (the same as zero padding);
streaming feeds each block's caches to the next, so block-by-block output equals the whole
clip's (a test checks it). The caches are plain tensors, which is what lets the export put
them in TorchScript buffers (RAVE's interface) or in ONNX inputs and outputs.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from models.drum_ae.pqmf import PQMF

SAMPLE_RATE_HZ = 48000
BANDS = 16
STRIDES = (4, 4)
COMPRESSION = BANDS * STRIDES[0] * STRIDES[1]
LATENT_DIMS = 8
WIDTHS = (32, 64, 128)  # channels at 3 kHz, 750 Hz and 187.5 Hz
# The causal PQMF's analysis + synthesis delay: the model is trained to reproduce its input
# this late, so the bands need not be re-aligned (2.3 ms at 48 kHz).
DELAY_SAMPLES = 8 * BANDS - BANDS
NOISE_FRAMES = 16384  # the streaming noise table: 5.5 s at the band rate



def _act(x: Tensor) -> Tensor:
    return nn.functional.leaky_relu(x, 0.2)  # SLOPE: TorchScript cannot read globals


class CausalConv(nn.Module):
    """Convolution over [cache, block]; ``stride > 1`` downsamples (kernel = 2 * stride)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1,
                 dilation: int = 1, pre_act: bool = False) -> None:
        super().__init__()
        self.conv = nn.Conv1d(c_in, c_out, kernel, stride=stride, dilation=dilation)
        self.pad = (kernel - 1) * dilation if stride == 1 else kernel - stride
        self.pre_act = pre_act
        self.c_in = c_in

    def cache_shape(self) -> tuple[int, int]:
        return self.c_in, self.pad

    def forward(self, x: Tensor, cache: Tensor) -> tuple[Tensor, Tensor]:
        if self.pre_act:
            x = _act(x)
        padded = torch.cat([cache, x], -1)
        # Negative indices export as constant slices (no Shape/Gather/Sub nodes per layer).
        return self.conv(padded), padded[..., -self.pad:]


class Residual(nn.Module):
    """``x + dilated_conv(act(x))``: one convolution per block, not RAVE's two (dilated
    then 1x1). The worker runs the model one latent frame at a time, where each ONNX
    operator's fixed cost outweighs its arithmetic; dropping the 1x1 convolutions took
    the encode + decode graphs from about 247 to 222 us a block on one core here."""

    def __init__(self, channels: int, dilation: int) -> None:
        super().__init__()
        self.inner = CausalConv(channels, channels, 3, dilation=dilation, pre_act=True)

    def cache_shape(self) -> tuple[int, int]:
        return self.inner.cache_shape()

    def forward(self, x: Tensor, cache: Tensor) -> tuple[Tensor, Tensor]:
        h, cache = self.inner(x, cache)
        return x + h, cache


class Upsample(nn.Module):
    """Transposed convolution (kernel 2 * stride); the overlapping tail is carried."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv = nn.ConvTranspose1d(c_in, c_out, 2 * stride, stride=stride, bias=False)
        self.bias = nn.Parameter(torch.zeros(c_out, 1))
        self.stride, self.c_out = stride, c_out

    def cache_shape(self) -> tuple[int, int]:
        return self.c_out, self.stride

    def forward(self, x: Tensor, cache: Tensor) -> tuple[Tensor, Tensor]:
        y = self.conv(_act(x))
        head = y[..., : self.stride] + cache
        body = torch.cat([head, y[..., self.stride: -self.stride]], -1)
        return body + self.bias, y[..., -self.stride:]


def _encoder_layers() -> list[nn.Module]:
    w0, w1, w2 = WIDTHS
    # Lighter than the decoder: the encoder only has to summarise, the decoder must
    # synthesise (RAVE spends its capacity the same way).
    return [CausalConv(BANDS, w0, 5),
            Residual(w0, 1), Residual(w0, 3),
            CausalConv(w0, w1, 2 * STRIDES[0], stride=STRIDES[0], pre_act=True),
            Residual(w1, 1),
            CausalConv(w1, w2, 2 * STRIDES[1], stride=STRIDES[1], pre_act=True),
            Residual(w2, 1), Residual(w2, 3),
            CausalConv(w2, 2 * LATENT_DIMS, 3, pre_act=True)]


def _decoder_layers() -> list[nn.Module]:
    w0, w1, w2 = WIDTHS
    return [CausalConv(LATENT_DIMS, w2, 3),
            Residual(w2, 1), Residual(w2, 3),
            Upsample(w2, w1, STRIDES[1]),
            Residual(w1, 1), Residual(w1, 3),
            Upsample(w1, w0, STRIDES[0]),
            Residual(w0, 1), Residual(w0, 3), Residual(w0, 9),
            CausalConv(w0, 3 * BANDS, 5, pre_act=True)]


class DrumAE(nn.Module):
    """The autoencoder with explicit state; see the module doc.

    ``encode_stream(audio, eps, states)``: audio ``(B, 1, T)`` (T a multiple of
    :data:`COMPRESSION`), ``eps`` ``(B, LATENT_DIMS, T / COMPRESSION)`` (zeros: the posterior
    mean) -> ``z``, mean, scale and the new states. ``decode_stream(z, noise, states)``:
    ``noise`` ``(B, BANDS, T / BANDS)`` white noise -> audio ``(B, 1, T)``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.pqmf = PQMF(BANDS, 8 * BANDS)
        self.encoder = nn.ModuleList(_encoder_layers())
        self.decoder = nn.ModuleList(_decoder_layers())

    def encoder_states(self, batch: int = 1) -> list[Tensor]:
        """Zero caches for :meth:`encode_stream`: the PQMF's, then one per layer."""
        return [torch.zeros(batch, 1, self.pqmf.cache_samples)] + [
            torch.zeros(batch, *layer.cache_shape()) for layer in self.encoder]

    def decoder_states(self, batch: int = 1) -> list[Tensor]:
        """Zero caches for :meth:`decode_stream`: one per layer, then the PQMF's."""
        return [torch.zeros(batch, *layer.cache_shape()) for layer in self.decoder] + [
            torch.zeros(batch, 1, self.pqmf.cache_samples)]

    def encode_stream(self, audio: Tensor, eps: Tensor, states: list[Tensor]
                      ) -> tuple[Tensor, Tensor, Tensor, list[Tensor]]:
        h, cache = self.pqmf.analysis(audio, states[0])
        new = [cache]
        # An explicit loop rather than a helper: TorchScript cannot pass a ModuleList around.
        for i, layer in enumerate(self.encoder):
            h, cache = layer(h, states[i + 1])
            new.append(cache)
        mean, scale = h.chunk(2, 1)
        std = nn.functional.softplus(scale) + 1e-4
        return mean + std * eps, mean, std, new

    def decode_stream(self, z: Tensor, noise: Tensor, states: list[Tensor]
                      ) -> tuple[Tensor, list[Tensor]]:
        new: list[Tensor] = []
        h = z
        for i, layer in enumerate(self.decoder):
            h, cache = layer(h, states[i])
            new.append(cache)
        wave, amp, noise_amp = h.chunk(3, 1)
        bands = torch.tanh(wave) * torch.sigmoid(amp) + noise * torch.sigmoid(noise_amp - 2.0)
        audio, cache = self.pqmf.synthesis(bands, states[len(new)])
        new.append(cache)
        return audio, new

    @torch.jit.unused
    def forward(self, audio: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Training pass over whole clips from silence: (reconstruction, mean, std)."""
        b, _, t = audio.shape
        eps = torch.randn(b, LATENT_DIMS, t // COMPRESSION)
        z, mean, std, _ = self.encode_stream(audio, eps, self.encoder_states(b))
        noise = torch.randn(b, BANDS, t // BANDS)
        y, _ = self.decode_stream(z, noise, self.decoder_states(b))
        return y, mean, std
