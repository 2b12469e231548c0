"""Lookahead true-peak brickwall limiter with stereo-linked (all-channel-linked) gain.

Signal path, per frame n (all channels share one gain):

1. Detector: polyphase FIR sets on one shared history: (a) our true-peak meter's own
   filter for the rate (BS.1770's at 48 kHz; 4x points at odd eighths of a sample), (b)
   libebur128's interpolator for the rate (49-tap Hann-windowed sinc, 4x below 96 kHz, 2x
   below 192 kHz; points aligned with the samples) and (c) a 129-tap Kaiser-windowed sinc
   at 8x (flat within 0.01 dB to 0.75 x Nyquist) approximating ideal reconstruction. So
   the output holds the ceiling as read by both meters and, to within the 8x grid, by an
   ideal D/A. The frame's peak P is the maximum over channels of all points and the
   sample values; it describes the interval starting ``delay`` frames back (8, or 12 at
   96-192 kHz). Required gain r = min(1, ceiling / P).
2. A sliding-window minimum of r (monotonic deque in preallocated arrays) over
   ``box + 2 * support`` frames, so every sample gets a gain no larger than the
   requirement of any interpolated point within ``support`` samples of it (the span a
   meter's interpolation filter reads); the output is then exactly scaled across the
   filter support of each peak and the meter reads at most the ceiling.
3. Instant attack / exponential release on that minimum (never above it).
4. A moving average over ``box`` frames smooths the attack into a ramp that reaches the
   target before the peak leaves the delay line (the average of values that are all below
   a bound is below the bound, so the guarantee survives smoothing).
5. Output = gain * input delayed by the lookahead; latency = lookahead samples.

Block-size invariant (strictly per-frame recursion) and allocation-free. State is one
float64 vector (layout in the ``_H_*`` constants).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from dsp import true_peak

MAX_LOOKAHEAD_MS = 5.0
# Small internal headroom for interpolation differences between meters and for the
# gain ramp modulating the signal inside a meter's filter support.
SAFETY_MARGIN_DB = 0.02

# Shortest attack ramp: a gain that jumps within a meter's filter support modulates the
# signal enough to read up to ~0.15 dB over the ceiling.
MIN_ATTACK_MS = 0.25
_IDEAL_FACTOR = 8
_IDEAL_TAPS_PER_PHASE = 16
_IDEAL_KAISER_BETA = 6.0
_HANN_TAPS = 49  # libebur128's interpolator length

_H_NCH = 0
_H_LATENCY = 1
_H_BOX = 2
_H_WIN = 3
_H_CEIL = 4  # linear detector threshold (ceiling minus safety margin)
_H_REL = 5  # release coefficient per frame
_H_N = 6  # frame counter
_H_ENV = 7
_H_BOX_SUM = 8
_H_BOX_POS = 9
_H_DQ_HEAD = 10
_H_DQ_LEN = 11
_H_DELAY_POS = 12
_H_DET_POS = 13
_H_GAIN = 14
_H_CEILING_DBTP = 15
_H_RELEASE_MS = 16
_H_RATE = 17
_H_OFF_DET = 18
_H_DET_LEN = 19
_H_OFF_DELAY = 20
_H_OFF_BOX = 21
_H_OFF_DQ_VAL = 22
_H_OFF_DQ_IDX = 23
_HEADER = 24


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
    meter = true_peak.polyphase_filter(sample_rate_hz)  # exactly what our meter reads
    sets.append((meter, meter.shape[1] // 2))
    factor = true_peak.oversampling_factor(sample_rate_hz)
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


def _geometry(sample_rate_hz: float, lookahead_ms: float) -> tuple[int, int, int, int]:
    """(latency, box, support, delay) in samples; latency = delay + support + box - 1.

    The support (half-span of the meter filters' reads, over which the gain is held) is
    one more than the detector delay: +-6 samples for 4x meters, +-12 for libebur128's 2x.
    """
    delay = detector_phases(sample_rate_hz)[1]
    support = delay + 1
    min_box = max(1, int(round(MIN_ATTACK_MS * 1e-3 * sample_rate_hz)))
    latency = max(delay + support + min_box - 1, int(round(lookahead_ms * 1e-3 * sample_rate_hz)))
    return latency, latency - delay - support + 1, support, delay


def latency_for(sample_rate_hz: float, lookahead_ms: float) -> int:
    """Latency in samples for a lookahead (ms) at a rate (Hz).

    round(lookahead_ms * rate / 1000), raised to the minimum the detector needs (about
    0.6 ms: 28 samples at 48 kHz, 48 at 96 kHz).
    """
    return _geometry(sample_rate_hz, lookahead_ms)[0]


def prepare(
    n_channels: int,
    sample_rate_hz: float,
    ceiling_dbtp: float = -1.0,
    release_ms: float = 100.0,
    lookahead_ms: float = 2.0,
) -> np.ndarray:
    """Allocate a limiter for ``n_channels`` at ``sample_rate_hz`` (Hz).

    ``ceiling_dbtp``: maximum output true peak (dBTP); ``release_ms``: release time
    constant (ms); ``lookahead_ms``: 0 < lookahead <= 5 ms, the latency (``latency_samples``;
    raised to the minimum of ``latency_for`` if shorter). Returns the float64 state vector.
    """
    if n_channels < 1:
        raise ValueError(f"n_channels must be >= 1, got {n_channels}")
    if not sample_rate_hz > 0:
        raise ValueError(f"sample_rate_hz must be positive, got {sample_rate_hz}")
    if not 0.0 < lookahead_ms <= MAX_LOOKAHEAD_MS:
        raise ValueError(f"lookahead_ms must be in (0, {MAX_LOOKAHEAD_MS}], got {lookahead_ms}")
    if not release_ms > 0:
        raise ValueError(f"release_ms must be positive, got {release_ms}")
    latency, box, support, _ = _geometry(sample_rate_hz, lookahead_ms)
    win = box + 2 * support
    det = true_peak.prepare_with_filter(n_channels, detector_phases(sample_rate_hz)[0])

    off_det = _HEADER
    off_delay = off_det + det.shape[0]
    off_box = off_delay + n_channels * latency
    off_dq_val = off_box + box
    off_dq_idx = off_dq_val + win
    state = np.zeros(off_dq_idx + win, dtype=np.float64)
    state[_H_NCH] = n_channels
    state[_H_LATENCY] = latency
    state[_H_BOX] = box
    state[_H_WIN] = win
    state[_H_RATE] = sample_rate_hz
    state[_H_OFF_DET] = off_det
    state[_H_DET_LEN] = det.shape[0]
    state[_H_OFF_DELAY] = off_delay
    state[_H_OFF_BOX] = off_box
    state[_H_OFF_DQ_VAL] = off_dq_val
    state[_H_OFF_DQ_IDX] = off_dq_idx
    state[off_det:off_delay] = det
    set_params(state, ceiling_dbtp, release_ms)
    reset(state)
    return state


@numba.njit(nogil=True, cache=True)
def set_params(state: np.ndarray, ceiling_dbtp: float, release_ms: float) -> None:
    """Change ceiling (dBTP) and release (ms) while running; allocation-free.

    A lower ceiling is guaranteed once one lookahead of audio has passed (samples already
    in the delay line keep the gain planned for them).
    """
    state[_H_CEILING_DBTP] = ceiling_dbtp
    state[_H_RELEASE_MS] = release_ms
    state[_H_CEIL] = 10.0 ** ((ceiling_dbtp - SAFETY_MARGIN_DB) / 20.0)
    state[_H_REL] = math.exp(-1000.0 / (max(release_ms, 1e-3) * state[_H_RATE]))


@numba.njit(nogil=True, cache=True)
def reset(state: np.ndarray) -> None:
    """Clear delay line, detector and gain history (unity gain); keeps parameters."""
    off_det = int(state[_H_OFF_DET])
    det_len = int(state[_H_DET_LEN])
    true_peak.reset(state[off_det : off_det + det_len])
    for k in range(int(state[_H_OFF_DELAY]), int(state[_H_OFF_BOX])):
        state[k] = 0.0
    box = int(state[_H_BOX])
    off_box = int(state[_H_OFF_BOX])
    for k in range(box):
        state[off_box + k] = 1.0
    state[_H_BOX_SUM] = box
    state[_H_ENV] = 1.0
    state[_H_GAIN] = 1.0
    state[_H_N] = 0.0
    state[_H_BOX_POS] = 0.0
    state[_H_DQ_HEAD] = 0.0
    state[_H_DQ_LEN] = 0.0
    state[_H_DELAY_POS] = 0.0
    state[_H_DET_POS] = 0.0


@numba.njit(nogil=True, cache=True)
def _finite(v: float) -> float:
    """The sample as float64, NaN/inf replaced by 0.

    A bad input must not defeat the ceiling (inf would force the gain to 0 and turn the
    output into NaN).
    """
    f = np.float64(v)
    return f if math.isfinite(f) else 0.0


@numba.njit(nogil=True, cache=True)
def process(state: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
    """Limit a block: x, y float32 (n_channels, n_frames); y may be x (in place).

    Output is the input delayed by ``latency_samples`` with a gain <= 1 applied;
    non-finite input samples are output as 0.
    """
    n_ch = min(int(state[_H_NCH]), x.shape[0], y.shape[0])
    n_state_ch = int(state[_H_NCH])
    latency = int(state[_H_LATENCY])
    box = int(state[_H_BOX])
    win = int(state[_H_WIN])
    ceil = state[_H_CEIL]
    rel = state[_H_REL]
    off_det = int(state[_H_OFF_DET])
    det = state[off_det : off_det + int(state[_H_DET_LEN])]
    off_delay = int(state[_H_OFF_DELAY])
    off_box = int(state[_H_OFF_BOX])
    off_val = int(state[_H_OFF_DQ_VAL])
    off_idx = int(state[_H_OFF_DQ_IDX])

    n_frame = state[_H_N]
    env = state[_H_ENV]
    box_sum = state[_H_BOX_SUM]
    box_pos = int(state[_H_BOX_POS])
    dq_head = int(state[_H_DQ_HEAD])
    dq_len = int(state[_H_DQ_LEN])
    dpos = int(state[_H_DELAY_POS])
    det_pos = int(state[_H_DET_POS])
    gain = state[_H_GAIN]

    det_taps = int(det[true_peak._H_TAPS])

    for i in range(min(x.shape[1], y.shape[1])):
        det_pos += 1
        if det_pos == det_taps:
            det_pos = 0
        peak = 0.0
        for c in range(n_ch):
            p = true_peak.push_sample(det, c, det_pos, _finite(x[c, i]))
            if p > peak:
                peak = p
        r = 1.0
        if peak > ceil:
            r = ceil / peak

        # Sliding minimum over the last `win` requirements (monotonic deque). Expire the
        # front first so at most win - 1 entries remain before the push (capacity win).
        if dq_len > 0 and state[off_idx + dq_head] <= n_frame - win:
            dq_head += 1
            if dq_head == win:
                dq_head = 0
            dq_len -= 1
        while dq_len > 0:
            back = dq_head + dq_len - 1
            if back >= win:
                back -= win
            if state[off_val + back] >= r:
                dq_len -= 1
            else:
                break
        slot = dq_head + dq_len
        if slot >= win:
            slot -= win
        state[off_val + slot] = r
        state[off_idx + slot] = n_frame
        dq_len += 1
        target = state[off_val + dq_head]

        # Instant attack (the moving average below provides the ramp), exponential release.
        if target <= env:
            env = target
        else:
            env = target + (env - target) * rel
            # Land exactly on the target (a -180 dB step) so that, once released, unity
            # gain is bit-transparent instead of approaching 1.0 forever.
            if target - env < 1e-9:
                env = target

        box_sum += env - state[off_box + box_pos]
        state[off_box + box_pos] = env
        box_pos += 1
        if box_pos == box:
            # Recompute exactly once per cycle so rounding cannot accumulate.
            box_pos = 0
            acc = 0.0
            for k in range(box):
                acc += state[off_box + k]
            box_sum = acc
        gain = box_sum / box
        if gain > 1.0:
            gain = 1.0

        for c in range(n_ch):
            d = off_delay + c * latency + dpos
            delayed = state[d]
            state[d] = _finite(x[c, i])
            y[c, i] = np.float32(gain * delayed)
        for c in range(n_ch, n_state_ch):
            state[off_delay + c * latency + dpos] = 0.0
        dpos += 1
        if dpos == latency:
            dpos = 0
        n_frame += 1.0

    state[_H_N] = n_frame
    state[_H_ENV] = env
    state[_H_BOX_SUM] = box_sum
    state[_H_BOX_POS] = box_pos
    state[_H_DQ_HEAD] = dq_head
    state[_H_DQ_LEN] = dq_len
    state[_H_DELAY_POS] = dpos
    state[_H_DET_POS] = det_pos
    state[_H_GAIN] = gain


def latency_samples(state: np.ndarray) -> int:
    """Delay from input to output in samples (the lookahead)."""
    return int(state[_H_LATENCY])


def gain_reduction_db(state: np.ndarray) -> float:
    """Gain reduction applied to the most recent output frame (dB, >= 0)."""
    gain = state[_H_GAIN]
    return -20.0 * math.log10(gain) if gain > 0.0 else math.inf
