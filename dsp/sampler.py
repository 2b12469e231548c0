"""Polyphonic sampler voice over a sample bank: pitched slices, indexed slices, granular.

The bank is one float32 buffer ``bank (1, frames)`` holding every slice back to back at the
engine rate, and a slice table ``table (n_slices, TABLE_COLS)``: start frame, length in
frames, MIDI note of the slice's pitch (``NO_PITCH`` when it has none). Both are built by
``engine/bank/`` from a bank directory and never change while the voice runs.

Modes (``params[P_MODE]``):

- ``MODE_PITCH``: a note plays the slice whose pitch is nearest to it, resampled (linear
  interpolation) by ``2 ** ((note - slice_note) / 12)``; slices without pitch are taken
  as middle C (note 60) when no slice has one.
- ``MODE_INDEX``: note ``BASE_NOTE`` + k plays slice k (modulo the slice count) at its
  own pitch: pads, one-shots, drums.
- ``MODE_GRANULAR``: a held note plays a cloud of Hann-windowed grains read from the
  whole bank: ``grain_ms`` long, ``density_hz`` new grains per second, centred on
  ``position`` (0..1 of the bank) plus up to ``spray`` (0..1 of the bank) of random
  offset, transposed by ``pitch_st`` plus the note's distance from middle C.

Every voice has a linear attack (``attack_ms``) and release (``release_ms``, from note-off);
pitched and indexed voices also end with their slice. ``params[P_PITCH_ST]`` transposes
every mode. All parameters are read per block, so macros and LFOs may move them.

Notes are queued with :func:`note_on` / :func:`note_off` at a frame offset into the next
:func:`process` call (sample accurate). :func:`trigger_slice` / :func:`release_slice` play
one slice by number at its own pitch whatever the mode (a drum kit: the engine's beatbox
and MIDI drum hits play a bank's kick, snare and hat slices this way). ``N_VOICES`` notes
sound at once; another steals the oldest. Grains use a per-state xorshift generator, so
the output depends only on the seed and the notes, not on the block size. Nothing
allocates.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from dsp import events

MODE_PITCH, MODE_INDEX, MODE_GRANULAR = 0, 1, 2
MODES = ("pitch", "index", "granular")
BASE_NOTE = 36  # index mode: this note plays slice 0 (C2, the first pad of most controllers)
SLICE_NOTE = 128  # queued "notes" from here up are slice numbers (trigger_slice)
MIDDLE_C = 60
NO_PITCH = -1.0
TABLE_COLS = 3
T_START, T_LENGTH, T_NOTE = range(TABLE_COLS)

# params layout (the engine fills it from the registry every block)
(P_MODE, P_ATTACK_MS, P_RELEASE_MS, P_GRAIN_MS, P_DENSITY_HZ, P_POSITION, P_SPRAY,
 P_PITCH_ST) = range(8)
N_PARAMS = 8

N_VOICES = 16
N_GRAINS = 12  # per voice: density x grain length above this drops grains, never clicks

# header
_SR, _RNG, _SERIAL, _N_EVENTS, _MAX_EVENTS = range(5)
_HEADER = 8
# queued events (dsp/events.py): note, velocity (0 = note off), offset_frames
# voice fields
(_V_ACTIVE, _V_NOTE, _V_SERIAL, _V_VEL, _V_ENV, _V_RELEASING, _V_START, _V_LENGTH, _V_POS,
 _V_RATE, _V_SPAWN, _V_RNG) = range(12)
_V_GRAINS = 12
_G_SIZE = 4  # per grain: active, read position, rate, window phase
_VOICE_SIZE = _V_GRAINS + N_GRAINS * _G_SIZE


def prepare(sample_rate_hz: float, max_events: int = 64, seed: int = 1) -> np.ndarray:
    """A sampler state (float64, 1-D) for ``sample_rate_hz``."""
    if not sample_rate_hz > 0:
        raise ValueError(f"sample_rate_hz {sample_rate_hz} must be positive")
    if max_events < 1:
        raise ValueError("max_events must be at least 1")
    st = np.zeros(_HEADER + events.EV_SIZE * max_events + N_VOICES * _VOICE_SIZE)
    st[_SR] = sample_rate_hz
    st[_MAX_EVENTS] = max_events
    st[_RNG] = events.seed_word(seed)
    return st


def default_params() -> np.ndarray:
    """Pitch mode, 5 ms attack, 200 ms release, 80 ms grains at 20 Hz, centre, no spray."""
    p = np.zeros(N_PARAMS)
    p[P_MODE] = MODE_PITCH
    p[P_ATTACK_MS] = 5.0
    p[P_RELEASE_MS] = 200.0
    p[P_GRAIN_MS] = 80.0
    p[P_DENSITY_HZ] = 20.0
    p[P_POSITION] = 0.5
    return p


def empty_bank() -> tuple[np.ndarray, np.ndarray]:
    """A bank with no slices (the voice stays silent)."""
    return np.zeros((1, 1), np.float32), np.zeros((0, TABLE_COLS))


@njit(nogil=True, cache=True)
def reset(st: np.ndarray) -> None:
    """Silence every voice and drop queued notes."""
    st[_N_EVENTS] = 0.0
    st[_SERIAL] = 0.0
    st[_HEADER:] = 0.0


@njit(nogil=True, cache=True)
def _queue(st: np.ndarray, note: int, velocity: float, offset_frames: int) -> bool:
    if not 0 <= note <= 127:
        return False
    return events.push(st, _N_EVENTS, _MAX_EVENTS, _HEADER, note, velocity, offset_frames)


@njit(nogil=True, cache=True)
def note_on(st: np.ndarray, note: int, velocity: float, offset_frames: int) -> bool:
    """Queue a note (0..127, velocity 0..1] ``offset_frames`` into the next process call."""
    if not velocity > 0.0:
        return False
    return _queue(st, note, min(velocity, 1.0), offset_frames)


@njit(nogil=True, cache=True)
def note_off(st: np.ndarray, note: int, offset_frames: int) -> bool:
    """Queue the release of every voice playing ``note``."""
    return _queue(st, note, 0.0, offset_frames)


@njit(nogil=True, cache=True)
def trigger_slice(st: np.ndarray, slice_index: int, velocity: float, offset_frames: int) -> bool:
    """Queue slice ``slice_index`` at its own pitch (any mode); velocity in (0, 1]."""
    if slice_index < 0 or not velocity > 0.0:
        return False
    return events.push(st, _N_EVENTS, _MAX_EVENTS, _HEADER, SLICE_NOTE + slice_index,
                       min(velocity, 1.0), offset_frames)


@njit(nogil=True, cache=True)
def release_slice(st: np.ndarray, slice_index: int, offset_frames: int) -> bool:
    """Queue the release of every voice playing slice ``slice_index``."""
    if slice_index < 0:
        return False
    return events.push(st, _N_EVENTS, _MAX_EVENTS, _HEADER, SLICE_NOTE + slice_index, 0.0,
                       offset_frames)


@njit(nogil=True, cache=True)
def _uniform(st: np.ndarray, at: int) -> float:
    """Next uniform [0, 1) from the generator word stored at ``st[at]``."""
    w = events.xorshift32(np.int64(st[at]))
    st[at] = w
    return w / 4294967296.0


@njit(nogil=True, cache=True)
def _voice(st: np.ndarray, v: int) -> int:
    return _HEADER + events.EV_SIZE * int(st[_MAX_EVENTS]) + v * _VOICE_SIZE


@njit(nogil=True, cache=True)
def _nearest_slice(table: np.ndarray, note: float) -> int:
    best, dist = -1, 1e300
    for s in range(table.shape[0]):
        if table[s, T_NOTE] != NO_PITCH and abs(table[s, T_NOTE] - note) < dist:
            best, dist = s, abs(table[s, T_NOTE] - note)
    return best


@njit(nogil=True, cache=True)
def _start(st, table, params, note, velocity) -> None:
    n_slices = table.shape[0]
    if n_slices == 0:
        return
    chosen = -1
    oldest = 1e300
    for v in range(N_VOICES):
        b = _voice(st, v)
        if st[b + _V_ACTIVE] == 0.0:
            chosen = v
            break
        if st[b + _V_SERIAL] < oldest:
            chosen, oldest = v, st[b + _V_SERIAL]
    b = _voice(st, chosen)
    for k in range(_VOICE_SIZE):
        st[b + k] = 0.0
    mode = int(params[P_MODE])
    if note >= SLICE_NOTE:  # trigger_slice: that slice, as recorded
        s = int(note) - SLICE_NOTE
        if s >= n_slices:
            return
        mode = MODE_INDEX
    else:
        s = -1 if mode == MODE_INDEX else _nearest_slice(table, note)
    if s < 0:  # index mode, or no pitched slice: notes count slices from BASE_NOTE
        s = (note - BASE_NOTE) % n_slices
    if mode == MODE_INDEX:
        semis = 0.0
    elif mode == MODE_GRANULAR or table[s, T_NOTE] == NO_PITCH:
        semis = note - MIDDLE_C  # grains (and unpitched slices) sound at C4 for note 60
    else:
        semis = note - table[s, T_NOTE]
    semis += params[P_PITCH_ST]
    st[_SERIAL] += 1.0
    st[b + _V_ACTIVE] = 1.0
    st[b + _V_NOTE] = note
    st[b + _V_SERIAL] = st[_SERIAL]
    st[b + _V_VEL] = velocity
    st[b + _V_START] = table[s, T_START]
    st[b + _V_LENGTH] = table[s, T_LENGTH]
    st[b + _V_RATE] = 2.0 ** (semis / 12.0)
    # each voice draws its grains from its own generator, seeded in note order, so how the
    # audio is cut into blocks cannot change which voice gets which random number
    _uniform(st, _RNG)
    st[b + _V_RNG] = st[_RNG]


@njit(nogil=True, cache=True)
def _release(st, note) -> None:
    for v in range(N_VOICES):
        b = _voice(st, v)
        if st[b + _V_ACTIVE] != 0.0 and st[b + _V_NOTE] == note:
            st[b + _V_RELEASING] = 1.0


@njit(nogil=True, cache=True)
def _read(bank, pos) -> float:
    i = int(pos)
    frac = pos - i
    n = bank.shape[1]
    if i < 0 or i >= n:
        return 0.0
    nxt = bank[0, i + 1] if i + 1 < n else 0.0
    return bank[0, i] + frac * (nxt - bank[0, i])


@njit(nogil=True, cache=True)
def _envelope(st, b, attack_inc, release_dec) -> float:
    env = st[b + _V_ENV]
    if st[b + _V_RELEASING] != 0.0:
        env -= release_dec
        if env <= 0.0:
            st[b + _V_ACTIVE] = 0.0
            env = 0.0
    elif env < 1.0:
        env = min(1.0, env + attack_inc)
    st[b + _V_ENV] = env
    return env


@njit(nogil=True, cache=True)
def _render(st, bank, params, out, i0, i1) -> None:
    sr = st[_SR]
    attack_inc = 1.0 / max(1.0, params[P_ATTACK_MS] * 1e-3 * sr)
    release_dec = 1.0 / max(1.0, params[P_RELEASE_MS] * 1e-3 * sr)
    granular = int(params[P_MODE]) == MODE_GRANULAR
    grain_len = max(16.0, params[P_GRAIN_MS] * 1e-3 * sr)
    spawn_every = sr / max(0.1, params[P_DENSITY_HZ])
    # grains overlap grain_len / spawn_every deep; unrelated grains add in power, so this
    # keeps the cloud's level about the same whatever the density and grain size
    cloud_norm = 1.0 / math.sqrt(max(1.0, grain_len / spawn_every))
    bank_len = bank.shape[1]
    for v in range(N_VOICES):
        b = _voice(st, v)
        if st[b + _V_ACTIVE] == 0.0:
            continue
        gain = st[b + _V_VEL]
        rate = st[b + _V_RATE]
        for i in range(i0, i1):
            env = _envelope(st, b, attack_inc, release_dec)
            if st[b + _V_ACTIVE] == 0.0:
                break
            y = 0.0
            if granular:
                st[b + _V_SPAWN] -= 1.0
                if st[b + _V_SPAWN] <= 0.0:
                    st[b + _V_SPAWN] += spawn_every
                    for g in range(N_GRAINS):
                        gb = b + _V_GRAINS + g * _G_SIZE
                        if st[gb] == 0.0:
                            centre = params[P_POSITION] + params[P_SPRAY] * (
                                2.0 * _uniform(st, b + _V_RNG) - 1.0)
                            centre -= math.floor(centre)  # wrap around the bank
                            st[gb] = 1.0
                            st[gb + 1] = centre * bank_len
                            st[gb + 2] = rate
                            st[gb + 3] = 0.0
                            break
                for g in range(N_GRAINS):
                    gb = b + _V_GRAINS + g * _G_SIZE
                    if st[gb] == 0.0:
                        continue
                    phase = st[gb + 3]
                    w = 0.5 - 0.5 * math.cos(2.0 * math.pi * phase)
                    pos = st[gb + 1]
                    if pos >= bank_len:
                        pos -= bank_len
                    y += w * _read(bank, pos)
                    st[gb + 1] = pos + st[gb + 2]
                    phase += 1.0 / grain_len
                    if phase >= 1.0:
                        st[gb] = 0.0
                    st[gb + 3] = phase
                y *= cloud_norm
            else:
                pos = st[b + _V_POS]
                if pos >= st[b + _V_LENGTH] - 1.0:
                    st[b + _V_ACTIVE] = 0.0
                    break
                y = _read(bank, st[b + _V_START] + pos)
                st[b + _V_POS] = pos + rate
            s = y * env * gain
            out[0, i] += s
            out[1, i] += s


@njit(nogil=True, cache=True)
def process(st: np.ndarray, bank: np.ndarray, table: np.ndarray, params: np.ndarray,
            out: np.ndarray) -> None:
    """Add the sampler into planar stereo ``out (2, n)``, starting and releasing notes."""
    n = out.shape[1]
    pos = 0
    while True:
        best, best_off = events.next_due(st, _N_EVENTS, _HEADER, n)
        _render(st, bank, params, out, pos, best_off)
        if best < 0:
            break
        pos = best_off
        a, vel = events.take(st, _N_EVENTS, _HEADER, best)
        note = int(a)
        if vel > 0.0:
            _start(st, table, params, note, vel)
        else:
            _release(st, note)
    events.age(st, _N_EVENTS, _HEADER, n)


def pack_bank(slices: list[np.ndarray], notes: list[float | None]) -> tuple[np.ndarray,
                                                                          np.ndarray]:
    """Concatenate mono float32 slices (already at the engine rate) into bank and table."""
    if len(slices) != len(notes):
        raise ValueError("one note (or None) per slice")
    if not slices:
        return empty_bank()
    lengths = [s.size for s in slices]
    bank = np.concatenate([np.asarray(s, np.float32).ravel() for s in slices])[None, :]
    table = np.zeros((len(slices), TABLE_COLS))
    table[:, T_START] = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    table[:, T_LENGTH] = lengths
    table[:, T_NOTE] = [NO_PITCH if n is None else float(n) for n in notes]
    return np.ascontiguousarray(bank), table
