"""Differentiable torch twin of ``dsp.channel_strip`` and the mastering chain before its
limiter (``dsp.mastering.pre_limiter``): used to train the predictor, never to mix.

Same maths, arranged for gradients: the biquads are applied as their exact frequency
responses on an FFT long enough that the impulse responses' tails (decayed below 1e-7) do
not wrap; the compressor's smoother is ``one_pole.smooth`` (Numba forward and adjoint); the
2x saturation is the same halfband FIR, zero-stuffed and decimated by FFT convolution.
Equal to the Numba strip within 1e-3 on the same parameters (``tests/models/automix``).
Signals are ``(rows, 2, frames)``; parameter tensors ``(rows, N_PARAMS)`` in natural units.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from dsp import channel_strip as cs
from dsp import mastering, saturation
from dsp.compressor import _DB_PER_NEPER
from dsp.units import db_to_gain_array
from models.automix.one_pole import smooth

TAIL_FRAMES = 16384  # IIR tails beyond this are below 1e-7 for every biquad the strip sets
_HALFBAND = saturation.halfband(saturation.STAGE1_TAPS, 23.0 / 96.0)
HIGHPASS, LOWSHELF, PEAK, HIGHSHELF = "hp", "ls", "pk", "hs"
TWIN_MASTER = 5  # bus threshold, bus ratio, tilt, side, gain


def _fft_size(frames: int, tail: int = TAIL_FRAMES) -> int:
    return 1 << math.ceil(math.log2(frames + tail))


def biquad_coefficients(kind: str, freq_hz: torch.Tensor, q: float, gain_db: torch.Tensor,
                        rate_hz: float) -> tuple[torch.Tensor, ...]:
    """RBJ cookbook (b0, b1, b2, a0, a1, a2), as ``dsp.biquad.design`` writes them."""
    w0 = 2.0 * math.pi * freq_hz / rate_hz
    cw, sw = torch.cos(w0), torch.sin(w0)
    alpha = sw / (2.0 * q)
    big_a = 10.0 ** (gain_db / 40.0)
    sa = 2.0 * torch.sqrt(big_a) * alpha
    if kind == HIGHPASS:
        b0 = 0.5 * (1.0 + cw)
        return b0, -(1.0 + cw), b0, 1.0 + alpha, -2.0 * cw, 1.0 - alpha
    if kind == PEAK:
        return (1.0 + alpha * big_a, -2.0 * cw, 1.0 - alpha * big_a,
                1.0 + alpha / big_a, -2.0 * cw, 1.0 - alpha / big_a)
    ap, am = big_a + 1.0, big_a - 1.0
    if kind == LOWSHELF:
        return (big_a * (ap - am * cw + sa), 2.0 * big_a * (am - ap * cw),
                big_a * (ap - am * cw - sa), ap + am * cw + sa, -2.0 * (am + ap * cw),
                ap + am * cw - sa)
    return (big_a * (ap + am * cw + sa), -2.0 * big_a * (am + ap * cw),
            big_a * (ap + am * cw - sa), ap - am * cw + sa, 2.0 * (am - ap * cw),
            ap - am * cw - sa)


def response(coeffs: tuple[torch.Tensor, ...], n_fft: int,
             dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Complex frequency response ``(rows, n_fft // 2 + 1)`` of one biquad per row, in
    ``dtype``'s precision (float32 for training: a fraction of the cost, errors ~1e-6)."""
    w = torch.linspace(0.0, math.pi, n_fft // 2 + 1, dtype=dtype)
    z1 = torch.polar(torch.ones_like(w), -w)
    z2 = z1 * z1
    b0, b1, b2, a0, a1, a2 = (torch.as_tensor(c).to(dtype).reshape(-1, 1) for c in coeffs)
    return (b0 + b1 * z1 + b2 * z2) / (a0 + a1 * z1 + a2 * z2)


def apply_response(x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """``x (rows, 2, n)`` filtered by ``h (rows, bins)`` from zero state (linear, causal)."""
    n = x.shape[-1]
    n_fft = 2 * (h.shape[-1] - 1)
    complex_type = torch.complex128 if x.dtype == torch.float64 else torch.complex64
    spec = torch.fft.rfft(x, n_fft) * h[:, None, :].to(complex_type)
    return torch.fft.irfft(spec, n_fft)[..., :n]


def strip_eq(x: torch.Tensor, rate_hz: float, p: torch.Tensor, tail: int = TAIL_FRAMES
             ) -> torch.Tensor:
    n_fft = _fft_size(x.shape[-1], tail)
    col = {name: p[:, i] for i, name in enumerate(cs.NAMES)}
    zero = torch.zeros_like(col["gain_db"])
    h = response(biquad_coefficients(HIGHPASS, col["hpf_hz"], cs.HPF_Q, zero, rate_hz), n_fft,
                 x.dtype)
    for kind, f, q, g in ((LOWSHELF, cs.LOW_SHELF_HZ, cs.SHELF_Q, col["low_db"]),
                          (PEAK, col["mid_hz"], cs.MID_Q, col["mid_db"]),
                          (HIGHSHELF, cs.HIGH_SHELF_HZ, cs.SHELF_Q, col["high_db"])):
        f = torch.as_tensor(f, dtype=g.dtype).expand_as(g)
        h = h * response(biquad_coefficients(kind, f, q, g, rate_hz), n_fft, x.dtype)
    return apply_response(x, h)


def compress(x: torch.Tensor, rate_hz: float, threshold_db: torch.Tensor,
             ratio: torch.Tensor, knee_db: float, attack_ms: float, release_ms: float
             ) -> torch.Tensor:
    """``dsp.compressor`` (max-linked, makeup 0): soft-knee gain computer on the
    instantaneous level, reduction smoothed in dB, applied as a gain."""
    level = torch.amax(x.abs(), dim=1)
    level_db = _DB_PER_NEPER * torch.log(torch.clamp(level, min=1e-10))
    thr = threshold_db[:, None]
    slope = 1.0 / ratio[:, None] - 1.0
    over = level_db - thr
    t = over + 0.5 * knee_db
    in_knee = -slope * t * t / (2.0 * knee_db)
    above = -slope * over  # level - (thr + over / ratio)
    target = torch.where(2.0 * over < -knee_db, torch.zeros_like(over),
                         torch.where(2.0 * over.abs() <= knee_db, in_knee, above))
    a_attack = math.exp(-1.0 / (attack_ms * 1e-3 * rate_hz))
    a_release = math.exp(-1.0 / (release_ms * 1e-3 * rate_hz))
    gr = smooth(target, a_attack, a_release)
    return x * torch.exp(-gr / _DB_PER_NEPER)[:, None, :]


def _fir(x: torch.Tensor, taps: np.ndarray, n_fft: int) -> torch.Tensor:
    h = torch.fft.rfft(torch.as_tensor(taps, dtype=x.dtype), n_fft)
    return torch.fft.irfft(torch.fft.rfft(x, n_fft) * h, n_fft)


def saturate(x: torch.Tensor, drive_db: torch.Tensor) -> torch.Tensor:
    """2x oversampled ``tanh(g x) / g`` through the halfband, as ``dsp.saturation``
    (including its ``LATENCY_FRAMES`` delay)."""
    n = x.shape[-1]
    up = torch.zeros(*x.shape[:-1], 2 * n, dtype=x.dtype)
    up[..., 0::2] = x
    n_fft = 1 << math.ceil(math.log2(2 * n + len(_HALFBAND)))
    u = _fir(up, 2.0 * _HALFBAND, n_fft)[..., : 2 * n]
    g = db_to_gain_array(drive_db)[:, None, None]
    w = torch.tanh(g * u) / g
    return _fir(w, _HALFBAND, n_fft)[..., 0: 2 * n: 2]


def place(x: torch.Tensor, width: torch.Tensor, pan: torch.Tensor, gain_db: torch.Tensor
          ) -> torch.Tensor:
    """Width (side scaled), constant-power pan with unity at the centre, gain."""
    theta = (pan + 1.0) * (math.pi / 4.0)
    g = db_to_gain_array(gain_db) * math.sqrt(2.0)
    gl, gr = g * torch.cos(theta), g * torch.sin(theta)
    a, b = 0.5 * (1.0 + width), 0.5 * (1.0 - width)
    left, right = x[:, 0], x[:, 1]
    return torch.stack([(gl * a)[:, None] * left + (gl * b)[:, None] * right,
                        (gr * b)[:, None] * left + (gr * a)[:, None] * right], dim=1)


def strip(x: torch.Tensor, rate_hz: float, params: torch.Tensor, tail: int = TAIL_FRAMES
          ) -> torch.Tensor:
    """``x (rows, 2, n)`` through one channel strip per row, aligned with the input;
    ``tail``: how much of the filters' decay is kept from wrapping (training shortens it)."""
    lat = cs.LATENCY_FRAMES
    col = {name: params[:, i] for i, name in enumerate(cs.NAMES)}
    y = torch.nn.functional.pad(x, (0, lat))
    y = strip_eq(y, rate_hz, params, tail)
    y = compress(y, rate_hz, col["comp_threshold_db"], col["comp_ratio"], cs.COMP_KNEE_DB,
                 cs.COMP_ATTACK_MS, cs.COMP_RELEASE_MS)
    y = saturate(y, col["drive_db"])[..., lat:]
    return place(y, col["width"], col["pan"], col["gain_db"])


def master(x: torch.Tensor, rate_hz: float, params: torch.Tensor, tail: int = TAIL_FRAMES
           ) -> torch.Tensor:
    """``dsp.mastering.pre_limiter``: bus compressor, tilt, side gain, gain (the first
    ``TWIN_MASTER`` parameters; the correction's cuts are not trained through, and must be
    off)."""
    col = {name: params[:, i] for i, name in enumerate(mastering.NAMES[:TWIN_MASTER])}
    for extra in range(TWIN_MASTER, params.shape[1]):
        assert bool((params[:, extra] == mastering.MASTER_PARAMS[extra].default).all())
    y = compress(x, rate_hz, col["bus_threshold_db"], col["bus_ratio"], mastering.BUS_KNEE_DB,
                 mastering.BUS_ATTACK_MS, mastering.BUS_RELEASE_MS)
    n_fft = _fft_size(x.shape[-1], tail)
    tilt = col["tilt_db"]
    f_lo = torch.full_like(tilt, mastering.TILT_LOW_HZ)
    f_hi = torch.full_like(tilt, mastering.TILT_HIGH_HZ)
    h = response(biquad_coefficients(LOWSHELF, f_lo, mastering.TILT_Q, -0.5 * tilt, rate_hz),
                 n_fft, x.dtype)
    h = h * response(biquad_coefficients(HIGHSHELF, f_hi, mastering.TILT_Q, 0.5 * tilt,
                                         rate_hz), n_fft, x.dtype)
    y = apply_response(y, h)
    side = db_to_gain_array(col["side_db"])
    gain = db_to_gain_array(col["gain_db"])
    mid = 0.5 * (y[:, 0] + y[:, 1])
    s = 0.5 * (y[:, 0] - y[:, 1]) * side[:, None]
    return torch.stack([mid + s, mid - s], dim=1) * gain[:, None, None]
