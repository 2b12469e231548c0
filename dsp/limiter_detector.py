"""The true-peak limiter's detector: the polyphase interpolation filters it reads each
frame's peak from (``dsp.limiter`` explains why these three sets), designed at prepare time.
"""

from __future__ import annotations

import numpy as np

from dsp import bs1770

_IDEAL_FACTOR = 8
_IDEAL_TAPS_PER_PHASE = 16
_IDEAL_KAISER_BETA = 6.0
_HANN_TAPS = 49  # libebur128's interpolator length


def _windowed_sinc_phases(factor: int, taps: int, window: np.ndarray) -> np.ndarray:
    """Sample-aligned windowed-sinc interpolator (odd ``taps``) split into phases.

    Returns (factor, ceil(taps / factor)); phase 0 reproduces the input samples.
    """
    per_phase = -(-taps // factor)
    m = np.arange(taps) - (taps - 1) / 2.0
    padded = np.zeros(factor * per_phase)
    padded[:taps] = np.sinc(m / factor) * window
    return padded.reshape(per_phase, factor).T


def _detector_sets(sample_rate_hz: float) -> list[tuple[np.ndarray, int]]:
    """Polyphase sets (phases, interval delay in frames) the detector takes the maximum of.

    Interval delay d: at frame n the set's points lie in [n - d, n - d + 1).
    """
    sets = []
    meter = bs1770.polyphase_filter(sample_rate_hz)  # exactly what our meter reads
    sets.append((meter, meter.shape[1] // 2))
    factor = bs1770.oversampling_factor(sample_rate_hz)
    if factor > 1:
        # libebur128's interpolator at this rate: 49-tap Hann-windowed sinc.
        aligned = _windowed_sinc_phases(factor, _HANN_TAPS, np.hanning(_HANN_TAPS))
        sets.append((aligned, (_HANN_TAPS - 1) // (2 * factor)))
    # Near-ideal reconstruction, flat within 0.01 dB to 0.75 x Nyquist.
    taps = _IDEAL_FACTOR * _IDEAL_TAPS_PER_PHASE + 1
    ideal = _windowed_sinc_phases(_IDEAL_FACTOR, taps, np.kaiser(taps, _IDEAL_KAISER_BETA))
    sets.append((ideal, _IDEAL_TAPS_PER_PHASE // 2))
    return sets


def detector_phases(sample_rate_hz: float) -> tuple[np.ndarray, int]:
    """Detector filter for a rate (Hz): (phases (n, 2 * delay + 1), delay in frames).

    All sets are padded to one history length and delayed to a common interval delay.
    """
    sets = _detector_sets(sample_rate_hz)
    delay = max(d for _, d in sets)
    taps = 2 * delay + 1
    rows = []
    for phases, d in sets:
        padded = np.zeros((phases.shape[0], taps))
        shift = delay - d
        padded[:, shift : shift + phases.shape[1]] = phases
        rows.append(padded)
    return np.vstack(rows), delay


def detector_rows(sample_rate_hz: float) -> tuple[np.ndarray, int]:
    """Detector rows actually evaluated: ``detector_phases`` without its identity phases.

    A phase aligned with the samples (libebur128's and the Kaiser set's phase 0) reads the
    sample value itself, which the detector takes directly.
    """
    phases, delay = detector_phases(sample_rate_hz)
    unit = np.zeros(phases.shape[1])
    unit[delay] = 1.0
    keep = np.abs(phases - unit).max(axis=1) > 1e-9
    return phases[keep], delay
