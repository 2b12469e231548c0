"""Streaming spectral noise reducer for the mic input (Numba, callable from the callback).

STFT: a sqrt-Hann window of ``window_samples`` (8 ms, a multiple of 4) zero-padded to the next
power of two, hop a quarter window. Stereo is linked: both channels are packed into one complex
FFT (left real, right imaginary), the gain is computed from the channel mean of the power
spectra and applied to both, so the image does not wander. Only the change is resynthesised:
``y = x delayed + OLA(synthesis window * IFFT((G - 1) X))``, so a gain of exactly 1 (``amount``
0) passes the input through bit-exactly, and digital silence stays exactly zero. A sample
leaves ``latency_samples(state) = window_samples - 1`` samples after it came in (383, 7.98 ms
at 48 kHz).

Per bin and frame:

- gain: decision-directed a-priori SNR (Ephraim & Malah 1984; its maximum-likelihood term
  averaged over three bins against musical noise) into a Wiener gain, floored at
  ``-max_attenuation_db * amount`` dB. Gains never exceed 1: no bin is ever amplified.
- noise PSD: speech-presence-weighted recursive averaging (Gerkmann & Hendriks 2012): the
  posterior probability that a bin holds speech (a-priori SNR 15 dB) decides how much the new
  periodogram replaces the estimate. Large rises (a fan switching on) are caught by a
  minimum-statistics floor: the noise is at least the minimum of the smoothed periodogram over
  the last ``noise_window_s``, taken over unvoiced frames only. It is at most twice the
  smoothed periodogram, so an overestimate is undone within ~30 ms of the next pause.
- voicing: every ``VOICING_HOPS`` frames, the cepstrum of a 43 ms spectrum (mono mix),
  whitened by its long-term average, is searched for a pitch peak (70-400 Hz). While a voice
  is detected the noise estimate may only fall, so a sustained vowel is not learned as noise
  however long it is held. A steady hum is in the long-term average within seconds and does not
  read as voiced, so it is learned like any other noise.
- capture: ``capture(state, seconds)`` takes the running mean of the next ``seconds`` as the
  noise PSD whatever they hold, then tracking resumes from it; ``reset`` starts such a capture
  of ``INITIAL_CAPTURE_S`` (the first moments after a reset are usually room noise).

Cost at 48 kHz: about 40 us per 128-frame block, mono or stereo (``musicmill bench denoise``).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from dsp.onset import fft_inplace, fft_tables
from dsp.state import allocate, region
from dsp.units import db_to_gain

INITIAL_CAPTURE_S = 0.25
MAX_ATTENUATION_DB = 25.0
MAX_CHANNELS = 2
_POWER_FLOOR = 1e-30  # keeps gamma finite on digital silence
_F32_MAX = float(np.finfo(np.float32).max)
_NO_MIN = 1e300  # a minimum-statistics sub-window with too few unvoiced frames
_PITCH_HZ = (70.0, 400.0)  # searched fundamental range
_BAND_HZ = (100.0, 3500.0)  # where the voicing detector looks for harmonics
VOICING_HOPS = 8  # hops between two runs of the voicing detector

# State layout: scalars in a header, then arrays at the offsets held in the _O_* slots.
(_SR, _N, _HOP, _M, _NB, _L, _POS, _LPOS, _COUNT, _FRAMES, _CAP_LEFT, _CAP_N, _MAX_ATT_DB,
 _A_DD, _A_NOISE, _A_PBAR, _A_SMOOTH, _A_AVG, _A_AVG_VOICED, _A_CEPS, _XI_H1, _XI_MIN,
 _MS_BIAS, _MS_V, _MS_U, _MS_SUB, _MS_SLOT, _MS_VALID, _J_LO, _J_HI, _Q_LO, _Q_HI,
 _V_THRESHOLD, _V_HANG, _V_LEFT, _VOICING, _NOISE_BIAS, _NOISE_CEILING, _LC,
 _O_IN, _O_ACC, _O_WA, _O_WS, _O_RE, _O_IM, _O_COS, _O_SIN, _O_REV, _O_POW, _O_NOISE,
 _O_PBAR, _O_CLEAN, _O_GAIN, _O_SMOOTH, _O_CURMIN, _O_MINS, _O_KEPT, _O_LRING, _O_LWIN,
 _O_LRE, _O_LIM, _O_LCOS, _O_LSIN, _O_HCOS, _O_HSIN, _O_HREV, _O_CCOS, _O_CSIN, _O_CREV,
 _O_LPOW, _O_LAVG, _O_CEPS, _HEADER) = range(73)

VOICING = _VOICING  # state[VOICING]: last voicing measure (normalised cepstral peak, 0 … 1)


def window_samples_for(sample_rate_hz: float, window_ms: float = 8.0) -> int:
    """Analysis window in samples: ``window_ms`` at the rate, rounded to a multiple of 4."""
    return max(16, 4 * int(round(window_ms * 1e-3 * sample_rate_hz / 4.0)))


def _coefficient(time_constant_s: float, hop_s: float) -> float:
    """One-pole coefficient per frame for a time constant (s)."""
    return math.exp(-hop_s / time_constant_s)


def prepare(
    sample_rate_hz: float,
    max_attenuation_db: float = MAX_ATTENUATION_DB,
    window_ms: float = 8.0,
    noise_window_s: float = 2.0,
) -> np.ndarray:
    """Allocate a noise-reducer state for up to 2 channels at ``sample_rate_hz``.

    max_attenuation_db: attenuation at ``amount`` 1 (dB, > 0); window_ms: STFT window (the
    latency is one window less a sample); noise_window_s: the longest a rise of the noise takes
    to be followed (minimum-statistics window). Returns one float64 array.
    """
    if sample_rate_hz <= 0 or max_attenuation_db < 0 or noise_window_s <= 0:
        raise ValueError("sample_rate_hz and noise_window_s must be > 0, "
                         "max_attenuation_db >= 0")
    n = window_samples_for(sample_rate_hz, window_ms)
    m = 1 << (n - 1).bit_length()
    nb = m // 2 + 1
    hop = n // 4
    hop_s = hop / sample_rate_hz
    # The voicing detector's spectrum: >= 40 ms, so that a 70 Hz voice shows its harmonics.
    long_n = 1 << (int(0.04 * sample_rate_hz) - 1).bit_length()
    ms_u = 8
    ms_v = max(1, int(round(noise_window_s / hop_s / ms_u)))
    half = long_n // 2
    j_lo = int(_BAND_HZ[0] * long_n / sample_rate_hz)
    j_hi = min(int(_BAND_HZ[1] * long_n / sample_rate_hz), half - 1)
    ceps_n = min(1 << (2 * j_hi + 1).bit_length(), long_n)  # > 2 * j_hi, a power of two
    step = long_n // ceps_n  # samples of quefrency between two cepstral bins
    q_lo = -(-int(sample_rate_hz / _PITCH_HZ[1]) // step)
    q_hi = min(int(sample_rate_hz / _PITCH_HZ[0]) // step, ceps_n // 2 - 1)
    sizes = {_O_IN: MAX_CHANNELS * n, _O_ACC: MAX_CHANNELS * n, _O_WA: n, _O_WS: n,
             _O_RE: m, _O_IM: m, _O_COS: m // 2, _O_SIN: m // 2, _O_REV: m,
             _O_POW: nb, _O_NOISE: nb, _O_PBAR: nb, _O_CLEAN: nb, _O_GAIN: nb,
             _O_SMOOTH: nb, _O_CURMIN: nb, _O_MINS: ms_u * nb, _O_KEPT: nb,
             _O_LRING: long_n, _O_LWIN: long_n, _O_LRE: max(half, ceps_n),
             _O_LIM: max(half, ceps_n), _O_LCOS: half, _O_LSIN: half, _O_HCOS: half // 2,
             _O_HSIN: half // 2, _O_HREV: half, _O_CCOS: ceps_n // 2, _O_CSIN: ceps_n // 2,
             _O_CREV: ceps_n, _O_LPOW: half, _O_LAVG: half, _O_CEPS: q_hi - q_lo + 1}
    # sqrt of a periodic Hann on both sides: their product is a Hann, whose copies a quarter
    # window apart sum to 2, hence the 1/2 on the synthesis side.
    root_hann = np.sqrt(0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n))
    tables = dict(zip((_O_COS, _O_SIN, _O_REV), fft_tables(m), strict=True))
    tables.update(zip((_O_LCOS, _O_LSIN), fft_tables(long_n)[:2], strict=True))  # twiddles
    tables.update(zip((_O_HCOS, _O_HSIN, _O_HREV), fft_tables(half), strict=True))
    tables.update(zip((_O_CCOS, _O_CSIN, _O_CREV), fft_tables(ceps_n), strict=True))
    tables[_O_LWIN] = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(long_n) / long_n)
    tables[_O_WA] = root_hann
    tables[_O_WS] = 0.5 * root_hann
    state = allocate(_HEADER, sizes, tables)
    for slot, value in ((_SR, sample_rate_hz), (_N, n), (_HOP, hop), (_M, m), (_NB, nb),
                        (_L, long_n), (_MAX_ATT_DB, max_attenuation_db), (_A_DD, 0.95),
                        (_A_NOISE, _coefficient(1.2, hop_s)),
                        (_A_PBAR, _coefficient(0.15, hop_s)),
                        (_A_SMOOTH, _coefficient(0.03, hop_s)),
                        (_A_AVG, _coefficient(8.0, VOICING_HOPS * hop_s)),
                        (_A_AVG_VOICED, _coefficient(60.0, VOICING_HOPS * hop_s)),
                        (_A_CEPS, _coefficient(0.03, VOICING_HOPS * hop_s)),
                        (_XI_H1, 10.0 ** 1.5), (_XI_MIN, 10.0 ** -3.0), (_MS_BIAS, 1.25),
                        (_MS_V, ms_v), (_MS_U, ms_u),
                        (_J_LO, j_lo), (_J_HI, j_hi), (_LC, ceps_n), (_Q_LO, q_lo),
                        (_Q_HI, q_hi), (_V_THRESHOLD, 0.27),
                        (_V_HANG, round(0.2 / (VOICING_HOPS * hop_s))),
                        (_NOISE_BIAS, 1.2), (_NOISE_CEILING, 2.0)):
        state[slot] = value
    reset(state)
    return state


@njit(nogil=True, cache=True)
def latency_samples(state: np.ndarray) -> int:
    """Samples from a sample's arrival to its output (window - 1)."""
    return int(state[_N]) - 1


@njit(nogil=True, cache=True)
def capture(state: np.ndarray, seconds: float) -> None:
    """Take the next ``seconds`` of input as the noise profile, whatever they hold."""
    frames = int(round(seconds * state[_SR] / state[_HOP]))
    state[_CAP_LEFT] = max(frames, 1)
    state[_CAP_N] = 0.0


@njit(nogil=True, cache=True)
def reset(state: np.ndarray) -> None:
    """Forget all history and start learning the noise from the next ``INITIAL_CAPTURE_S``."""
    n = int(state[_N])
    nb = int(state[_NB])
    long_n = int(state[_L])
    region(state, _O_IN, MAX_CHANNELS * n)[:] = 0.0
    region(state, _O_ACC, MAX_CHANNELS * n)[:] = 0.0
    region(state, _O_NOISE, nb)[:] = _POWER_FLOOR
    region(state, _O_PBAR, nb)[:] = 0.0
    region(state, _O_CLEAN, nb)[:] = 0.0
    region(state, _O_GAIN, nb)[:] = 1.0
    region(state, _O_SMOOTH, nb)[:] = 0.0
    region(state, _O_CURMIN, nb)[:] = _NO_MIN
    region(state, _O_MINS, int(state[_MS_U]) * nb)[:] = _NO_MIN
    region(state, _O_KEPT, nb)[:] = _NO_MIN
    region(state, _O_LRING, long_n)[:] = 0.0
    region(state, _O_LAVG, long_n // 2)[:] = 0.0
    region(state, _O_CEPS, int(state[_Q_HI] - state[_Q_LO]) + 1)[:] = 0.0
    for slot in (_POS, _LPOS, _COUNT, _FRAMES, _MS_SUB, _MS_SLOT, _MS_VALID, _V_LEFT,
                 _VOICING):
        state[slot] = 0.0
    capture(state, INITIAL_CAPTURE_S)


@njit(nogil=True, cache=True)
def _analyse(state: np.ndarray, n_ch: int, p: int) -> None:
    """Window the last N samples (oldest at ring index p + 1) into re (+ im for channel 2),
    FFT, and write the channel-mean power spectrum into the power array."""
    n = int(state[_N])
    m = int(state[_M])
    nb = int(state[_NB])
    ring = region(state, _O_IN, MAX_CHANNELS * n)
    wa = region(state, _O_WA, n)
    re = region(state, _O_RE, m)
    im = region(state, _O_IM, m)
    start = p + 1 if p + 1 < n else 0
    for j in range(n):
        k = start + j if start + j < n else start + j - n
        re[j] = ring[k] * wa[j]
    if n_ch == 2:
        for j in range(n):
            k = start + j if start + j < n else start + j - n
            im[j] = ring[n + k] * wa[j]
    else:
        im[:n] = 0.0
    re[n:] = 0.0
    im[n:] = 0.0
    fft_inplace(re, im, region(state, _O_COS, m // 2), region(state, _O_SIN, m // 2),
                region(state, _O_REV, m))
    # |X_left|^2 + |X_right|^2 = (|Z_k|^2 + |Z_{m-k}|^2) / 2 for the packed spectrum Z.
    power = region(state, _O_POW, nb)
    scale = 0.5 / n_ch
    for k in range(nb):
        r = (m - k) % m
        power[k] = scale * (re[k] * re[k] + im[k] * im[k] + re[r] * re[r] + im[r] * im[r])


@njit(nogil=True, cache=True)
def _long_power(state: np.ndarray) -> None:
    """Power spectrum of the last long frame (Hann), bins 0 … L/2 - 1 into the long power
    array; the real frame of L samples goes through one complex FFT of L/2."""
    long_n = int(state[_L])
    half = long_n // 2
    ring = region(state, _O_LRING, long_n)
    win = region(state, _O_LWIN, long_n)
    re = region(state, _O_LRE, half)
    im = region(state, _O_LIM, half)
    tw_cos = region(state, _O_LCOS, half)
    tw_sin = region(state, _O_LSIN, half)
    power = region(state, _O_LPOW, half)
    w = int(state[_LPOS])  # oldest sample
    for j in range(half):
        a0 = w + 2 * j
        re[j] = ring[a0 % long_n] * win[2 * j]  # even samples real,
        im[j] = ring[(a0 + 1) % long_n] * win[2 * j + 1]  # odd ones imaginary
    fft_inplace(re, im, region(state, _O_HCOS, half // 2), region(state, _O_HSIN, half // 2),
                region(state, _O_HREV, half))
    for j in range(half):
        # X_j = E_j + exp(-2 pi i j / L) O_j, E and O the spectra of the even and odd samples
        r = half - j if j > 0 else 0
        e_re = 0.5 * (re[j] + re[r])
        e_im = 0.5 * (im[j] - im[r])
        o_re = 0.5 * (im[j] + im[r])
        o_im = -0.5 * (re[j] - re[r])
        x_re = e_re + tw_cos[j] * o_re + tw_sin[j] * o_im
        x_im = e_im + tw_cos[j] * o_im - tw_sin[j] * o_re
        power[j] = x_re * x_re + x_im * x_im


@njit(nogil=True, cache=True)
def _voicing(state: np.ndarray, capturing: bool) -> float:
    """Normalised cepstral pitch peak of the last long frame, whitened by its long-term
    average (0: no harmonic ripple, 1: a pure harmonic comb)."""
    _long_power(state)
    half = int(state[_L]) // 2
    cn = int(state[_LC])
    power = region(state, _O_LPOW, half)
    avg = region(state, _O_LAVG, half)
    re = region(state, _O_LRE, cn)
    im = region(state, _O_LIM, cn)
    j_lo = int(state[_J_LO])
    j_hi = int(state[_J_HI])
    # A voice is learned into the average far more slowly than anything else, so that a
    # sustained vowel keeps its ripple, while a hum that starts later is absorbed eventually.
    a = state[_A_AVG] if state[_V_LEFT] <= 0.0 else state[_A_AVG_VOICED]
    if capturing:
        k = state[_CAP_N] // VOICING_HOPS  # long frames captured so far: their running mean
        a = min(a, k / (k + 1.0))
    total = 0.0
    for j in range(j_lo, j_hi + 1):
        avg[j] = a * avg[j] + (1.0 - a) * power[j]
        # log(1 + whitened power): the +1 keeps the deep dips of noise-only bins (a log of an
        # exponential variate) from swamping the harmonic ripple; 1e-20 guards silence.
        power[j] = math.log(1.0 + (power[j] + 1e-20) / (avg[j] + 1e-20))
        total += power[j]
    n_band = j_hi - j_lo + 1
    mean = total / n_band
    energy = 0.0
    re[:] = 0.0
    im[:] = 0.0
    for j in range(j_lo, j_hi + 1):
        v = power[j] - mean
        energy += v * v
        re[j] = v
        re[cn - j] = v
    # Real cepstrum of the band through an FFT of cn (>= 2 bands): the quefrencies come out
    # every L / cn samples, finer than the width of a pitch peak.
    fft_inplace(re, im, region(state, _O_CCOS, cn // 2), region(state, _O_CSIN, cn // 2),
                region(state, _O_CREV, cn))
    q_lo = int(state[_Q_LO])
    q_hi = int(state[_Q_HI])
    ceps = region(state, _O_CEPS, q_hi - q_lo + 1)
    # A comb log A*cos(2 pi j q / L) over the band gives a peak of A * n_band at q, and
    # energy A^2 * n_band / 2: the ratio below is 1 for it.
    norm = 1.0 / math.sqrt(2.0 * n_band * energy) if energy > 0.0 else 0.0
    a_c = state[_A_CEPS]
    peak = 0.0
    for q in range(q_lo, q_hi + 1):
        c = a_c * ceps[q - q_lo] + (1.0 - a_c) * re[q] * norm
        ceps[q - q_lo] = c
        peak = max(peak, c)
    return peak


@njit(nogil=True, cache=True)
def _keep_minimum(state: np.ndarray) -> None:
    """Minimum over the kept sub-window minima, per bin (recomputed once per sub-window)."""
    nb = int(state[_NB])
    u = int(state[_MS_U])
    mins = region(state, _O_MINS, u * nb)
    kept = region(state, _O_KEPT, nb)
    kept[:] = _NO_MIN
    for i in range(u):
        for k in range(nb):
            kept[k] = min(kept[k], mins[i * nb + k])


@njit(nogil=True, cache=True)
def _update_minimum(state: np.ndarray, voiced: bool) -> None:
    """Advance the minimum statistics (smoothed periodogram, its minimum over the unvoiced
    frames of the current sub-window, the kept sub-window minima) by a frame."""
    nb = int(state[_NB])
    power = region(state, _O_POW, nb)
    smooth = region(state, _O_SMOOTH, nb)
    curmin = region(state, _O_CURMIN, nb)
    u = int(state[_MS_U])
    mins = region(state, _O_MINS, u * nb)
    a_s = state[_A_SMOOTH]
    for k in range(nb):
        smooth[k] = a_s * smooth[k] + (1.0 - a_s) * power[k]
        if not voiced and smooth[k] < curmin[k]:
            curmin[k] = smooth[k]
    if not voiced:
        state[_MS_VALID] += 1.0
    sub = state[_MS_SUB] + 1.0
    if sub >= state[_MS_V]:
        # Sub-window done: its minimum replaces the oldest kept, unless it was mostly voiced
        # (then it says nothing about the noise).
        slot = int(state[_MS_SLOT])
        valid = state[_MS_VALID] >= 0.5 * state[_MS_V]
        for k in range(nb):
            mins[slot * nb + k] = curmin[k] if valid else _NO_MIN
            curmin[k] = _NO_MIN
        _keep_minimum(state)
        state[_MS_SLOT] = (slot + 1) % u
        state[_MS_VALID] = 0.0
        sub = 0.0
    state[_MS_SUB] = sub


@njit(nogil=True, cache=True)
def _capture_frame(state: np.ndarray) -> None:
    """One frame of a capture: the noise PSD is the running mean of the frames so far."""
    nb = int(state[_NB])
    power = region(state, _O_POW, nb)
    noise = region(state, _O_NOISE, nb)
    c = state[_CAP_N] + 1.0
    for k in range(nb):
        noise[k] = max(noise[k] + (power[k] - noise[k]) / c, _POWER_FLOOR)
    state[_CAP_N] = c
    state[_CAP_LEFT] -= 1.0
    if state[_CAP_LEFT] == 0.0:
        # Tracking resumes from the profile: the minimum floor starts just under it.
        u = int(state[_MS_U])
        mins = region(state, _O_MINS, u * nb)
        for i in range(u):
            for k in range(nb):
                mins[i * nb + k] = noise[k] / state[_MS_BIAS]
        _keep_minimum(state)
        region(state, _O_PBAR, nb)[:] = 0.0


@njit(nogil=True, cache=True)
def _track_noise(state: np.ndarray, voiced: bool) -> None:
    """Update the noise PSD from the power spectrum: SPP-weighted averaging; at least the
    minimum floor when unvoiced, at most the old estimate when voiced; at most twice the
    smoothed periodogram."""
    nb = int(state[_NB])
    power = region(state, _O_POW, nb)
    noise = region(state, _O_NOISE, nb)
    smooth = region(state, _O_SMOOTH, nb)
    kept = region(state, _O_KEPT, nb)
    pbar = region(state, _O_PBAR, nb)
    xi = state[_XI_H1]
    a_n = state[_A_NOISE]
    a_p = state[_A_PBAR]
    bias = state[_MS_BIAS]
    ceiling = state[_NOISE_CEILING]
    for k in range(nb):
        gamma = power[k] / noise[k]
        p1 = 1.0 / (1.0 + (1.0 + xi) * math.exp(-min(gamma * xi / (1.0 + xi), 700.0)))
        pbar[k] = a_p * pbar[k] + (1.0 - a_p) * p1
        if pbar[k] > 0.99:
            p1 = min(p1, 0.99)  # stagnation guard (Gerkmann & Hendriks)
        expected = (1.0 - p1) * power[k] + p1 * noise[k]
        est = a_n * noise[k] + (1.0 - a_n) * expected
        if voiced:
            est = min(est, noise[k])
        elif kept[k] < _NO_MIN:
            est = max(est, bias * kept[k])
        noise[k] = max(min(est, ceiling * smooth[k]), _POWER_FLOOR)


@njit(nogil=True, cache=True)
def _gains(state: np.ndarray, amount: float) -> bool:
    """Per-bin gains into the gain array; False when every gain is exactly 1."""
    nb = int(state[_NB])
    power = region(state, _O_POW, nb)
    noise = region(state, _O_NOISE, nb)
    clean = region(state, _O_CLEAN, nb)
    gain = region(state, _O_GAIN, nb)
    a = state[_A_DD]
    xi_min = state[_XI_MIN]
    g_min = db_to_gain(-state[_MAX_ATT_DB] * min(max(amount, 0.0), 1.0))
    # The tracker's estimate runs ~0.8 dB low in steady noise (a noise peak reads as speech
    # and is left out): scaled back up here.
    bias = state[_NOISE_BIAS]
    # Maximum-likelihood SNR of this bin and the next, averaged with the previous one over
    # three bins: a lone noise peak then opens its bin a third as much (less musical noise).
    ml_prev = max(power[0] / (bias * noise[0]) - 1.0, 0.0)
    ml_here = ml_prev
    for k in range(nb):
        ml_next = ml_here
        if k + 1 < nb:
            ml_next = max(power[k + 1] / (bias * noise[k + 1]) - 1.0, 0.0)
        nk = bias * noise[k]
        xi = a * clean[k] / nk + (1.0 - a) * (ml_prev + ml_here + ml_next) / 3.0
        xi = max(xi, xi_min)
        g = xi / (1.0 + xi)
        clean[k] = g * g * power[k]
        gain[k] = max(g, g_min)
        ml_prev = ml_here
        ml_here = ml_next
    return g_min < 1.0


@njit(nogil=True, cache=True)
def _synthesise(state: np.ndarray, n_ch: int, p: int) -> None:
    """Apply (G - 1) to the packed spectrum, inverse FFT, window and overlap-add the change
    into the accumulator (frame sample j lands on the output slot of time now + j)."""
    n = int(state[_N])
    m = int(state[_M])
    nb = int(state[_NB])
    re = region(state, _O_RE, m)
    im = region(state, _O_IM, m)
    gain = region(state, _O_GAIN, nb)
    for k in range(m):
        d = gain[k if k < nb else m - k] - 1.0
        # conjugated on the way in: ifft(X) = conj(fft(conj(X))) / m
        re[k] *= d
        im[k] *= -d
    fft_inplace(re, im, region(state, _O_COS, m // 2), region(state, _O_SIN, m // 2),
                region(state, _O_REV, m))
    ws = region(state, _O_WS, n)
    acc = region(state, _O_ACC, MAX_CHANNELS * n)
    inv = 1.0 / m
    for j in range(n):
        k = p + j if p + j < n else p + j - n
        acc[k] += re[j] * (ws[j] * inv)
    if n_ch == 2:
        for j in range(n):
            k = p + j if p + j < n else p + j - n
            acc[n + k] -= im[j] * (ws[j] * inv)


@njit(nogil=True, cache=True)
def _frame(state: np.ndarray, amount: float, n_ch: int, p: int) -> None:
    """Everything done once per hop: analysis, voicing, noise tracking, gains, synthesis."""
    _analyse(state, n_ch, p)
    capturing = state[_CAP_LEFT] > 0.0
    if int(state[_FRAMES]) % VOICING_HOPS == 0:
        rho = _voicing(state, capturing)
        state[_VOICING] = rho
        if rho > state[_V_THRESHOLD]:
            state[_V_LEFT] = state[_V_HANG]
        elif state[_V_LEFT] > 0.0:
            state[_V_LEFT] -= 1.0
    voiced = state[_V_LEFT] > 0.0 and not capturing
    _update_minimum(state, voiced)
    if capturing:
        _capture_frame(state)
    else:
        _track_noise(state, voiced)
    if _gains(state, amount):
        _synthesise(state, n_ch, p)
    state[_FRAMES] += 1.0


@njit(nogil=True, cache=True)
def process(state: np.ndarray, amount: float, x: np.ndarray, y: np.ndarray) -> None:
    """Reduce noise in planar float32 ``x`` (1 or 2 channels, n_frames) into ``y``.

    amount: 0 (pass through, delayed) … 1 (up to ``max_attenuation_db``). ``y`` may be ``x``;
    the output is ``latency_samples(state)`` late. Never allocates.
    """
    n = int(state[_N])
    long_n = int(state[_L])
    hop = int(state[_HOP])
    n_ch = min(x.shape[0], MAX_CHANNELS)
    if n_ch == 0:
        return
    ring = region(state, _O_IN, MAX_CHANNELS * n)
    lring = region(state, _O_LRING, long_n)
    acc = region(state, _O_ACC, MAX_CHANNELS * n)
    p = int(state[_POS])
    lp = int(state[_LPOS])
    count = int(state[_COUNT])
    for i in range(x.shape[1]):
        mono = 0.0
        for c in range(n_ch):
            v = x[c, i]
            ring[c * n + p] = v
            mono += v
        lring[lp] = mono / n_ch
        lp = lp + 1 if lp + 1 < long_n else 0
        count += 1
        if count == hop:
            count = 0
            state[_LPOS] = lp
            _frame(state, amount, n_ch, p)
        q = p + 1 if p + 1 < n else 0
        for c in range(n_ch):
            # clamped: near full float32 range a filtered peak could round to inf
            y[c, i] = min(max(ring[c * n + q] + acc[c * n + p], -_F32_MAX), _F32_MAX)
            acc[c * n + p] = 0.0
        p = q
    state[_POS] = p
    state[_LPOS] = lp
    state[_COUNT] = count
