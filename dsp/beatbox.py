"""Beatbox trigger: detect vocal-percussion hits on the mic, classify them, emit drum events.

Per sample, on the mono sum of the input:

- a fast envelope (0.2 ms attack, 10 ms release) of ``|x|`` and a slow one that follows
  the fast one, rising over ``SLOW_MS`` and falling over ``SLOW_RELEASE_MS``. A hit starts
  when the fast envelope rises above both the absolute floor ``threshold_db`` and
  ``ratio_db`` over the slow envelope, at least ``min_interval_ms`` after the previous hit.
  A sustained sound lifts the slow envelope with it, so a long "tsss" is one hit, not many;
  falling faster than it rises, the slow envelope drops into the short closure before a
  plosive inside a word (the "k" of "and cats"), so the burst rises over it and fires.
- a bank of ``N_BANDS`` band-pass biquads (RBJ, Q 1, centres ``BAND_CENTRES_HZ``) runs all
  the time, so the band energies of a hit's attack are not coloured by filters starting
  from rest.

From the detection sample on, ``window_ms`` of audio is summarised into ``N_FEATURES``
level-independent features (see :func:`_features`), a small MLP (weights trained by
``models/beatbox/train.py`` on a generated corpus) picks kick, snare, hat or other, and a
hit event is emitted at that very sample with a velocity from the attack's peak level.
Kick and snare play their drum voices. A hat plays the *open* hat and the kernel keeps
following the input: when the sound falls ``gate_db`` below its peak (or the next hit
starts) a release event closes the hat, so the drum hat is as long as the performer's
"ts" or "tsss". The hat is reported as closed when the sound lasted under
``open_hat_ms``, else open. "Other" (voiced sounds, hums) plays nothing.

Latency from a hit's onset to its drum's first sample is the detection delay (well under
1 ms on a sharp attack) plus ``window_ms``; :func:`latency_frames` reports the window part.

Output events go to ``events`` (``MAX_EVENTS``, ``EV_SIZE``) rows: kind (``EV_HIT`` or
``EV_RELEASE``), drum voice, velocity (0..1), frame offset in this block, class label
(index into ``CLASSES``; a hat's hit row says ``HAT_PENDING``, its release row says closed or
open) and the hit's onset in absolute input frames. :func:`process` returns the count.
Everything lives in one float64 state array; nothing allocates, and output does not depend
on how the input is cut into blocks.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from dsp import drums, envelope
from dsp.events import append_row
from dsp.units import db_to_gain

CLASSES = ("kick", "snare", "hat_closed", "hat_open", "other")
KICK, SNARE, HAT_CLOSED, HAT_OPEN, OTHER = range(5)
HAT_PENDING = -1  # label of a hat's hit event: closed or open is known at its release
# What the classifier outputs (hats are one class until their length is known).
MODEL_CLASSES = ("kick", "snare", "hat", "other")
M_KICK, M_SNARE, M_HAT, M_OTHER = range(4)
_MODEL_TO_LABEL = np.array([KICK, SNARE, HAT_PENDING, OTHER], dtype=np.int64)
_MODEL_TO_VOICE = np.array([drums.KICK, drums.SNARE, drums.HAT_OPEN, -1], dtype=np.int64)

BAND_CENTRES_HZ = (100.0, 250.0, 600.0, 1400.0, 3000.0, 6000.0, 11000.0)
N_BANDS = len(BAND_CENTRES_HZ)
N_FEATURES = 2 * N_BANDS + 3
FEATURE_NAMES = tuple(f"band_{int(f)}_hz_{half}_rel_db" for half in ("first", "second")
                      for f in BAND_CENTRES_HZ) + (
    "zero_crossings_per_ms", "slope_db", "growth_db")

EV_HIT, EV_RELEASE = 1.0, 2.0
EV_SIZE = 6
(EV_KIND, EV_VOICE, EV_VELOCITY, EV_OFFSET, EV_LABEL, EV_ONSET) = range(EV_SIZE)
MAX_EVENTS = 16

FAST_ATTACK_MS = 0.2
FAST_RELEASE_MS = 10.0
SLOW_MS = 40.0
SLOW_RELEASE_MS = 20.0
VELOCITY_FLOOR_DB = -40.0  # attack peaks map linearly from here (velocity 0.25) ...
VELOCITY_FULL_DB = -6.0  # ... to here (velocity 1)
_EPS = 1e-12

# Header of the state array.
(_SR, _THRESH, _RATIO, _MIN_GAP, _WINDOW, _GATE, _OPEN, _A_FAST, _R_FAST, _A_SLOW, _FAST,
 _SLOW, _T, _LAST_ONSET, _MODE, _COUNT, _PEAK, _ZC, _PREV, _HAT_ONSET, _HAT_PEAK,
 _HAT_MIN, _R_SLOW) = range(23)
_ACC = 24  # accumulators: N_BANDS band energies (first half, second half), diff, energy
_N_ACC = 2 * N_BANDS + 4
_BQ = _ACC + _N_ACC  # per band: b0 b1 b2 a1 a2 z1 z2
_BQ_SIZE = 7
STATE_LEN = _BQ + N_BANDS * _BQ_SIZE
_IDLE, _COLLECT = 0.0, 1.0
_HAT_MIN_MS = 15.0  # never close a hat sooner: the attack of a "ts" dips before its hiss


def prepare(sample_rate_hz: float, threshold_db: float = -45.0, ratio_db: float = 9.0,
            min_interval_ms: float = 50.0, window_ms: float = 6.0, gate_db: float = 15.0,
            open_hat_ms: float = 100.0, slow_release_ms: float = SLOW_RELEASE_MS) -> np.ndarray:
    """A trigger state (float64 ``(STATE_LEN,)``) for ``sample_rate_hz``.

    threshold_db: absolute floor (dBFS of the fast envelope) a hit must reach; ratio_db: how
    far it must rise over the slow envelope; window_ms: audio after detection the classifier
    sees (it is also the trigger latency); gate_db: drop below a hat's peak that ends it;
    open_hat_ms: hats at least this long are reported open.
    """
    if not sample_rate_hz > 0:
        raise ValueError(f"sample_rate_hz {sample_rate_hz} must be positive")
    if not 0.5 <= window_ms <= 20.0:
        raise ValueError(f"window_ms {window_ms} outside 0.5..20")
    st = np.zeros(STATE_LEN)
    st[_SR] = sample_rate_hz
    st[_WINDOW] = max(2, round(window_ms * 1e-3 * sample_rate_hz))
    st[_MIN_GAP] = round(min_interval_ms * 1e-3 * sample_rate_hz)
    st[_OPEN] = round(open_hat_ms * 1e-3 * sample_rate_hz)
    st[_HAT_MIN] = round(_HAT_MIN_MS * 1e-3 * sample_rate_hz)
    st[_A_FAST] = 1.0 - envelope.decay_coef(FAST_ATTACK_MS, sample_rate_hz)
    st[_R_FAST] = 1.0 - envelope.decay_coef(FAST_RELEASE_MS, sample_rate_hz)
    st[_A_SLOW] = 1.0 - envelope.decay_coef(SLOW_MS, sample_rate_hz)
    st[_R_SLOW] = 1.0 - envelope.decay_coef(slow_release_ms, sample_rate_hz)
    set_params(st, threshold_db, ratio_db, gate_db)
    for k, fc in enumerate(BAND_CENTRES_HZ):
        # RBJ band-pass, 0 dB peak; bands above 0.45 fs sit at 0.45 fs (low rates only: the
        # classifier was trained at 48 kHz and is meant for 44.1 kHz and up)
        w0 = 2.0 * math.pi * min(fc, 0.45 * sample_rate_hz) / sample_rate_hz
        alpha = math.sin(w0) / 2.0  # Q = 1
        a0 = 1.0 + alpha
        b = _BQ + k * _BQ_SIZE
        st[b: b + 5] = (alpha / a0, 0.0, -alpha / a0, -2.0 * math.cos(w0) / a0,
                        (1.0 - alpha) / a0)
    reset(st)
    return st


@njit(nogil=True, cache=True)
def set_params(st: np.ndarray, threshold_db: float, ratio_db: float, gate_db: float) -> None:
    """Change the detection floor, rise ratio and hat gate (dB) live."""
    st[_THRESH] = db_to_gain(threshold_db)
    st[_RATIO] = db_to_gain(ratio_db)
    st[_GATE] = db_to_gain(-abs(gate_db))


@njit(nogil=True, cache=True)
def reset(st: np.ndarray) -> None:
    """Forget envelopes, filter memories and any hit in progress."""
    # the running values only: _HAT_MIN and _R_SLOW after them are settings
    for i in range(_FAST, _HAT_MIN):
        st[i] = 0.0
    for i in range(_ACC, _BQ):
        st[i] = 0.0
    st[_LAST_ONSET] = -1e18
    st[_HAT_ONSET] = -1.0
    for k in range(N_BANDS):
        b = _BQ + k * _BQ_SIZE
        st[b + 5] = 0.0
        st[b + 6] = 0.0


def latency_frames(st: np.ndarray) -> int:
    """Frames from detection to the drum event (the classifier's window)."""
    return int(st[_WINDOW])


@njit(nogil=True, cache=True)
def _features(st: np.ndarray, out: np.ndarray) -> None:
    """The ``N_FEATURES`` features of the collected window, into ``out``.

    Band energies of the window's first and second half in dB relative to the loudest
    band-half (so gain does not matter, and the shape over time shows: a pop falls, a
    hiss grows), zero crossings per millisecond, first-difference energy over signal
    energy in dB (a brightness slope), and second-half over first-half energy in dB.
    """
    top = _EPS
    for k in range(2 * N_BANDS):
        top = max(top, st[_ACC + k])
    first = _EPS
    second = _EPS
    for k in range(N_BANDS):
        out[k] = 10.0 * math.log10(st[_ACC + k] / top + 1e-6)
        out[N_BANDS + k] = 10.0 * math.log10(st[_ACC + N_BANDS + k] / top + 1e-6)
        first += st[_ACC + k]
        second += st[_ACC + N_BANDS + k]
    window_ms = st[_WINDOW] * 1000.0 / st[_SR]
    out[2 * N_BANDS] = st[_ZC] / window_ms
    out[2 * N_BANDS + 1] = 10.0 * math.log10((st[_ACC + 2 * N_BANDS] + _EPS)
                                             / (st[_ACC + 2 * N_BANDS + 1] + _EPS))
    out[2 * N_BANDS + 2] = 10.0 * math.log10(second / first)


@njit(nogil=True, cache=True)
def classify(weights: np.ndarray, feats: np.ndarray) -> int:
    """Index into ``MODEL_CLASSES`` of the MLP's largest output for ``feats``.

    ``weights`` is the flat layout of :func:`pack_weights`: hidden size, then feature mean
    and std, then W1 (N_FEATURES x H), b1, W2 (H x 4), b2.
    """
    h_n = int(weights[0])
    mean = 1
    std = mean + N_FEATURES
    w1 = std + N_FEATURES
    b1 = w1 + N_FEATURES * h_n
    w2 = b1 + h_n
    b2 = w2 + h_n * len(MODEL_CLASSES)
    best = 0
    best_v = -1e300
    for c in range(len(MODEL_CLASSES)):
        v = weights[b2 + c]
        for j in range(h_n):
            a = weights[b1 + j]
            for f in range(N_FEATURES):
                a += (feats[f] - weights[mean + f]) / weights[std + f] * weights[w1 + f * h_n + j]
            v += math.tanh(a) * weights[w2 + j * len(MODEL_CLASSES) + c]
        if v > best_v:
            best, best_v = c, v
    return best


def pack_weights(mean: np.ndarray, std: np.ndarray, w1: np.ndarray, b1: np.ndarray,
                 w2: np.ndarray, b2: np.ndarray) -> np.ndarray:
    """Flatten an MLP (tanh hidden layer) into the float64 array :func:`classify` reads."""
    h_n = w1.shape[1]
    if w1.shape != (N_FEATURES, h_n) or w2.shape != (h_n, len(MODEL_CLASSES)):
        raise ValueError(f"MLP shapes {w1.shape} / {w2.shape} do not fit {N_FEATURES} "
                         f"features and {len(MODEL_CLASSES)} classes")
    parts = [np.array([h_n]), mean, np.maximum(std, 1e-6), w1.ravel(), b1, w2.ravel(), b2]
    return np.concatenate([np.asarray(p, dtype=np.float64).ravel() for p in parts])


@njit(nogil=True, cache=True)
def _emit(events, n_ev, kind, voice, velocity, offset, label, onset) -> int:
    # columns in EV_* order; more than MAX_EVENTS in one block cannot happen at
    # min_interval >= 1 ms
    return append_row(events, n_ev, (float(kind), float(voice), float(velocity),
                                     float(offset), float(label), float(onset)))


@njit(nogil=True, cache=True)
def _close_hat(st, events, n_ev, i) -> int:
    length = st[_T] - st[_HAT_ONSET]
    label = HAT_OPEN if length >= st[_OPEN] else HAT_CLOSED
    n_ev = _emit(events, n_ev, EV_RELEASE, drums.HAT_OPEN, 0.0, i, label, st[_HAT_ONSET])
    st[_HAT_ONSET] = -1.0
    return n_ev


@njit(nogil=True, cache=True)
def process(st: np.ndarray, weights: np.ndarray, x: np.ndarray, n: int,
            events: np.ndarray, feats: np.ndarray) -> int:
    """Run over frames ``[0, n)`` of planar ``x (channels, >= n)``; returns events written.

    ``feats`` is ``(N_FEATURES,)`` scratch. See the module doc for the event rows.
    """
    channels = x.shape[0]
    a_fast, r_fast, a_slow, r_slow = st[_A_FAST], st[_R_FAST], st[_A_SLOW], st[_R_SLOW]
    fast, slow, prev = st[_FAST], st[_SLOW], st[_PREV]
    n_ev = 0
    for i in range(n):
        s = 0.0
        for c in range(channels):
            s += x[c, i]
        s /= channels
        a = abs(s)
        fast += (a_fast if a > fast else r_fast) * (a - fast)
        t = st[_T]
        collecting = st[_MODE] == _COLLECT
        half = N_BANDS if st[_COUNT] >= 0.5 * st[_WINDOW] else 0
        for k in range(N_BANDS):
            b = _BQ + k * _BQ_SIZE
            y = st[b] * s + st[b + 5]
            st[b + 5] = st[b + 1] * s - st[b + 3] * y + st[b + 6]
            st[b + 6] = st[b + 2] * s - st[b + 4] * y
            if collecting:
                st[_ACC + half + k] += y * y
        if collecting:
            d = s - prev
            st[_ACC + 2 * N_BANDS] += d * d
            st[_ACC + 2 * N_BANDS + 1] += s * s
            if (s >= 0.0) != (prev >= 0.0):
                st[_ZC] += 1.0
            st[_PEAK] = max(st[_PEAK], fast)
            st[_COUNT] += 1.0
            if st[_COUNT] >= st[_WINDOW]:
                st[_MODE] = _IDLE
                _features(st, feats)
                m = classify(weights, feats)
                peak_db = 20.0 * math.log10(st[_PEAK] + _EPS)
                vel = 0.25 + 0.75 * (peak_db - VELOCITY_FLOOR_DB) / (
                    VELOCITY_FULL_DB - VELOCITY_FLOOR_DB)
                vel = min(1.0, max(0.1, vel))
                if _MODEL_TO_VOICE[m] >= 0:
                    n_ev = _emit(events, n_ev, EV_HIT, _MODEL_TO_VOICE[m], vel, i,
                                 _MODEL_TO_LABEL[m], st[_LAST_ONSET])
                else:
                    n_ev = _emit(events, n_ev, EV_HIT, -1.0, 0.0, i, OTHER, st[_LAST_ONSET])
                if m == M_HAT:
                    st[_HAT_ONSET] = st[_LAST_ONSET]
                    st[_HAT_PEAK] = st[_PEAK]
        elif (fast > st[_THRESH] and fast > st[_RATIO] * slow
              and t - st[_LAST_ONSET] >= st[_MIN_GAP]):
            if st[_HAT_ONSET] >= 0.0:  # a new hit ends the hat still sounding
                n_ev = _close_hat(st, events, n_ev, i)
            st[_MODE] = _COLLECT
            st[_LAST_ONSET] = t
            st[_COUNT] = 0.0
            st[_PEAK] = fast
            st[_ZC] = 0.0
            for k in range(_N_ACC):
                st[_ACC + k] = 0.0
        if st[_HAT_ONSET] >= 0.0 and st[_MODE] == _IDLE:
            st[_HAT_PEAK] = max(st[_HAT_PEAK], fast)
            if (fast < st[_GATE] * st[_HAT_PEAK]
                    and t - st[_HAT_ONSET] >= st[_HAT_MIN]):
                n_ev = _close_hat(st, events, n_ev, i)
        slow += (a_slow if fast > slow else r_slow) * (fast - slow)
        prev = s
        st[_T] = t + 1.0
    st[_FAST], st[_SLOW], st[_PREV] = fast, slow, prev
    return n_ev


def detect(x: np.ndarray, sample_rate_hz: float, weights: np.ndarray, block: int = 128,
           **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """Offline helper: run the trigger over ``x`` (``(n,)`` or ``(n, channels)``).

    Returns ``(events, features)``: the events as ``(k, EV_SIZE + 1)`` float64 rows with
    the absolute frame each fires at appended, and for every ``EV_HIT`` row, in order, the
    ``(N_FEATURES,)`` features the classifier saw (training reads these, so it learns
    from exactly what the live trigger computes). ``kwargs`` go to :func:`prepare`.
    """
    x = np.asarray(x, dtype=np.float32)
    planar = np.ascontiguousarray(x.reshape(x.shape[0], -1).T)
    st = prepare(sample_rate_hz, **kwargs)
    min_gap = int(st[_MIN_GAP])
    if block > max(1, min_gap):
        raise ValueError(f"block {block} must not exceed the minimum hit interval "
                         f"({min_gap} frames): features are kept per block")
    events = np.zeros((MAX_EVENTS, EV_SIZE))
    feats = np.zeros(N_FEATURES)
    rows, hit_feats = [], []
    for start in range(0, planar.shape[1], block):
        chunk = planar[:, start: start + block]
        k = process(st, weights, chunk, chunk.shape[1], events, feats)
        for r in events[:k]:
            rows.append(np.append(r, start + r[EV_OFFSET]))
            if r[EV_KIND] == EV_HIT:
                hit_feats.append(feats.copy())
    return (np.array(rows).reshape(-1, EV_SIZE + 1),
            np.array(hit_feats).reshape(-1, N_FEATURES))


def resolve_hits(events: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The hits among ``detect``'s events, with each hat's class taken from its release.

    Returns ``(hits, labels, release_frames)``: the ``EV_HIT`` rows, their final labels
    (a hat's release names it closed or open; a hat still sounding at the end of the input
    stays ``HAT_PENDING``) and the frame each hat was released at (-1 for the others).
    """
    kind = events[:, EV_KIND]
    hits = events[kind == EV_HIT]
    labels = hits[:, EV_LABEL].astype(np.int64)
    release_frames = np.full(hits.shape[0], -1, dtype=np.int64)
    # a release carries its hit's onset frame, which no other hit shares (min interval)
    row_of = {int(h[EV_ONSET]): i for i, h in enumerate(hits)}
    for r in events[kind == EV_RELEASE]:
        i = row_of[int(r[EV_ONSET])]
        labels[i] = int(r[EV_LABEL])
        release_frames[i] = int(r[-1])
    return hits, labels, release_frames
