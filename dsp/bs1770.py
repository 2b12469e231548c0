"""The BS.1770 filters and constants, without Numba: K-weighting and the true-peak
interpolation filter.

Both meters use them: the streaming one in the callback (``dsp.loudness`` and
``dsp.true_peak``, Numba kernels) and the whole-file one (``dsp.analysis.loudness_file``,
numpy), so ``musicmill loudness`` need not start Numba for them.
"""

from __future__ import annotations

import math

import numpy as np

# BS.1770 loudness offset: -0.691 dB makes a 997 Hz sine at 0 dBFS read -3.01 LKFS per channel.
LOUDNESS_OFFSET_DB = -0.691
ABS_GATE_LUFS = -70.0
ABS_GATE_ENERGY = 10.0 ** ((ABS_GATE_LUFS - LOUDNESS_OFFSET_DB) / 10.0)  # its mean energy
REL_GATE_INTEGRATED_LU = -10.0
REL_GATE_LRA_LU = -20.0
LRA_LOW_PERCENTILE = 0.10
LRA_HIGH_PERCENTILE = 0.95

# Coefficients of ITU-R BS.1770-5 Annex 2, Table 1: phase p holds taps h[4k + p].
# fmt: off
BS1770_PHASES = np.array(
    [
        [0.0017089843750, 0.0109863281250, -0.0196533203125, 0.0332031250000,
         -0.0594482421875, 0.1373291015625, 0.9721679687500, -0.1022949218750,
         0.0476074218750, -0.0266113281250, 0.0148925781250, -0.0083007812500],
        [-0.0291748046875, 0.0292968750000, -0.0517578125000, 0.0891113281250,
         -0.1665039062500, 0.4650878906250, 0.7797851562500, -0.2003173828125,
         0.1015625000000, -0.0582275390625, 0.0330810546875, -0.0189208984375],
        [-0.0189208984375, 0.0330810546875, -0.0582275390625, 0.1015625000000,
         -0.2003173828125, 0.7797851562500, 0.4650878906250, -0.1665039062500,
         0.0891113281250, -0.0517578125000, 0.0292968750000, -0.0291748046875],
        [-0.0083007812500, 0.0148925781250, -0.0266113281250, 0.0476074218750,
         -0.1022949218750, 0.9721679687500, 0.1373291015625, -0.0594482421875,
         0.0332031250000, -0.0196533203125, 0.0109863281250, 0.0017089843750],
    ],
    dtype=np.float64,
)
# fmt: on

TAPS_PER_PHASE = 12
# Kaiser beta giving the same normalised response as the standard's filter (+-0.05 dB to
# 0.75 x Nyquist, -6 dB at Nyquist, about -25 dB at 1.17 x Nyquist).
_KAISER_BETA = 4.0


def k_weighting_coefficients(sample_rate_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """K-weighting biquads for a rate (Hz): (b, a) each shape (2, 3), pre-filter then RLB."""
    fs = float(sample_rate_hz)
    # Stage 1: high shelf modelling the acoustic effect of the head.
    f0 = 1681.974450955533
    gain_db = 3.999843853973347
    q = 0.7071752369554196
    k = math.tan(math.pi * f0 / fs)
    vh = 10.0 ** (gain_db / 20.0)  # not dsp.units: it is jitted, and this module is not
    vb = vh**0.4996667741545416
    a0 = 1.0 + k / q + k * k
    b_pre = [
        (vh + vb * k / q + k * k) / a0,
        2.0 * (k * k - vh) / a0,
        (vh - vb * k / q + k * k) / a0,
    ]
    a_pre = [1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]
    # Stage 2: RLB high-pass.
    f0 = 38.13547087602444
    q = 0.5003270373238773
    k = math.tan(math.pi * f0 / fs)
    a0 = 1.0 + k / q + k * k
    b_rlb = [1.0, -2.0, 1.0]
    a_rlb = [1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]
    return np.array([b_pre, b_rlb]), np.array([a_pre, a_rlb])


def default_channel_weights(n_channels: int) -> np.ndarray:
    """BS.1770 channel weights for a layout inferred from the channel count, shape (n_channels,).

    1: mono; 2: L R; 3: L R C; 4: L R Ls Rs; 5: L R C Ls Rs (5.0); 6: L R C LFE Ls Rs (5.1,
    LFE excluded). Further channels weigh 1.0. Surrounds weigh 1.41 (+1.5 dB).
    """
    if n_channels == 4:
        return np.array([1.0, 1.0, 1.41, 1.41])
    if n_channels == 5:
        return np.array([1.0, 1.0, 1.0, 1.41, 1.41])
    w = np.ones(n_channels)
    if n_channels >= 6:
        w[3] = 0.0
        w[4] = 1.41
        w[5] = 1.41
    return w


def oversampling_factor(sample_rate_hz: float) -> int:
    """Oversampling factor used at a sample rate (Hz): 4 below 96 kHz, 2 below 192 kHz, else 1."""
    if sample_rate_hz < 96000.0:
        return 4
    if sample_rate_hz < 192000.0:
        return 2
    return 1


def polyphase_filter(sample_rate_hz: float, factor: int | None = None) -> np.ndarray:
    """Interpolation filter for a rate (Hz), as phases: shape (factor, taps_per_phase).

    Row p gives the interpolated value p/factor of a sample after the filter's group delay,
    computed as ``sum_k row[k] * x[n - k]``. ``factor`` defaults to ``oversampling_factor``.
    """
    if factor is None:
        factor = oversampling_factor(sample_rate_hz)
    if factor == 1:
        return np.ones((1, 1), dtype=np.float64)
    if factor == 4 and sample_rate_hz == 48000.0:
        return BS1770_PHASES.copy()
    taps = TAPS_PER_PHASE * factor
    import scipy.signal  # the filter design only: importing scipy.signal costs ~1 s

    proto = scipy.signal.firwin(taps, 1.0 / factor, window=("kaiser", _KAISER_BETA)) * factor
    return np.ascontiguousarray(proto.reshape(TAPS_PER_PHASE, factor).T)


def energy_to_lufs(energy: float) -> float:
    """Loudness (LUFS) of a mean K-weighted energy; -inf for none."""
    return LOUDNESS_OFFSET_DB + 10.0 * math.log10(energy) if energy > 0.0 else -math.inf


def gated_blocks(blocks: np.ndarray, gate_lu: float) -> np.ndarray:
    """The gating blocks' mean energies above the absolute gate, then above ``gate_lu``
    under the mean of those (the integrated loudness' gate at -10 LU, the loudness
    range's at -20 LU)."""
    kept = blocks[blocks > ABS_GATE_ENERGY]
    if kept.size == 0:
        return kept
    return kept[kept > kept.mean() * 10.0 ** (gate_lu / 10.0)]


def integrated_lufs(blocks: np.ndarray) -> float:
    """Gated integrated loudness of 400 ms gating blocks' mean energies; -inf if none pass."""
    kept = gated_blocks(blocks, REL_GATE_INTEGRATED_LU)
    return energy_to_lufs(float(kept.mean())) if kept.size else -math.inf


def linear_to_db(value: float) -> float:
    """20*log10 of a linear amplitude; -inf for 0. ``dsp.units.gain_to_db`` without Numba,
    for the whole-file meter (``musicmill loudness`` starts no compiler)."""
    return 20.0 * math.log10(value) if value > 0.0 else -math.inf
