"""The training objective, in torch: how far a twin mix is from its style, and whether
every stem is still heard.

The figures follow ``dsp.analysis.mix_figures`` with one simplification for speed: the
loudness is BS.1770's K-weighted mean power without its gates (the clips are short and
dense). Errors are divided by the tolerances the benchmark holds (0.5 dB, 150 Hz, 0.05),
so each term counts in units of "one tolerance". A prior on the strips (``prior``) keeps
the processing as light as the style allows.
"""

from __future__ import annotations

import math

import torch

from dsp import channel_strip as cs
from dsp.analysis import mix_figures
from dsp.bs1770 import k_weighting_coefficients
from models.automix import twin

BALANCE_DB = 9.0  # a stem may sit this far from the mean level of the stems before it costs
SHARE_WEIGHT = 0.2
PRIOR_WEIGHT = 2.0  # what a stem's processing costs, against one tolerance of style error
TAIL_FRAMES = 4096


def k_weighted_power(x: torch.Tensor, rate_hz: int) -> torch.Tensor:
    """Mean K-weighted power summed over channels, per row of ``x (rows, 2, n)``."""
    n_fft = twin._fft_size(x.shape[-1], TAIL_FRAMES)
    b, a = k_weighting_coefficients(rate_hz)
    h = None
    for bi, ai in zip(b.reshape(-1, 3), a.reshape(-1, 3), strict=True):
        stage = twin.response(tuple(float(c) for c in (*bi, *ai)), n_fft, x.dtype)[0]
        h = stage if h is None else h * stage
    y = twin.apply_response(x, h.expand(x.shape[0], -1))
    return (y * y).mean(dim=-1).sum(dim=-1)


def lufs(x: torch.Tensor, rate_hz: int) -> torch.Tensor:
    return -0.691 + 10.0 * torch.log10(k_weighted_power(x, rate_hz) + 1e-12)


def spectral(x: torch.Tensor, rate_hz: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Centroid (Hz) and low/mid/high shares ``(rows, 3)`` of each row's mono sum."""
    n = mix_figures.frame_size(rate_hz)
    mono = 0.5 * (x[:, 0] + x[:, 1])
    window = torch.hann_window(n, periodic=True, dtype=x.dtype)
    frames = mono.unfold(-1, n, n // 2) * window
    mag = torch.fft.rfft(frames).abs() + 1e-9  # (rows, frames, bins)
    freqs = torch.fft.rfftfreq(n, 1.0 / rate_hz, dtype=x.dtype)
    per_frame = (mag * freqs).sum(-1) / mag.sum(-1)
    energy = (mag * mag).sum(-1)
    centroid = (per_frame * energy).sum(-1) / energy.sum(-1)
    power = (mag * mag).sum(1)
    lo, hi = mix_figures.BAND_EDGES_HZ
    total = power.sum(-1)
    low = power[:, freqs < lo].sum(-1) / total
    high = power[:, freqs >= hi].sum(-1) / total
    return centroid, torch.stack([low, 1.0 - low - high, high], dim=-1)


def ms_ratio(x: torch.Tensor) -> torch.Tensor:
    mid = 0.5 * (x[:, 0] + x[:, 1])
    side = 0.5 * (x[:, 0] - x[:, 1])
    return torch.sqrt((side * side).sum(-1) / ((mid * mid).sum(-1) + 1e-12) + 1e-12)


def style_terms(y: torch.Tensor, rate_hz: int, targets: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-row errors in tolerances; ``targets (rows, 6)``: LUFS, centroid Hz, M/S, shares."""
    centroid, shares = spectral(y, rate_hz)
    return {"lufs": (lufs(y, rate_hz) - targets[:, 0]) / 0.5,
            "centroid": (centroid - targets[:, 1]) / 150.0,
            "ms": (ms_ratio(y) - targets[:, 2]) / 0.05,
            "shares": (shares - targets[:, 3:6]).abs().sum(-1) / 0.05}


def balance(stems_out: torch.Tensor, mask: torch.Tensor, rate_hz: int) -> torch.Tensor:
    """Per mix: how far (dB, beyond ``BALANCE_DB``) present stems sit from their mean level,
    squared and summed: no stem vanishes under the others or buries them."""
    rows = stems_out.shape[0] * stems_out.shape[1]
    level = 10.0 * torch.log10(k_weighted_power(stems_out.reshape(rows, 2, -1), rate_hz)
                               + 1e-10).reshape(mask.shape)
    mean = (level * mask).sum(-1, keepdim=True) / mask.sum(-1, keepdim=True)
    excess = torch.relu((level - mean).abs() - BALANCE_DB) * mask
    return (excess * excess).sum(-1)


def prior(strips: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per mix: the mean over its stems of how hard each strip works (EQ gains, compression,
    drive, width and pan away from neutral, each 1 at the end of its range), so the network
    does what the style needs with the least processing, as an engineer would, and leaves
    the broad strokes to the master's tilt, side gain and gain."""
    col = {name: strips[..., i] for i, name in enumerate(cs.NAMES)}
    work = ((col["low_db"] ** 2 + col["mid_db"] ** 2 + col["high_db"] ** 2) / 144.0
            + ((col["comp_ratio"] - 1.0) / 7.0) ** 2 + (col["comp_threshold_db"] / 40.0) ** 2
            * (col["comp_ratio"] - 1.0) / 7.0 + (col["drive_db"] / 18.0) ** 2
            + (col["width"] - 1.0) ** 2 + 0.1 * col["pan"] ** 2
            + (torch.log(col["hpf_hz"] / 30.0) / math.log(400.0 / 30.0)) ** 2)
    return (work * mask).sum(-1) / mask.sum(-1)


def total(terms: dict[str, torch.Tensor], balance_term: torch.Tensor,
          prior_term: torch.Tensor) -> torch.Tensor:
    style = terms["lufs"] ** 2 + terms["centroid"] ** 2 + terms["ms"] ** 2
    return (style + SHARE_WEIGHT * terms["shares"] ** 2 + 0.1 * balance_term
            + PRIOR_WEIGHT * prior_term).mean()

