"""A differentiable copy of the onset detector's flux, as a training loss.

Trained on spectral losses alone, the drum model made extra onsets: a kick or snare decay
that swells again 30-50 ms after the hit reads as a second hit to :mod:`dsp.onset`, though
the spectral losses barely see it. This module computes that detector's own onset-strength
curve in torch (Hann frames of 512, spectra 128 samples apart, magnitudes normalised so a
full-scale sine peaks at 1, averaged into 6-per-octave bands, ``log1p(3000 * |X|)``,
positive increase over the maximum of the neighbouring bands of the older spectrum, mean
over bands) so the model can be trained to match the input's curve: no swell where the
input has none, the same peak where it has a hit.
``tests/models/drum_ae/test_onset_loss.py`` checks it against the Numba detector frame for
frame.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from dsp.onset import BANDS_PER_OCTAVE, COMPRESSION, MAX_FILTER_BANDS, band_edges
from dsp.onset import FRAME_SIZE as FRAME

LAG_SAMPLES = 128  # the live detector's hop with lag 1: spectra compared 128 samples apart


def band_matrix(sample_rate_hz: float) -> Tensor:
    """``(n_bins, n_bands)``: each band's mean over its FFT bins, as the detector groups them."""
    edges = band_edges(FRAME, sample_rate_hz, BANDS_PER_OCTAVE)
    m = torch.zeros(FRAME // 2 + 1, len(edges) - 1)
    for b in range(len(edges) - 1):
        m[edges[b]:edges[b + 1], b] = 1.0 / float(edges[b + 1] - edges[b])
    return m


def onset_flux(x: Tensor, bands: Tensor, hop: int = 64) -> Tensor:
    """The detector's flux of ``x`` ``(B, T)``: ``(B, frames - lag)`` per ``hop`` samples."""
    window = torch.hann_window(FRAME, dtype=x.dtype)  # periodic, as the detector's
    spec = torch.stft(x, FRAME, hop, window=window, center=False, return_complex=True)
    mag = spec.abs().transpose(1, 2) * (2.0 / window.sum())  # (B, frames, bins)
    level = torch.log1p(COMPRESSION * (mag @ bands))  # (B, frames, bands)
    lag = LAG_SAMPLES // hop
    # Max over each band and its neighbours (the last axis) of the spectrum `lag` earlier.
    width = MAX_FILTER_BANDS
    older = nn.functional.max_pool1d(level[:, :-lag], 2 * width + 1, 1, width)
    return torch.relu(level[:, lag:] - older).mean(-1)


def onset_flux_loss(y: Tensor, x: Tensor, bands: Tensor) -> Tensor:
    """Absolute difference of the two flux curves relative to the input's total flux
    (``(B, T)`` each), so quiet and loud batches weigh alike."""
    fx = onset_flux(x, bands)
    return (onset_flux(y, bands) - fx).abs().sum() / (fx.sum() + 1e-7)
