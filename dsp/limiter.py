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

Evaluation (the numbers above, computed in bulk): frames go through in chunks of up to
``_CHUNK`` via one linear history per channel that serves as both delay line and detector
window (slid along after each chunk, so no modulo indexing).

- Phases aligned with the samples (libebur128's and the Kaiser set's phase 0, exact
  unit impulses up to ~1e-17 taps) are not filtered: they read the sample at the interval
  start, whose |value| is taken directly, like the newest sample's. 14 rows of 12-16
  taps remain at 48 kHz (about 200 multiply-adds per frame and channel, not 272).
- Cheap exact skip: every row's output is at most its sum of |taps| (at most 2.04, the
  Kaiser set's half-sample phase) times the largest |sample| in its window. A
  ``_SEGMENT``-frame stretch whose window max is below threshold / that sum cannot need
  gain reduction, so r = 1 there without filtering, which is exactly what the filters
  would give (``_BOUND_SLACK`` covers rounding in the sums). Material staying more than
  ~6.2 dB under the threshold is never filtered; music at normal level only near peaks.
- Otherwise the rows run frame-innermost (vectorised), two rows sharing the sample
  loads and four taps per pass, each frame's sum accumulated in tap order as in a plain
  dot product: a frame's reading is bit-identical whatever the chunking.
- When a chunk needs no reduction and the gain state has settled at unity (envelope at 1
  for a whole moving-average length, deque all ones), the per-frame recursion is skipped:
  it would leave the same state and output the delayed input unchanged.

The detector (:func:`peaks_of`) and the gain recursion (:func:`gains_of`) are separate
kernels, so ``dsp.limiter_offline`` can read a whole signal's peaks on several threads and
then run the recursion once (the filter designs are in ``dsp.limiter_detector``).

Nothing of the detector was dropped or shortened for speed: the readings, and so the
output, equal those of evaluating all three filter sets on every frame. Block-size
invariant (bit-exact) and allocation-free. State is one float64 vector (layout in the
``_H_*`` constants).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from dsp.limiter_detector import detector_phases, detector_rows
from dsp.units import db_to_gain, gain_to_db

MAX_LOOKAHEAD_MS = 5.0
# Small internal headroom for interpolation differences between meters and for the
# gain ramp modulating the signal inside a meter's filter support.
SAFETY_MARGIN_DB = 0.02

# Shortest attack ramp: a gain that jumps within a meter's filter support modulates the
# signal enough to read up to ~0.15 dB over the ceiling.
MIN_ATTACK_MS = 0.25

# Frames per pass (the size of the scratch arrays) and per bound test.
_CHUNK = 128
_SEGMENT = 16
SEGMENT_FRAMES = _SEGMENT  # the least scratch ``peaks_of`` needs
# Relative slack on the skip bound so rounding in a filter sum can never make a frame the
# bound skipped read above the ceiling when evaluated (keeps block-size invariance exact).
_BOUND_SLACK = 1e-9
# Taps per pass of the detector's inner loop (written out four-wide in ``_detect_rows``).
_GROUP = 4

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
_H_GAIN = 12
_H_CEILING_DBTP = 13
_H_RELEASE_MS = 14
_H_RATE = 15
_H_WIDTH = 16  # detector window: 2 * delay + 1 taps plus _GROUP - 1 leading zeros
_H_PAIRS = 17  # detector row pairs
_H_L1 = 18  # bound gain: max(1, largest sum of |taps| over the rows)
_H_OFF_PAIRS = 19  # per pair: row a, row b, first tap, end tap (a multiple of _GROUP apart)
_H_OFF_COEF = 20  # rows x width, oldest -> newest
_H_OFF_BUF = 21  # per channel: _H_HIST history samples, then _CHUNK new ones
_H_OFF_ACC = 22  # 2 x _CHUNK filter outputs
_H_OFF_PEAK = 23  # _CHUNK peaks, then gains
_H_OFF_BOX = 24
_H_OFF_DQ_VAL = 25
_H_OFF_DQ_IDX = 26
_H_HIST = 27  # history kept per channel: max(latency, width - 1)
_H_UNITY = 28  # frames since the envelope was last below 1 (capped)
_H_DELAY = 29  # detector interval delay in frames
_HEADER = 30


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
    rows, delay = detector_rows(sample_rate_hz)
    n_rows = rows.shape[0]
    width = rows.shape[1] + _GROUP - 1
    coef = np.zeros((n_rows, width))
    coef[:, _GROUP - 1 :] = rows[:, ::-1]  # oldest -> newest, like the history
    spans = []
    for r in range(n_rows):
        nonzero = np.flatnonzero(coef[r])
        spans.append((nonzero[0], nonzero[-1] + 1, r))
    spans.sort()
    # Rows are evaluated in pairs sharing the sample loads (an odd last row is paired with
    # itself) over the union of their spans, widened into zero taps to whole groups.
    pairs = []
    for j in range(0, n_rows, 2):
        k0a, k1a, ra = spans[j]
        k0b, k1b, rb = spans[min(j + 1, n_rows - 1)]
        k1 = max(k1a, k1b)
        k0 = k1 - -(-(k1 - min(k0a, k0b)) // _GROUP) * _GROUP
        pairs.append((ra, rb, k0, k1))
    hist = max(latency, width - 1)

    off_pairs = _HEADER
    off_coef = off_pairs + 4 * len(pairs)
    off_buf = off_coef + n_rows * width
    off_acc = off_buf + n_channels * (hist + _CHUNK)
    off_peak = off_acc + 2 * _CHUNK
    off_box = off_peak + _CHUNK
    off_dq_val = off_box + box
    off_dq_idx = off_dq_val + win
    state = np.zeros(off_dq_idx + win, dtype=np.float64)
    state[_H_NCH] = n_channels
    state[_H_LATENCY] = latency
    state[_H_BOX] = box
    state[_H_WIN] = win
    state[_H_RATE] = sample_rate_hz
    state[_H_WIDTH] = width
    state[_H_PAIRS] = len(pairs)
    state[_H_HIST] = hist
    state[_H_DELAY] = delay
    state[_H_L1] = max(1.0, float(np.abs(coef).sum(axis=1).max(initial=0.0)))
    state[_H_OFF_PAIRS] = off_pairs
    state[_H_OFF_COEF] = off_coef
    state[_H_OFF_BUF] = off_buf
    state[_H_OFF_ACC] = off_acc
    state[_H_OFF_PEAK] = off_peak
    state[_H_OFF_BOX] = off_box
    state[_H_OFF_DQ_VAL] = off_dq_val
    state[_H_OFF_DQ_IDX] = off_dq_idx
    state[off_pairs:off_coef] = np.array(pairs, dtype=np.float64).reshape(-1)
    state[off_coef:off_buf] = coef.reshape(-1)
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
    state[_H_CEIL] = db_to_gain(ceiling_dbtp - SAFETY_MARGIN_DB)
    state[_H_REL] = math.exp(-1000.0 / (max(release_ms, 1e-3) * state[_H_RATE]))


@numba.njit(nogil=True, cache=True)
def reset(state: np.ndarray) -> None:
    """Clear delay line, detector and gain history (unity gain); keeps parameters."""
    for k in range(int(state[_H_OFF_BUF]), int(state[_H_OFF_BOX])):
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
    state[_H_UNITY] = box  # the moving average is full of ones


@numba.njit(nogil=True, cache=True)
def finite(v: float) -> float:
    """The sample as float64, NaN/inf replaced by 0.

    A bad input must not defeat the ceiling (inf would force the gain to 0 and turn the
    output into NaN).
    """
    f = np.float64(v)
    return f if math.isfinite(f) else 0.0


@numba.njit(nogil=True, cache=True)
def peaks_of(state: np.ndarray, src: np.ndarray, base: int, stride: int, n_ch: int,
             f0: int, f1: int, pk: np.ndarray, out_a: np.ndarray, out_b: np.ndarray) -> bool:
    """``pk[f0:f1]``: the peaks of frames [f0, f1), channel c's frame i having its newest
    sample at ``src[base + c * stride + i]``; returns whether any frame was evaluated.

    Segments whose bound (sum of |taps| x max |sample| over the filter window) cannot
    exceed the ceiling read 0 without filtering: every reading there is <= ceil, so r = 1
    either way. Loud segments are evaluated in runs of up to ``out_a.size`` frames.
    """
    width = int(state[_H_WIDTH])
    limit = state[_H_CEIL] / (state[_H_L1] * (1.0 + _BOUND_SLACK))
    longest = out_a.shape[0]
    loud_any = False
    run = -1  # start of the pending run of segments to evaluate
    for s0 in range(f0, f1, _SEGMENT):
        s1 = min(s0 + _SEGMENT, f1)
        loud = False
        for c in range(n_ch):
            if _segment_loud(src, base + c * stride + s0, s1 - s0, width, limit):
                loud = True
                break
        if loud:
            loud_any = True
            if run >= 0 and s1 - run > longest:
                _detect_run(state, src, base, stride, n_ch, run, s0, pk, out_a, out_b)
                run = -1
            if run < 0:
                run = s0
        else:
            if run >= 0:
                _detect_run(state, src, base, stride, n_ch, run, s0, pk, out_a, out_b)
                run = -1
            for i in range(s0, s1):
                pk[i] = 0.0
    if run >= 0:
        _detect_run(state, src, base, stride, n_ch, run, f1, pk, out_a, out_b)
    return loud_any


@numba.njit(nogil=True, cache=True)
def _detect_run(state: np.ndarray, src: np.ndarray, base: int, stride: int, n_ch: int,
                i0: int, i1: int, pk: np.ndarray, out_a: np.ndarray, out_b: np.ndarray
                ) -> None:
    """``pk[i0:i1]``: :func:`_detect_rows` over every channel."""
    run_pk = pk[i0:i1]
    run_pk[:] = 0.0
    for c in range(n_ch):
        _detect_rows(state, src, base + c * stride + i0, i1 - i0, run_pk, out_a, out_b)


@numba.njit(nogil=True, cache=True)
def _detect_rows(state: np.ndarray, src: np.ndarray, newest: int, n: int, pk: np.ndarray,
                 out_a: np.ndarray, out_b: np.ndarray) -> None:
    """Raise ``pk[:n]`` to the peaks of one channel's frames whose newest samples are
    ``src[newest : newest + n]``: |sample|, the sample at the interval start and every
    filter row (``out_a``, ``out_b``: ``n`` frames of scratch).

    The frame loops are innermost (vectorised) and each frame's filter sum is accumulated
    in tap order, so it is bit-identical however frames are grouped into chunks and runs.
    """
    width = int(state[_H_WIDTH])
    delay = int(state[_H_DELAY])
    n_pairs = int(state[_H_PAIRS])
    off_pairs = int(state[_H_OFF_PAIRS])
    off_coef = int(state[_H_OFF_COEF])
    centre = newest - delay
    for i in range(n):
        # The newest sample, as the meter sets took it, and the one at the interval
        # start, which the dropped identity phases read.
        a = max(abs(src[newest + i]), abs(src[centre + i]))
        if a > pk[i]:
            pk[i] = a
    oldest = newest - (width - 1)
    for q in range(n_pairs):
        ca = off_coef + int(state[off_pairs + 4 * q]) * width
        cb = off_coef + int(state[off_pairs + 4 * q + 1]) * width
        k0 = int(state[off_pairs + 4 * q + 2])
        k1 = int(state[off_pairs + 4 * q + 3])
        for k in range(k0, k1, _GROUP):
            a0 = state[ca + k]
            a1 = state[ca + k + 1]
            a2 = state[ca + k + 2]
            a3 = state[ca + k + 3]
            b0 = state[cb + k]
            b1 = state[cb + k + 1]
            b2 = state[cb + k + 2]
            b3 = state[cb + k + 3]
            s = src[oldest + k : oldest + k + n + _GROUP - 1]
            if k == k0:
                for i in range(n):
                    x0 = s[i]
                    x1 = s[i + 1]
                    x2 = s[i + 2]
                    x3 = s[i + 3]
                    out_a[i] = ((a0 * x0 + a1 * x1) + a2 * x2) + a3 * x3
                    out_b[i] = ((b0 * x0 + b1 * x1) + b2 * x2) + b3 * x3
            else:
                for i in range(n):
                    x0 = s[i]
                    x1 = s[i + 1]
                    x2 = s[i + 2]
                    x3 = s[i + 3]
                    out_a[i] = (((out_a[i] + a0 * x0) + a1 * x1) + a2 * x2) + a3 * x3
                    out_b[i] = (((out_b[i] + b0 * x0) + b1 * x1) + b2 * x2) + b3 * x3
        for i in range(n):
            p = pk[i]
            a = abs(out_a[i])
            b = abs(out_b[i])
            if a > p:
                p = a
            if b > p:
                p = b
            pk[i] = p


@numba.njit(nogil=True, cache=True)
def _segment_loud(src: np.ndarray, newest: int, n: int, width: int, limit: float) -> bool:
    """Whether any sample a filter row reads for frames [newest, newest + n) of ``src``
    exceeds ``limit`` (the skip bound: below it no reading can pass the ceiling)."""
    for j in range(newest - (width - _GROUP), newest + n):
        if abs(src[j]) > limit:
            return True
    return False


@numba.njit(nogil=True, cache=True)
def _settled(state: np.ndarray) -> bool:
    """The gain state has settled at unity: envelope at 1 for a whole moving-average
    length, the average full of ones and the deque's minimum 1."""
    box = int(state[_H_BOX])
    dq_len = int(state[_H_DQ_LEN])
    return (state[_H_UNITY] >= box and state[_H_BOX_SUM] == box
            and (dq_len == 0 or state[int(state[_H_OFF_DQ_VAL]) + int(state[_H_DQ_HEAD])] == 1.0))


@numba.njit(nogil=True, cache=True)
def _skip_settled(state: np.ndarray, m: int) -> None:
    """Advance a settled state by ``m`` frames that need no reduction: the per-frame
    recursion would leave one deque entry (1, last frame) and unity gain throughout."""
    dq_head = int(state[_H_DQ_HEAD])
    n_frame = state[_H_N]
    state[int(state[_H_OFF_DQ_VAL]) + dq_head] = 1.0
    state[int(state[_H_OFF_DQ_IDX]) + dq_head] = n_frame + m - 1
    state[_H_DQ_LEN] = 1
    state[_H_BOX_POS] = (int(state[_H_BOX_POS]) + m) % int(state[_H_BOX])
    state[_H_GAIN] = 1.0
    state[_H_UNITY] = min(state[_H_UNITY] + m, 1e9)
    state[_H_N] = n_frame + m


# long: the per-frame recursion, with its state held in locals for the whole loop
@numba.njit(nogil=True, cache=True)
def gains_of(state: np.ndarray, pk: np.ndarray, m: int) -> None:
    """Turn the peaks ``pk[:m]`` of the next ``m`` frames into their gains, in place:
    required gain, sliding minimum, attack/release envelope, moving average."""
    box = int(state[_H_BOX])
    win = int(state[_H_WIN])
    ceil = state[_H_CEIL]
    rel = state[_H_REL]
    off_box = int(state[_H_OFF_BOX])
    off_val = int(state[_H_OFF_DQ_VAL])
    off_idx = int(state[_H_OFF_DQ_IDX])
    n_frame = state[_H_N]
    env = state[_H_ENV]
    box_sum = state[_H_BOX_SUM]
    box_pos = int(state[_H_BOX_POS])
    dq_head = int(state[_H_DQ_HEAD])
    dq_len = int(state[_H_DQ_LEN])
    gain = state[_H_GAIN]
    unity = state[_H_UNITY]
    for i in range(m):
        p = pk[i]
        r = 1.0
        if p > ceil:
            r = ceil / p

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
        pk[i] = gain
        unity = min(unity + 1.0, 1e9) if env == 1.0 else 0.0
        n_frame += 1.0

    state[_H_N] = n_frame
    state[_H_ENV] = env
    state[_H_BOX_SUM] = box_sum
    state[_H_BOX_POS] = box_pos
    state[_H_DQ_HEAD] = dq_head
    state[_H_DQ_LEN] = dq_len
    state[_H_GAIN] = gain
    state[_H_UNITY] = unity


@numba.njit(nogil=True, cache=True)
def _process_chunk(state: np.ndarray, x: np.ndarray, y: np.ndarray, start: int, m: int) -> None:
    """Limit frames [start, start + m) of the block, m <= _CHUNK."""
    n_state_ch = int(state[_H_NCH])
    n_ch = min(n_state_ch, x.shape[0], y.shape[0])
    latency = int(state[_H_LATENCY])
    hist = int(state[_H_HIST])
    buf_len = hist + _CHUNK
    off_buf = int(state[_H_OFF_BUF])
    peak = int(state[_H_OFF_PEAK])

    # New samples after the history; absent channels read as silence.
    for c in range(n_ch):
        b = off_buf + c * buf_len + hist
        for i in range(m):
            state[b + i] = finite(x[c, start + i])
    for c in range(n_ch, n_state_ch):
        b = off_buf + c * buf_len + hist
        for i in range(m):
            state[b + i] = 0.0

    acc = int(state[_H_OFF_ACC])
    loud_any = peaks_of(state, state, off_buf + hist, buf_len, n_ch, 0, m,
                        state[peak : peak + _CHUNK], state[acc : acc + _CHUNK],
                        state[acc + _CHUNK : acc + 2 * _CHUNK])

    idle = not loud_any and _settled(state)
    if idle:
        _skip_settled(state, m)
    else:
        gains_of(state, state[peak : peak + m], m)

    # Output the delayed samples, then slide the history by m.
    for c in range(n_ch):
        b = off_buf + c * buf_len + hist - latency
        if idle:
            for i in range(m):
                y[c, start + i] = np.float32(state[b + i])
        else:
            for i in range(m):
                y[c, start + i] = np.float32(state[peak + i] * state[b + i])
    for c in range(n_state_ch):
        b = off_buf + c * buf_len
        for j in range(hist):
            state[b + j] = state[b + m + j]


@numba.njit(nogil=True, cache=True)
def process(state: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
    """Limit a block: x, y float32 (n_channels, n_frames); y may be x (in place).

    Output is the input delayed by ``latency_samples`` with a gain <= 1 applied;
    non-finite input samples are output as 0.
    """
    n_frames = min(x.shape[1], y.shape[1])
    for start in range(0, n_frames, _CHUNK):
        _process_chunk(state, x, y, start, min(_CHUNK, n_frames - start))


def window_frames(state: np.ndarray) -> int:
    """Samples before a frame's newest that its detector reads (``peaks_of`` needs them
    in ``src``, zeros before the signal's start)."""
    return int(state[_H_WIDTH]) - 1


def latency_samples(state: np.ndarray) -> int:
    """Delay from input to output in samples (the lookahead)."""
    return int(state[_H_LATENCY])


def gain_reduction_db(state: np.ndarray) -> float:
    """Gain reduction applied to the most recent output frame (dB, >= 0)."""
    gain = state[_H_GAIN]
    return -gain_to_db(gain)
