"""Continuo's streaming note transcriber: monophonic voice to note-on, pitch bend, note-off.

Runs in the audio callback on the raw input (mono sum). Every ``hop`` samples it takes one
YIN pitch frame (``dsp.pitch``: f0, voicing) and the RMS level of that hop, and a small
state machine turns the frames into note events:

- **Start.** A note starts when ``confirm`` consecutive voiced frames above the level floor
  agree in pitch (each within ``STABLE_ST`` of their running mean). Its pitch is that mean
  (a float MIDI pitch: the note plus a microtonal fraction) and its velocity comes from the
  loudest hop so far. Its position is stamped at the level's rise across the floor when
  that rise is recent, else at the first agreeing frame: YIN frames are stamped at their
  buffer's centre, half a window after the sound they describe began.
- **Follow.** While the note sounds, its pitch moves with the voice as bend events
  (vibrato, glides, intonation), each sent once it has moved ``BEND_STEP_ST``; a 3-frame
  median keeps single-frame octave errors out.
- **Change.** When ``change`` consecutive frames agree on a pitch more than
  ``CHANGE_ST`` from the sounding note's MIDI note, the note ends and the new one starts
  (legato), stamped at the first of those frames. A glide's moving frames never agree,
  so a glide bends the old note until it settles.
- **Re-articulate.** A rise of ``retrigger_db`` above the level's recent valley (a
  consonant between two syllables on one pitch) ends the note and starts it again, but
  not sooner than ``min_note`` frames after its start.
- **End.** ``release`` unvoiced frames, or the level falling ``HYSTERESIS_DB`` under the
  floor, end the note (stamped at the first such frame).

Events go to ``events`` rows of ``EV_SIZE``: kind, float MIDI pitch, velocity (0..1],
frame offset in this block (where it was decided), and the absolute input position it
describes (float64 in the state's own rows; a float32 ring keeps it frame-exact for 6
minutes). Everything lives in one float64 state; nothing allocates in :func:`process`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from dsp import pitch
from dsp.events import append_row

EV_NOTE_ON, EV_NOTE_OFF, EV_BEND = 1.0, 2.0, 3.0
EV_SIZE = 5
EV_KIND, EV_PITCH, EV_VELOCITY, EV_OFFSET, EV_POSITION = range(EV_SIZE)
MAX_EVENTS = 16
MAX_BLOCK = 4096  # frames one process() call may take

STABLE_ST = 0.5  # frames agree when within this of their running mean
CHANGE_ST = 0.75  # a new note once the pitch settles this far from the sounding note
START_CONFIDENCE = 0.8  # YIN periodicity a frame needs to start a note (see _frame)
BEND_STEP_ST = 0.03  # resend the pitch once it has moved 3 cents
HYSTERESIS_DB = 6.0  # a note ends this far under the floor that started it
VALLEY_CREEP_DB = 0.25  # per frame: how fast the valley follower forgets a dip
VELOCITY_FLOOR_DB = -50.0  # hop RMS that maps to velocity 0.2 ...
VELOCITY_FULL_DB = -10.0  # ... and to velocity 1
_SILENT_DB = -120.0

# header
(_SR, _HOP, _FLOOR_DB, _CONFIRM, _CHANGE, _RELEASE, _MIN_NOTE, _RETRIG_DB, _ACTIVE,
 _NOTE_PITCH, _SENT_PITCH, _NOTE_FRAMES, _UNVOICED, _OFF_POS, _VALLEY_DB, _PEAK_DB, _RISE_POS,
 _LEVEL_ACC, _LEVEL_N, _TOTAL, _MED0, _MED1, _LAST_DB, _O_PITCH, _O_ROWS, _O_MONO, _N_ROWS,
 _O_LEVELS, _N_LEVELS, _LEVEL_POS, _VALLEY_POS, _LEAVE_POS) = range(32)
# two pitch candidates (a note to start, a note to change to), each 5 slots:
# sum, count, first frame's position, lowest, highest pitch
_CAND, _NEW = 32, 37
_SUM, _N, _POS = 0, 1, 2
_HEADER = 42
# per analysis frame: the pitch tracker's columns, then the hop's mean square and the
# frame in the block where the hop ended
_COL_MS = pitch.N_COLS
_COL_END = pitch.N_COLS + 1
_ROW_COLS = pitch.N_COLS + 2


def prepare(sample_rate_hz: float, floor_db: float = -45.0, f0_min_hz: float = 65.0,
            f0_max_hz: float = 1400.0, hop_ms: float = 2.67, confirm_ms: float = 8.0,
            change_ms: float = 30.0, release_ms: float = 25.0, min_note_ms: float = 60.0,
            retrigger_db: float = 6.0) -> np.ndarray:
    """A transcriber state (one float64 array) for ``sample_rate_hz``.

    floor_db: hop RMS (dBFS) a note must reach; f0_min_hz / f0_max_hz: the voice's range;
    hop_ms: frame period; confirm_ms / change_ms: how long a pitch must hold to start a note
    / to change the sounding one; release_ms: unvoiced time that ends a note; min_note_ms:
    the shortest note a re-articulation may cut; retrigger_db: the level rise that
    re-articulates a held pitch.
    """
    if not sample_rate_hz > 0:
        raise ValueError(f"sample_rate_hz {sample_rate_hz} must be positive")
    hop = max(16, round(hop_ms * 1e-3 * sample_rate_hz))
    # at very low rates the pitch range shrinks to what YIN can resolve there
    f0_max_hz = min(f0_max_hz, 0.24 * sample_rate_hz)
    f0_min_hz = min(f0_min_hz, 0.5 * f0_max_hz)
    pitch_state = pitch.prepare(sample_rate_hz, f0_min_hz, f0_max_hz, hop)
    n_rows = MAX_BLOCK // hop + 1
    o_pitch = _HEADER
    o_rows = o_pitch + pitch_state.shape[0]
    o_mono = o_rows + n_rows * _ROW_COLS
    o_levels = o_mono + MAX_BLOCK
    # the level is the mean square over one period of the lowest pitch (whole hops): a
    # shorter window flutters with the glottal pulses of a low voice
    n_levels = max(1, math.ceil(sample_rate_hz / f0_min_hz / hop))
    st = np.zeros(o_levels + n_levels)
    st[o_pitch: o_rows] = pitch_state
    st[_O_PITCH], st[_O_ROWS], st[_O_MONO], st[_N_ROWS] = o_pitch, o_rows, o_mono, n_rows
    st[_O_LEVELS], st[_N_LEVELS] = o_levels, n_levels
    frames = 1e-3 * sample_rate_hz / hop  # frames per ms
    st[_SR] = sample_rate_hz
    st[_HOP] = hop
    st[_FLOOR_DB] = floor_db
    st[_CONFIRM] = max(2, math.ceil(confirm_ms * frames))
    st[_CHANGE] = max(2, math.ceil(change_ms * frames))
    st[_RELEASE] = max(1, math.ceil(release_ms * frames))
    st[_MIN_NOTE] = max(1, math.ceil(min_note_ms * frames))
    st[_RETRIG_DB] = retrigger_db
    reset(st)
    return st


@njit(nogil=True, cache=True)
def reset(st: np.ndarray) -> None:
    """Forget the input and any sounding note (no events)."""
    pitch.reset(_pitch_state(st))
    st[_ACTIVE] = 0.0
    st[_NOTE_PITCH] = st[_SENT_PITCH] = 0.0
    st[_NOTE_FRAMES] = 0.0
    st[_CAND: _CAND + 5] = 0.0
    st[_NEW: _NEW + 5] = 0.0
    st[_UNVOICED] = st[_OFF_POS] = 0.0
    st[_VALLEY_DB] = st[_PEAK_DB] = st[_LAST_DB] = _SILENT_DB
    st[_RISE_POS] = st[_LEAVE_POS] = -1.0
    st[_VALLEY_POS] = 0.0
    st[_LEVEL_ACC] = st[_LEVEL_N] = st[_TOTAL] = 0.0
    st[_MED0] = st[_MED1] = 0.0
    st[int(st[_O_LEVELS]): int(st[_O_LEVELS]) + int(st[_N_LEVELS])] = 0.0
    st[_LEVEL_POS] = 0.0


@njit(nogil=True, cache=True, inline="always")
def _pitch_state(st):
    return st[int(st[_O_PITCH]): int(st[_O_ROWS])]


@njit(nogil=True, cache=True)
def _emit(events, n_ev, kind, midi, velocity, offset, position) -> int:
    # columns in EV_* order; a full block's rows drop the event (never in practice)
    return append_row(events, n_ev, (float(kind), float(midi), float(velocity),
                                     float(offset), float(position)))


@njit(nogil=True, cache=True)
def _velocity(level_db: float) -> float:
    v = (level_db - VELOCITY_FLOOR_DB) / (VELOCITY_FULL_DB - VELOCITY_FLOOR_DB)
    return 0.2 + 0.8 * min(max(v, 0.0), 1.0)


@njit(nogil=True, cache=True)
def _median3(a: float, b: float, c: float) -> float:
    return max(min(a, b), min(max(a, b), c))


@njit(nogil=True, cache=True)
def _start(st, events, n_ev, midi, position, offset) -> int:
    st[_ACTIVE] = 1.0
    st[_LEAVE_POS] = -1.0
    st[_NOTE_PITCH] = midi
    st[_SENT_PITCH] = midi
    st[_NOTE_FRAMES] = 0.0
    st[_NEW + _N] = 0.0
    st[_UNVOICED] = 0.0
    st[_VALLEY_DB] = st[_LAST_DB]
    st[_VALLEY_POS] = position
    return _emit(events, n_ev, EV_NOTE_ON, midi, _velocity(st[_PEAK_DB]), offset, position)


@njit(nogil=True, cache=True)
def _stop(st, events, n_ev, position, offset) -> int:
    st[_ACTIVE] = 0.0
    st[_CAND + _N] = 0.0
    st[_PEAK_DB] = _SILENT_DB
    return _emit(events, n_ev, EV_NOTE_OFF, st[_NOTE_PITCH], 0.0, offset, position)


@njit(nogil=True, cache=True)
def _agree(st, slot, midi, position) -> float:
    """Add ``midi`` to the running candidate at ``slot`` (sum, count, position, min, max);
    restart it when its frames would span more than ``STABLE_ST`` (so a glide, whose
    frames all lie near their running mean, never settles). Returns its frame count."""
    n = st[slot + 1]
    lo, hi = min(st[slot + 3], midi), max(st[slot + 4], midi)
    if n == 0.0 or hi - lo > STABLE_ST:
        n = 0.0
        st[slot] = 0.0
        st[slot + 2] = position
        lo = hi = midi
    st[slot] += midi
    st[slot + 1] = n + 1.0
    st[slot + 3], st[slot + 4] = lo, hi
    return n + 1.0


# long: the note state machine (start, legato change, re-articulation, end, bends) is one
# decision per frame and reads best in one place.
@njit(nogil=True, cache=True)
def _frame(st, events, n_ev, f0_hz, voiced, confidence, position, level_db, offset,
           now) -> int:
    """One analysis frame: ``position`` is the pitch frame's stamp, ``now`` the input
    position at the end of its hop (the level's own time)."""
    floor = st[_FLOOR_DB]
    hop = st[_HOP]
    level_pos = now - 0.5 * hop * st[_N_LEVELS]  # the level window's centre
    if level_db >= floor and st[_LAST_DB] < floor:
        st[_RISE_POS] = level_pos
    st[_LAST_DB] = level_db
    st[_PEAK_DB] = max(st[_PEAK_DB], level_db)
    loud = level_db >= floor
    has_pitch = voiced and f0_hz > 0.0 and math.isfinite(f0_hz)
    midi = 69.0 + 12.0 * math.log2(f0_hz / 440.0) if has_pitch else 0.0
    if st[_ACTIVE] == 0.0:
        if has_pitch and loud and confidence >= START_CONFIDENCE:
            n = _agree(st, _CAND, midi, position)
            if n >= st[_CONFIRM]:
                start = st[_CAND + _POS]
                # the level's rise is the truer onset when it lies within a window of
                # the first agreeing frame's stamp
                rise = st[_RISE_POS]
                if rise >= 0.0 and abs(rise - start) <= 2.0 * pitch.latency_samples(
                        _pitch_state(st)):
                    start = rise
                n_ev = _start(st, events, n_ev, st[_CAND + _SUM] / n, start, offset)
                st[_MED0] = st[_MED1] = midi
        else:
            st[_CAND + _N] = 0.0
            if not loud:
                st[_PEAK_DB] = _SILENT_DB
        return n_ev
    st[_NOTE_FRAMES] += 1.0
    if level_db < floor - HYSTERESIS_DB:
        return _stop(st, events, n_ev, level_pos, offset)
    if not has_pitch:
        if st[_UNVOICED] == 0.0:
            st[_OFF_POS] = position
        st[_UNVOICED] += 1.0
        st[_NEW + _N] = 0.0
        if st[_UNVOICED] >= st[_RELEASE]:
            return _stop(st, events, n_ev, st[_OFF_POS], offset)
        return n_ev
    st[_UNVOICED] = 0.0
    smooth = _median3(st[_MED0], st[_MED1], midi)
    st[_MED0] = st[_MED1]
    st[_MED1] = midi
    note = math.floor(st[_NOTE_PITCH] + 0.5)
    if abs(midi - note) <= STABLE_ST:
        st[_LEAVE_POS] = -1.0
    elif st[_LEAVE_POS] < 0.0:
        st[_LEAVE_POS] = position  # where a glide away from the note began
    # re-articulation: a jump out of the level's recent valley while the pitch holds (a
    # glide's swell is not one), stamped at the valley's bottom
    st[_VALLEY_DB] += VALLEY_CREEP_DB
    if level_db <= st[_VALLEY_DB]:
        st[_VALLEY_DB] = level_db
        st[_VALLEY_POS] = level_pos
    if (level_db - st[_VALLEY_DB] >= st[_RETRIG_DB] and st[_LEAVE_POS] < 0.0
            and st[_NOTE_FRAMES] >= st[_MIN_NOTE]):
        n_ev = _stop(st, events, n_ev, st[_VALLEY_POS], offset)
        st[_PEAK_DB] = level_db
        return _start(st, events, n_ev, midi, st[_VALLEY_POS], offset)
    if abs(midi - note) > CHANGE_ST:
        n = _agree(st, _NEW, midi, position)
        if n >= st[_CHANGE]:
            # a legato change happens mid-glide: between leaving the old note and
            # settling on the new one
            start = st[_NEW + _POS]
            if st[_LEAVE_POS] >= 0.0:
                start = 0.5 * (start + st[_LEAVE_POS])
            new_pitch = st[_NEW + _SUM] / n
            n_ev = _stop(st, events, n_ev, start, offset)
            st[_PEAK_DB] = level_db
            return _start(st, events, n_ev, new_pitch, start, offset)
    else:
        st[_NEW + _N] = 0.0
    if abs(smooth - st[_SENT_PITCH]) >= BEND_STEP_ST:
        st[_SENT_PITCH] = smooth
        n_ev = _emit(events, n_ev, EV_BEND, smooth, 0.0, offset, position)
    return n_ev


@njit(nogil=True, cache=True)
def _smoothed_level(st, hop_ms: float) -> float:
    """Push one hop's mean square; the mean over the last ``_N_LEVELS`` hops."""
    levels = st[int(st[_O_LEVELS]): int(st[_O_LEVELS]) + int(st[_N_LEVELS])]
    pos = int(st[_LEVEL_POS])
    levels[pos] = hop_ms
    st[_LEVEL_POS] = (pos + 1) % levels.shape[0]
    return levels.mean()


@njit(nogil=True, cache=True)
def process(st: np.ndarray, x: np.ndarray, n: int, events: np.ndarray) -> int:
    """Feed ``n`` frames of ``x (channels, >= n)`` (summed to mono); write note events
    (``events (MAX_EVENTS, EV_SIZE)``) and return how many."""
    n = min(n, MAX_BLOCK)
    hop = int(st[_HOP])
    mono = st[int(st[_O_MONO]): int(st[_O_MONO]) + n]
    scale = 1.0 / x.shape[0]
    for i in range(n):
        s = 0.0
        for c in range(x.shape[0]):
            s += x[c, i]
        mono[i] = s * scale
    n_rows = int(st[_N_ROWS])
    rows = st[int(st[_O_ROWS]): int(st[_O_ROWS]) + n_rows * _ROW_COLS].reshape(
        (n_rows, _ROW_COLS))
    got = pitch.process(_pitch_state(st), mono, rows[:, :pitch.N_COLS])
    # the level of each completed hop: the same hop grid as the pitch frames (both count
    # from reset), so row r holds frame r's pitch and its hop's level
    acc, cnt = st[_LEVEL_ACC], int(st[_LEVEL_N])
    k = 0
    for i in range(n):
        acc += mono[i] * mono[i]
        cnt += 1
        if cnt == hop:
            if k < n_rows:
                rows[k, _COL_MS] = _smoothed_level(st, acc / hop)
                rows[k, _COL_END] = i
                k += 1
            acc, cnt = 0.0, 0
    st[_LEVEL_ACC], st[_LEVEL_N] = acc, cnt
    base = st[_TOTAL]
    st[_TOTAL] = base + n
    n_ev = 0
    for r in range(min(got, k)):
        ms = rows[r, _COL_MS]
        # (an absurd input, 1e200, overflows to inf: no level, no note)
        level_db = 10.0 * math.log10(ms) if 1e-12 < ms < math.inf else _SILENT_DB
        offset = int(rows[r, _COL_END])
        n_ev = _frame(st, events, n_ev, rows[r, pitch.COL_F0_HZ],
                      rows[r, pitch.COL_VOICED] > 0.5, rows[r, pitch.COL_CONFIDENCE],
                      rows[r, pitch.COL_POSITION], level_db,
                      offset, base + offset + 1.0)
    return n_ev


@njit(nogil=True, cache=True)
def flush(st: np.ndarray, events: np.ndarray) -> int:
    """End a sounding note at the current input position (end of a file); events count."""
    if st[_ACTIVE] == 0.0:
        return 0
    return _stop(st, events, 0, st[_TOTAL], 0)
