"""The explicit-state layers added for v1, v2_small and stereo exports, on their own."""

from __future__ import annotations

import pytest
import torch

from models.rave.streaming_model import (
    CachedPadding,
    NoiseFilter,
    fold_channels,
    unfold_channels,
)


def _fft_noise_reference(logits: torch.Tensor, noise: torch.Tensor, bands: int,
                         length: int) -> torch.Tensor:
    """RAVE's noise synthesis the FFT way: zero-phase responses from the band amplitudes
    (Hann-windowed, fitted to ``length``), convolved with each frame's noise through
    zero-padded FFTs; layouts as NoiseFilter documents them."""
    amp = (2 * torch.sigmoid(logits - 5) ** 2.3 + 1e-7).permute(0, 2, 1)
    amp = amp.reshape(amp.shape[0], amp.shape[1], bands, -1).double()
    response = torch.fft.irfft(torch.complex(amp, torch.zeros_like(amp)))
    size = response.shape[-1]
    response = torch.roll(response, size // 2, -1) * torch.hann_window(size,
                                                                        dtype=torch.float64)
    response = torch.nn.functional.pad(response, (0, length - size))
    response = torch.roll(response, -size // 2, -1)
    frames = noise.double().reshape(noise.shape[0], bands, -1, length).permute(0, 2, 1, 3)
    signal = torch.nn.functional.pad(frames, (0, length))
    kernel = torch.nn.functional.pad(response, (length, 0))
    out = torch.fft.irfft(torch.fft.rfft(signal) * torch.fft.rfft(kernel))[..., length:]
    return out.permute(0, 2, 1, 3).reshape(noise.shape[0], bands, -1).float()


@pytest.mark.parametrize(("n_noise_bands", "length"), [(5, 64), (32, 8)])
def test_noise_filter_matches_the_fft_formulation(n_noise_bands: int, length: int) -> None:
    """v1's (5 noise bands, 64-sample frames) and v2_small's (32 bands, cut to 8) shapes."""
    bands, frames = 6, 3
    g = torch.Generator().manual_seed(0)
    logits = 5 + 3 * torch.randn(2, bands * n_noise_bands, frames, generator=g)
    noise = torch.rand(2, bands, frames * length, generator=g) * 2 - 1
    ours = NoiseFilter(n_noise_bands, length, bands)(logits, noise)
    reference = _fft_noise_reference(logits, noise, bands, length)
    assert ours.shape == (2, bands, frames * length)
    # v2_small's responses are cut to the window's quiet tail, so the level differs a lot
    # between the two shapes: compare relative to each one's peak.
    peak = float(reference.abs().max())
    assert peak > 1e-2
    torch.testing.assert_close(ours, reference, atol=1e-5 * peak, rtol=0)


def test_noise_filter_is_causal_within_a_frame() -> None:
    """Noise late in a frame cannot reach earlier samples of the frame, nor other frames."""
    length, bands = 16, 2
    filt = NoiseFilter(5, length, bands)
    logits = torch.full((1, bands * 5, 2), 6.0)
    noise = torch.zeros(1, bands, 2 * length)
    base = filt(logits, noise)
    noise[0, 0, 10] = 1.0
    changed = torch.nonzero((filt(logits, noise) - base)[0, 0]).flatten()
    assert changed.min() >= 10 and changed.max() < length
    assert (filt(logits, noise) - base)[0, 1].abs().max() == 0


def test_fold_channels_puts_each_channel_in_its_own_row() -> None:
    x = torch.arange(2 * 2 * 3 * 4, dtype=torch.float32).reshape(2, 2 * 3, 4)
    folded = fold_channels(x, 2)
    assert folded.shape == (4, 3, 4)
    torch.testing.assert_close(folded[1], x[0, 3:])  # batch 0, channel 1
    torch.testing.assert_close(folded[2], x[1, :3])  # batch 1, channel 0
    torch.testing.assert_close(unfold_channels(folded, 2), x)
    assert fold_channels(x, 1) is x and unfold_channels(x, 1) is x


def test_cached_padding_keeps_one_row_per_channel() -> None:
    """A stereo PQMF cache: rows 0 and 1 of the export's (64, C, pad) buffer, side by side."""
    saved = torch.randn(64, 1, 5)
    pad = CachedPadding(saved, crop=False, rows=2)
    (initial,) = pad.initial_states(batch=3)
    assert initial.shape == (3, 2, 5)
    torch.testing.assert_close(fold_channels(initial, 2)[:2], saved[:2])
    mono = CachedPadding(saved, crop=False)
    torch.testing.assert_close(mono.initial_states(1)[0], saved[:1])
