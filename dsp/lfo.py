"""Low-frequency oscillator for modulation: six shapes, free or tempo-synced rate.

Output is bipolar in [-1, 1]; :func:`to_unipolar` maps it to [0, 1]. The phase is kept in
cycles (0..1). The random shapes use their own xorshift32 generator kept in the state, so a
given seed always yields the same modulation, independently of block size.

State is one float64 array (see the ``_`` slot constants); every value in it, including the
generator word (an integer below 2**32, exact in float64), is plain data the callback can hold.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from numba import njit

# Shapes (integer constants so they can be passed from jitted code).
SINE = 0
TRIANGLE = 1
SQUARE = 2
SAW = 3
SAMPLE_AND_HOLD = 4
SMOOTH_RANDOM = 5
N_SHAPES = 6

# Range a free-running rate knob should offer; tempo-synced rates may go outside it.
FREE_RATE_MIN_HZ = 0.1
FREE_RATE_MAX_HZ = 10.0

# State slots.
_PHASE = 0  # current phase in cycles, [0, 1), offset already included
_INC = 1  # phase increment per sample (rate_hz / sample_rate_hz)
_SHAPE = 2
_OFFSET = 3  # phase offset in cycles, [0, 1)
_RNG = 4  # xorshift32 word
_SEED = 5  # word restored by reset()
_HOLD = 6  # sample-and-hold value
_PREV = 7  # smooth random: value at the start of the current cycle
_NEXT = 8  # smooth random: value at the end of the current cycle
_SR = 9
_RATE = 10
_SIZE = 11

_MASK32 = 0xFFFFFFFF


def _seed_word(seed: int) -> int:
    # xorshift has a fixed point at 0, so map the seed to a non-zero 32-bit word.
    word = (int(seed) * 2654435761 + 0x9E3779B9) & _MASK32
    return word if word != 0 else 0x6D2B79F5


def prepare(
    sample_rate_hz: float,
    rate_hz: float = 1.0,
    shape: int = SINE,
    phase_deg: float = 0.0,
    seed: int = 1,
) -> np.ndarray:
    """Allocate an LFO state.

    sample_rate_hz: audio rate the LFO advances at; rate_hz: cycles per second (free range
    0.1-10 Hz, see :func:`tempo_sync_hz` for synced rates); shape: one of SINE, TRIANGLE,
    SQUARE, SAW, SAMPLE_AND_HOLD, SMOOTH_RANDOM; phase_deg: phase offset in degrees applied at
    start and on retrigger; seed: integer seed of the random shapes. Returns float64 (11,).
    """
    if sample_rate_hz <= 0:
        raise ValueError("sample_rate_hz must be positive")
    if not 0 <= shape < N_SHAPES:
        raise ValueError(f"unknown shape {shape}")
    state = np.zeros(_SIZE, dtype=np.float64)
    state[_SR] = sample_rate_hz
    state[_SHAPE] = shape
    state[_SEED] = _seed_word(seed)
    set_rate(state, rate_hz)
    set_phase_offset(state, phase_deg)
    reset(state)
    return state


@njit(nogil=True, cache=True)
def _next_random(state: np.ndarray) -> float:
    """Advance the xorshift32 word; return a uniform value in [-1, 1)."""
    w = np.int64(state[_RNG])
    # int64 arithmetic with explicit masking keeps xorshift32 exact without unsigned types.
    w ^= (w << 13) & _MASK32
    w ^= w >> 17
    w ^= (w << 5) & _MASK32
    state[_RNG] = w
    return w / 2147483648.0 - 1.0


@njit(nogil=True, cache=True)
def _new_cycle(state: np.ndarray) -> None:
    # Random shapes draw exactly one value per cycle so the sequence depends only on the
    # number of cycles elapsed, not on how the audio was cut into blocks.
    state[_HOLD] = _next_random(state)
    state[_PREV] = state[_NEXT]
    state[_NEXT] = state[_HOLD]


@njit(nogil=True, cache=True)
def reset(state: np.ndarray) -> None:
    """Restore the state prepare() produced: phase at the offset, generator reseeded."""
    state[_RNG] = state[_SEED]
    state[_PHASE] = state[_OFFSET]
    state[_NEXT] = _next_random(state)
    _new_cycle(state)


@njit(nogil=True, cache=True)
def retrigger(state: np.ndarray) -> None:
    """Restart the cycle (note-on sync): phase back to the offset, random shapes step on.

    The smooth random shape restarts from its current value so retriggering does not jump.
    """
    current = value_at(state)
    state[_PHASE] = state[_OFFSET]
    _new_cycle(state)
    state[_PREV] = current


@njit(nogil=True, cache=True)
def set_rate(state: np.ndarray, rate_hz: float) -> None:
    """Set the rate in Hz (cycles per second); clamped to [0, sample_rate_hz / 4]."""
    rate_hz = min(max(rate_hz, 0.0), 0.25 * state[_SR])
    state[_RATE] = rate_hz
    state[_INC] = rate_hz / state[_SR]


@njit(nogil=True, cache=True)
def set_shape(state: np.ndarray, shape: int) -> None:
    """Select the waveform (SINE … SMOOTH_RANDOM); out-of-range values are clamped."""
    state[_SHAPE] = min(max(shape, 0), N_SHAPES - 1)


@njit(nogil=True, cache=True)
def set_phase_offset(state: np.ndarray, phase_deg: float) -> None:
    """Set the phase offset in degrees; the running phase moves by the change, no restart."""
    offset = (phase_deg / 360.0) % 1.0
    phase = state[_PHASE] + offset - state[_OFFSET]
    state[_PHASE] = phase - math.floor(phase)
    state[_OFFSET] = offset


@njit(nogil=True, cache=True)
def shape_value(shape: int, phase: float, hold: float, prev: float, nxt: float) -> float:
    """Waveform value in [-1, 1] at ``phase`` (cycles, [0, 1)).

    sine = sin(2*pi*phase); triangle = 0 at phase 0, +1 at 0.25, -1 at 0.75 (in phase with the
    sine); square = +1 for phase < 0.5 else -1; saw = ramp 2*phase - 1 (rising, -1 at cycle
    start); sample-and-hold = ``hold``; smooth random = raised-cosine glide ``prev`` -> ``nxt``.
    """
    if shape == SINE:
        return math.sin(2.0 * math.pi * phase)
    if shape == TRIANGLE:
        p = phase + 0.25
        p -= math.floor(p)
        return 1.0 - 4.0 * abs(p - 0.5)
    if shape == SQUARE:
        return 1.0 if phase < 0.5 else -1.0
    if shape == SAW:
        return 2.0 * phase - 1.0
    if shape == SAMPLE_AND_HOLD:
        return hold
    return prev + (nxt - prev) * 0.5 * (1.0 - math.cos(math.pi * phase))


@njit(nogil=True, cache=True)
def value_at(state: np.ndarray) -> float:
    """Current output in [-1, 1] without advancing."""
    return shape_value(
        int(state[_SHAPE]), state[_PHASE], state[_HOLD], state[_PREV], state[_NEXT]
    )


@njit(nogil=True, cache=True)
def _advance(state: np.ndarray, n_frames: int) -> None:
    phase = state[_PHASE] + state[_INC] * n_frames
    wraps = int(math.floor(phase))
    state[_PHASE] = phase - wraps
    for _ in range(wraps):
        _new_cycle(state)


@njit(nogil=True, cache=True)
def process_block(state: np.ndarray, n_frames: int) -> float:
    """Control-rate output: the value at the block start, then advance by n_frames samples.

    Returns one float in [-1, 1]. Random shapes step once per completed cycle, as in process().
    """
    value = value_at(state)
    _advance(state, n_frames)
    return value


@njit(nogil=True, cache=True)
def process(state: np.ndarray, out: np.ndarray) -> None:
    """Audio-rate output: write one value per sample into ``out`` (1-D, n_frames), [-1, 1]."""
    shape = int(state[_SHAPE])
    inc = state[_INC]
    phase = state[_PHASE]
    for i in range(out.shape[0]):
        out[i] = shape_value(shape, phase, state[_HOLD], state[_PREV], state[_NEXT])
        phase += inc
        if phase >= 1.0:
            phase -= 1.0  # inc < 1 (rate clamped to sr / 4), so one wrap at most
            _new_cycle(state)
    state[_PHASE] = phase


@njit(nogil=True, cache=True)
def to_unipolar(value: float) -> float:
    """Map a bipolar value in [-1, 1] to [0, 1]."""
    return 0.5 * (value + 1.0)


def _parse_division(division: float | str) -> tuple[float, float]:
    """Return (length in whole notes, multiplier) from 0.25, '1/4', '1/8.' or '1/8t'."""
    if not isinstance(division, str):
        return float(division), 1.0
    text = division.strip().lower()
    multiplier = 1.0
    if text.endswith(("d", ".")):
        multiplier, text = 1.5, text[:-1]
    elif text.endswith("t"):
        multiplier, text = 2.0 / 3.0, text[:-1]
    return float(Fraction(text)), multiplier


def tempo_sync_hz(
    bpm: float, division: float | str, dotted: bool = False, triplet: bool = False
) -> float:
    """LFO rate in Hz for one cycle per note value at a tempo.

    bpm: quarter notes per minute; division: note length in whole notes (0.25 or '1/4' =
    quarter, 1.0 = one 4/4 bar, 2.0 = two bars); a string may end in '.' or 'd' (dotted) or
    't' (triplet). dotted multiplies the note length by 3/2, triplet by 2/3.
    Example: 120 bpm, '1/4' -> 2.0 Hz; '1/8t' -> 6.0 Hz; '1/4.' -> 1.333 Hz.
    """
    if bpm <= 0:
        raise ValueError("bpm must be positive")
    whole_notes, multiplier = _parse_division(division)
    if whole_notes <= 0:
        raise ValueError("division must be positive")
    if dotted:
        multiplier *= 1.5
    if triplet:
        multiplier *= 2.0 / 3.0
    seconds = whole_notes * multiplier * 4.0 * 60.0 / bpm
    return 1.0 / seconds
