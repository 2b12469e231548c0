"""A tiny TorchScript stand-in with RAVE's interface and an exactly known delay.

Lossless "latents" (the samples themselves, ``compression`` per frame and channel) and a
streaming delay of ``delay`` samples held in a ``cache`` buffer, so the processor's
latency accounting can be checked against a signal that comes back intact.
"""

from __future__ import annotations

from pathlib import Path

import torch


class DelayRave(torch.nn.Module):
    def __init__(self, delay: int, channels: int, compression: int = 256) -> None:
        super().__init__()
        self.sr = 44100
        self.n_channels = channels
        self.latent_size = channels * compression
        self.full_latent_size = channels * compression
        self.compression = compression
        self.register_buffer("encode_params",
                             torch.tensor([channels, 1, channels * compression, compression]))
        self.register_buffer("decode_params",
                             torch.tensor([channels * compression, compression, channels, 1]))
        self.register_buffer("cache", torch.zeros(1, channels, delay))

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        t = x.shape[-1]
        y = torch.cat([self.cache, x], -1)
        self.cache.copy_(y[..., t:])
        y = y[..., :t]
        frames = t // self.compression
        y = y.reshape(1, self.n_channels, frames, self.compression).permute(0, 1, 3, 2)
        return y.reshape(1, self.latent_size, frames)

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        frames = z.shape[-1]
        y = z.reshape(1, self.n_channels, self.compression, frames).permute(0, 1, 3, 2)
        return y.reshape(1, self.n_channels, frames * self.compression)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


def save_delay_rave(path: Path, delay: int, channels: int, compression: int = 256) -> Path:
    torch.jit.save(torch.jit.script(DelayRave(delay, channels, compression)), str(path))
    return path
