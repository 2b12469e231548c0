"""Multi-band parametric EQ: a series of RBJ biquads, one per row of a params array.

``params`` has shape (n_bands, 5) with columns KIND, FREQ_HZ, Q, GAIN_DB, ENABLED (see the
column constants). The state is one float64 vector: ``[n_bands, stride]`` then each band's
biquad state. A disabled band glides to identity instead of switching off abruptly,
and costs nothing once the glide is over.
"""

import numpy as np
from numba import njit

from dsp import biquad

KIND, FREQ_HZ, Q, GAIN_DB, ENABLED = 0, 1, 2, 3, 4
N_PARAMS = 5


def make_params(n_bands: int) -> np.ndarray:
    """Return a float64 params array (n_bands, 5) with every band disabled (flat 0 dB peak)."""
    p = np.zeros((n_bands, N_PARAMS))
    p[:, KIND] = biquad.PEAK
    p[:, FREQ_HZ] = 1000.0
    p[:, Q] = 0.7071067811865476
    return p


_N_BANDS, _STRIDE, _HEADER = 0, 1, 2


def prepare(
    n_channels: int, sample_rate_hz: float, params: np.ndarray, smoothing_ms: float = 5.0
) -> np.ndarray:
    """Allocate the float64 state vector for ``len(params)`` bands, settled on ``params``."""
    bands = []
    for band in np.asarray(params, dtype=np.float64).reshape(-1, N_PARAMS):
        kind = int(band[KIND]) if band[ENABLED] != 0.0 else biquad.BYPASS
        bands.append(biquad.prepare(n_channels, sample_rate_hz, kind, band[FREQ_HZ], band[Q],
                                    band[GAIN_DB], smoothing_ms))
    stride = biquad.STATE_HEADER + 2 * n_channels
    return np.concatenate([np.array([len(bands), stride], dtype=np.float64), *bands])


@njit(nogil=True, cache=True)
def _band(state: np.ndarray, b: int) -> np.ndarray:
    start = _HEADER + b * int(state[_STRIDE])
    return state[start:start + int(state[_STRIDE])]


@njit(nogil=True, cache=True)
def reset(state: np.ndarray) -> None:
    """Clear every band's memory and finish coefficient glides."""
    for b in range(int(state[_N_BANDS])):
        biquad.reset(_band(state, b))


@njit(nogil=True, cache=True)
def process(state: np.ndarray, params: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
    """Run planar float32 ``x`` through all bands into ``y`` (n_channels, n_frames).

    ``params`` is float64 (n_bands, 5): kind, freq_hz, q, gain_db, enabled (0/1).
    ``y`` may be ``x``.
    """
    n_bands = int(state[_N_BANDS])
    if n_bands == 0:
        for c in range(x.shape[0]):
            for i in range(x.shape[1]):
                y[c, i] = x[c, i]
        return
    for b in range(n_bands):
        band = _band(state, b)
        kind = int(params[b, KIND]) if params[b, ENABLED] != 0.0 else biquad.BYPASS
        biquad.set_params(band, kind, params[b, FREQ_HZ], params[b, Q], params[b, GAIN_DB])
        # Only the first band reads x; the rest work in place so x and y may differ in type.
        if b == 0:
            biquad.run(band, x, y)
        else:
            biquad.run(band, y, y)
