"""Causal streaming onset detector: log-compressed, band-grouped spectral flux.

Every ``hop`` samples a Hann-windowed frame of the last ``frame_size`` samples is transformed
(radix-2 FFT in numba, tables in the state). The FFT magnitudes, normalised so a full-scale
sine peaks at 1, are averaged into log-spaced bands (``bands_per_octave``, at least one bin
each, so a kick's few low bins weigh as much as a hat's many high ones) and compressed with
``log(1 + compression * |X|)``. The flux is the mean over bands of the positive increase over
the maximum of the same and neighbouring bands ``lag`` frames earlier (SuperFlux-style
maximum filter, which keeps noise and the falling pitch of a kick from reading as onsets).
A frame is an onset when its flux

- exceeds ``median(previous threshold_frames fluxes) + delta`` (adaptive threshold),
- is a local maximum (>= the previous frame, > the next frame: one frame of look-ahead),
- lies at least ``min_interval_ms`` after the previous onset,
- and the detector is warmed up (buffer, compared spectra and median history filled).

The reported position is the peak frame's last sample minus a fixed compensation
``frame_size // 4 + hop // 2``: with log compression the flux peaks once the attack has entered
about a quarter of the window (where the Hann slope is steep), and the frame grid adds on
average half a hop. On the synthetic drum test the residual position error is about
0 ± 1 ms. A detection is emitted ``latency_samples(state) = hop + frame_size // 4 + hop // 2``
samples after its reported position (320 samples, 7.3 ms at 44.1 kHz with the defaults).

The FFT helpers (:func:`fft_tables`, :func:`fft_inplace`) are shared with :mod:`dsp.pitch`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from dsp.state import allocate, region

# ---------------------------------------------------------------------------------------------
# Radix-2 FFT (no allocation; tables prepared at Python level)


def fft_tables(n_fft: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tables for :func:`fft_inplace` of size n_fft (a power of two).

    Returns (cos_tab, sin_tab, bitrev): float64 (n_fft // 2,) cos/sin(2*pi*m/n_fft) and
    float64 (n_fft,) bit-reversed indices (float so they can live in a float64 state).
    """
    if n_fft < 2 or n_fft & (n_fft - 1):
        raise ValueError("n_fft must be a power of two >= 2")
    m = np.arange(n_fft // 2)
    bits = n_fft.bit_length() - 1
    bitrev = np.array([int(f"{i:0{bits}b}"[::-1], 2) for i in range(n_fft)], dtype=np.float64)
    angle = 2.0 * np.pi * m / n_fft
    return np.cos(angle), np.sin(angle), bitrev


@njit(nogil=True, cache=True)
def fft_inplace(
    re: np.ndarray, im: np.ndarray, cos_tab: np.ndarray, sin_tab: np.ndarray, bitrev: np.ndarray
) -> None:
    """Forward complex FFT in place (X_k = sum x_n exp(-2*pi*i*k*n/N)), iterative radix-2.

    re, im: float64 (N,), N a power of two; tables from :func:`fft_tables` (N).
    """
    n = re.shape[0]
    for i in range(n):
        j = int(bitrev[i])
        if j > i:
            t = re[i]
            re[i] = re[j]
            re[j] = t
            t = im[i]
            im[i] = im[j]
            im[j] = t
    size = 2
    while size <= n:
        half = size >> 1
        step = n // size
        for start in range(0, n, size):
            for k in range(half):
                c = cos_tab[k * step]
                s = sin_tab[k * step]
                a = start + k
                b = a + half
                tr = re[b] * c + im[b] * s
                ti = im[b] * c - re[b] * s
                re[b] = re[a] - tr
                im[b] = im[a] - ti
                re[a] += tr
                im[a] += ti
        size <<= 1


# ---------------------------------------------------------------------------------------------
# Onset detector state layout: scalar header, then arrays at offsets stored in the header.

_SR = 0
_N = 1  # frame size
_HOP = 2
_COMP = 3  # position compensation in samples
_GAMMA = 4  # log compression factor
_DELTA = 5  # threshold offset above the running median
_MIN_GAP = 6  # minimum inter-onset interval in samples
_M = 7  # number of past fluxes in the median
_NORM = 8  # magnitude normalisation (2 / sum(window))
_WPOS = 9  # ring write position
_COUNT = 10  # samples since the last frame
_TOTAL = 11  # samples consumed since reset
_FRAMES = 12  # frames computed since reset
_FLUX1 = 13  # flux of the previous frame (candidate)
_FLUX2 = 14  # flux of the frame before it
_THR1 = 15  # threshold that applied to the previous frame
_LAST = 16  # position of the last reported onset
_HPOS = 17  # write position in the flux history
_O_RING = 18  # offsets of the arrays
_O_WIN = 19
_O_RE = 20
_O_IM = 21
_O_COS = 22
_O_SIN = 23
_O_REV = 24
_O_PREV = 25  # previous frame's compressed magnitudes
_O_HIST = 26  # flux history (ring of M)
_O_SORT = 27  # scratch for the median
_O_BAND = 28  # band index of every FFT bin (-1 = unused)
_O_BMAG = 29  # per-band mean magnitude scratch
_O_BCNT = 30  # bins per band
_NB = 31  # number of bands
_WARM = 32  # frames before detection is allowed
_LAG = 33  # frames between the compared spectra
_MAXF = 34  # half-width in bands of the max filter over the older spectrum
_HEADER = 35


# The detector's tuned defaults, named so the drum model's onset loss
# (models/drum_ae/onset_loss.py) measures with the same ones.
FRAME_SIZE = 512
COMPRESSION = 3000.0
BANDS_PER_OCTAVE = 6.0
MAX_FILTER_BANDS = 1


def band_edges(frame_size: int, sample_rate_hz: float, bands_per_octave: float) -> np.ndarray:
    """First FFT bin of each band (plus the end): log-spaced, at least one bin wide."""
    bin_hz = sample_rate_hz / frame_size
    n_bins = frame_size // 2 + 1
    edges = [0]
    f = 2.0 * bin_hz
    while True:
        k = max(int(math.ceil(f / bin_hz)), edges[-1] + 1)
        if k >= n_bins - 1:
            break
        edges.append(k)
        f = max(f * 2.0 ** (1.0 / bands_per_octave), (k + 1) * bin_hz)
    edges.append(n_bins)
    return np.array(edges, dtype=np.int64)


def prepare(
    sample_rate_hz: float,
    frame_size: int = FRAME_SIZE,
    hop: int = 128,
    delta: float = 0.08,
    threshold_frames: int = 16,
    min_interval_ms: float = 30.0,
    compression: float = COMPRESSION,
    bands_per_octave: float = BANDS_PER_OCTAVE,
    lag: int = 1,
    max_filter_bands: int = MAX_FILTER_BANDS,
) -> np.ndarray:
    """Allocate an onset-detector state.

    sample_rate_hz: audio rate; frame_size: FFT frame in samples (power of two, e.g. 256-1024);
    hop: samples between frames (e.g. 64-128); delta: threshold offset in flux units (mean
    per-band increase of log(1 + compression * |X|)) above the running median; threshold_frames:
    frames in that median; min_interval_ms: minimum inter-onset interval; compression: log
    compression factor applied to magnitudes normalised to full scale; bands_per_octave:
    resolution of the log-spaced band grouping of FFT bins (so a kick counts as much as a hat);
    lag: frames between the two spectra compared by the flux; max_filter_bands: half-width in
    bands of the maximum filter over the older spectrum (0 = plain flux). The defaults were
    tuned at 44.1/48 kHz with 512/128; the flux per frame grows with hop / frame_size, so
    scale delta along when changing that ratio. Returns one float64 array.
    """
    if frame_size < 16 or frame_size & (frame_size - 1):
        raise ValueError("frame_size must be a power of two >= 16")
    if not 1 <= hop <= frame_size:
        raise ValueError("hop must be in 1 … frame_size")
    if threshold_frames < 1 or lag < 1:
        raise ValueError("threshold_frames and lag must be >= 1")
    n = frame_size
    n_bins = n // 2 + 1
    edges = band_edges(n, sample_rate_hz, bands_per_octave)
    n_bands = edges.shape[0] - 1
    band_of_bin = np.repeat(np.arange(n_bands), np.diff(edges)).astype(np.float64)
    sizes = {
        _O_RING: n,
        _O_WIN: n,
        _O_RE: n,
        _O_IM: n,
        _O_COS: n // 2,
        _O_SIN: n // 2,
        _O_REV: n,
        _O_PREV: n_bands * lag,
        _O_HIST: threshold_frames,
        _O_SORT: threshold_frames,
        _O_BAND: n_bins,
        _O_BMAG: n_bands,
        _O_BCNT: n_bands,
    }
    # Periodic Hann: the usual choice for STFT analysis.
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)
    cos_tab, sin_tab, bitrev = fft_tables(n)
    state = allocate(_HEADER, sizes, {_O_WIN: window, _O_COS: cos_tab, _O_SIN: sin_tab,
                              _O_REV: bitrev, _O_BAND: band_of_bin,
                              _O_BCNT: np.diff(edges).astype(np.float64)})
    state[_SR] = sample_rate_hz
    state[_N] = n
    state[_HOP] = hop
    state[_COMP] = n // 4 + hop // 2
    state[_GAMMA] = compression
    state[_DELTA] = delta
    state[_MIN_GAP] = round(min_interval_ms * 1e-3 * sample_rate_hz)
    state[_M] = threshold_frames
    state[_NORM] = 2.0 / window.sum()
    state[_NB] = n_bands
    state[_LAG] = lag
    state[_MAXF] = max_filter_bands
    # No detection until the frame buffer, the compared spectra and the median are all real
    # signal: otherwise the step from the zeroed buffer reads as an onset.
    state[_WARM] = -(-n // hop) + lag + threshold_frames
    reset(state)
    return state


@njit(nogil=True, cache=True)
def reset(state: np.ndarray) -> None:
    """Forget the signal history: empty frame buffer, sample counter back to 0."""
    n = int(state[_N])
    region(state, _O_RING, n)[:] = 0.0
    region(state, _O_PREV, int(state[_NB] * state[_LAG]))[:] = 0.0
    region(state, _O_HIST, int(state[_M]))[:] = 0.0
    state[_WPOS] = 0.0
    state[_COUNT] = 0.0
    state[_TOTAL] = 0.0
    state[_FRAMES] = 0.0
    state[_FLUX1] = 0.0
    state[_FLUX2] = 0.0
    state[_THR1] = np.inf
    state[_LAST] = -1e18
    state[_HPOS] = 0.0


@njit(nogil=True, cache=True)
def latency_samples(state: np.ndarray) -> int:
    """Samples between an onset's reported position and the sample at which it is emitted."""
    return int(state[_HOP] + state[_COMP])


@njit(nogil=True, cache=True)
def _median(values: np.ndarray, scratch: np.ndarray) -> float:
    m = values.shape[0]
    # Insertion sort into scratch: m is small (about 16) and nothing may allocate.
    for i in range(m):
        v = values[i]
        j = i
        while j > 0 and scratch[j - 1] > v:
            scratch[j] = scratch[j - 1]
            j -= 1
        scratch[j] = v
    if m % 2:
        return scratch[m // 2]
    return 0.5 * (scratch[m // 2 - 1] + scratch[m // 2])


@njit(nogil=True, cache=True)
def _frame_flux(state: np.ndarray) -> float:
    n = int(state[_N])
    n_bins = n // 2 + 1
    n_bands = int(state[_NB])
    lag = int(state[_LAG])
    ring = region(state, _O_RING, n)
    win = region(state, _O_WIN, n)
    re = region(state, _O_RE, n)
    im = region(state, _O_IM, n)
    band = region(state, _O_BAND, n_bins)
    bmag = region(state, _O_BMAG, n_bands)
    bcnt = region(state, _O_BCNT, n_bands)
    w = int(state[_WPOS])  # oldest sample
    for j in range(n):
        re[j] = ring[(w + j) % n] * win[j]
        im[j] = 0.0
    fft_inplace(re, im, region(state, _O_COS, n // 2), region(state, _O_SIN, n // 2),
                region(state, _O_REV, n))
    bmag[:] = 0.0
    for k in range(n_bins):
        bmag[int(band[k])] += math.sqrt(re[k] * re[k] + im[k] * im[k])
    # Spectra of the last `lag` frames sit in a ring of rows; the oldest row is compared, then
    # overwritten with the current one.
    row = int(state[_FRAMES]) % lag
    prev = region(state, _O_PREV, n_bands * lag)[row * n_bands : (row + 1) * n_bands]
    gamma = state[_GAMMA] * state[_NORM]
    for b in range(n_bands):
        bmag[b] = math.log1p(gamma * bmag[b] / bcnt[b])
    # SuperFlux-style: compare against the maximum of the neighbouring bands of the older
    # spectrum, so noise and sweeping partials (kick pitch drop) add little flux.
    r = int(state[_MAXF])
    flux = 0.0
    for b in range(n_bands):
        ref = prev[b]
        for c in range(max(b - r, 0), min(b + r + 1, n_bands)):
            if prev[c] > ref:
                ref = prev[c]
        d = bmag[b] - ref
        if d > 0.0:
            flux += d
    for b in range(n_bands):
        prev[b] = bmag[b]
    return flux / n_bands


@njit(nogil=True, cache=True)
def _on_frame(state: np.ndarray, onsets_out: np.ndarray, n_out: int) -> int:
    flux = _frame_flux(state)
    frames = state[_FRAMES]
    state[_FRAMES] = frames + 1.0
    flux1 = state[_FLUX1]
    # Look-ahead of one frame: the previous frame is a peak if the flux now falls.
    if (
        frames > state[_WARM]
        and flux1 > state[_THR1]
        and flux1 >= state[_FLUX2]
        and flux1 > flux
    ):
        pos = state[_TOTAL] - 1.0 - state[_HOP] - state[_COMP]
        if pos - state[_LAST] >= state[_MIN_GAP]:
            state[_LAST] = pos
            if n_out < onsets_out.shape[0]:
                onsets_out[n_out, 0] = pos
                onsets_out[n_out, 1] = flux1
                n_out += 1
    # Threshold for the frame just computed, from fluxes strictly before it (causal).
    m = int(state[_M])
    hist = region(state, _O_HIST, m)
    state[_THR1] = _median(hist, region(state, _O_SORT, m)) + state[_DELTA]
    hp = int(state[_HPOS])
    hist[hp] = flux
    state[_HPOS] = (hp + 1) % m
    state[_FLUX2] = flux1
    state[_FLUX1] = flux
    return n_out


@njit(nogil=True, cache=True)
def process(state: np.ndarray, x: np.ndarray, onsets_out: np.ndarray) -> int:
    """Feed a mono block; write onsets detected during it and return how many.

    x: float32 (n_frames,) mono. onsets_out: float64 (max_onsets, 2), row = (position as an
    absolute sample index since reset, compensated for the detector delay; strength = peak flux).
    Onsets beyond max_onsets in one block are dropped; about n_frames / min interval rows
    suffice.
    """
    n = int(state[_N])
    hop = int(state[_HOP])
    ring = region(state, _O_RING, n)
    w = int(state[_WPOS])
    count = int(state[_COUNT])
    total = state[_TOTAL]
    n_out = 0
    for i in range(x.shape[0]):
        ring[w] = x[i]
        w += 1
        if w == n:
            w = 0
        count += 1
        total += 1.0
        if count == hop:
            count = 0
            state[_WPOS] = w
            state[_TOTAL] = total
            n_out = _on_frame(state, onsets_out, n_out)
    state[_WPOS] = w
    state[_COUNT] = count
    state[_TOTAL] = total
    return n_out
