"""Polyphonic drum synthesizer (TR-808 flavoured) for live triggering from the audio callback.

Voices (integer constants): KICK, SNARE, HAT_CLOSED, HAT_OPEN, TOM_LOW, TOM_MID, TOM_HIGH, CLAP.

- KICK: sine with an exponential pitch sweep (4x -> 1x the tuned pitch, 10 ms) plus a short
  low-passed noise click. Nominal pitch 50 Hz at tune 0.
- SNARE: two swept sines (180 / 330 Hz) plus band-passed noise.
- HAT_CLOSED / HAT_OPEN: six square oscillators at the TR-808's inharmonic frequencies
  (205.3 … 800 Hz) plus noise, high-passed twice (12 dB/oct each). A closed hat chokes every
  sounding open hat (0.5 ms fade starting at the closed hat's onset sample; silent within 5 ms).
- TOM_LOW / TOM_MID / TOM_HIGH: sine (95 / 140 / 210 Hz) with a gentler sweep and a soft noise
  attack.
- CLAP: four noise bursts 11 ms apart, then a decaying tail, all band-passed around 1.15 kHz.

Per-voice parameters live in a ``params`` array of shape (N_VOICES, 3) (see
:func:`default_params`): column PARAM_TUNE (semitones, -12..+12), PARAM_DECAY (multiplier of
the voice's base decay, 0.25..4; every envelope that sets the length scales by it) and
PARAM_LEVEL (level_db, -60..+6; at or below -60 dB the voice is muted). Values are clamped to
these ranges. They are read at every process() call, so they may change live.

Hits are queued with :func:`trigger` (sample-accurate offset into the next process() call) and
rendered by :func:`process`, which *adds* the stereo mix into ``out``. Up to N_SLOTS hits sound
at once; a further hit steals the quietest sounding one (the oldest among equals). Each hit
draws its own xorshift32 noise generator from the state's generator, so output depends only on
the seed and the triggers, not on how the audio is cut into blocks (bit-exact).

State is one float64 array: header, event queue (voice, velocity, offset) and N_SLOTS voice
slots (see the ``_`` constants). Velocity (0..1) scales the amplitude linearly and moves the
noise filters slightly (brighter when harder).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from dsp import events
from dsp.units import db_to_gain

# Voices.
KICK = 0
SNARE = 1
HAT_CLOSED = 2
HAT_OPEN = 3
TOM_LOW = 4
TOM_MID = 5
TOM_HIGH = 6
CLAP = 7
N_VOICES = 8
VOICE_NAMES = ("kick", "snare", "hat_closed", "hat_open", "tom_low", "tom_mid", "tom_high", "clap")

# Columns of the params array.
PARAM_TUNE = 0  # semitones
PARAM_DECAY = 1  # multiplier of the base decay
PARAM_LEVEL = 2  # dB
N_PARAMS = 3
TUNE_MIN_ST, TUNE_MAX_ST = -12.0, 12.0
DECAY_MIN, DECAY_MAX = 0.25, 4.0
LEVEL_MIN_DB, LEVEL_MAX_DB = -60.0, 6.0  # at or below LEVEL_MIN_DB the voice is muted

N_SLOTS = 16  # simultaneous hits
KICK_PITCH_HZ = 50.0  # kick pitch after the sweep, tune 0

# Per-voice constants.
_BASE_HZ = np.array([KICK_PITCH_HZ, 180.0, 1.0, 1.0, 95.0, 140.0, 210.0, 1150.0])
_DECAY_S = np.array([0.12, 0.06, 0.012, 0.09, 0.16, 0.13, 0.11, 0.07])  # main envelope tau
_PAN = np.array([0.0, 0.0, 0.2, 0.2, -0.3, 0.0, 0.3, 0.0])  # -1 left .. +1 right
_NORM = np.array([0.85, 0.5, 1.8, 1.4, 0.85, 0.85, 0.85, 2.6])  # output scale per voice
_HAT_HZ = np.array([205.3, 304.4, 369.6, 522.7, 540.0, 800.0])
_CLAP_BURSTS = 4
_CLAP_SPACING_S = 0.011
_CHOKE_TAU_S = 0.0005
_SILENT = 1e-5  # a hit whose envelope falls below this (-100 dB) is freed
_CHOKED = 1e-4  # a choked hat is freed at -80 dB of its fade (4.6 ms)

# Header slots.
_SR = 0
_RNG = 1
_SEED = 2
_SERIAL = 3  # hits started so far
_N_EVENTS = 4
_MAX_EVENTS = 5
_HEADER = 8
# queued events (dsp/events.py): voice, velocity, offset_frames
_RELEASE = -1.0  # the velocity of a queued choke (see release())

# Fields of a voice slot.
_S_ACTIVE = 0
_S_VOICE = 1
_S_SERIAL = 2
_S_T = 3  # samples since onset
_S_VEL = 4
_S_RNG = 5
_S_CHOKE = 6  # choke fade gain, 1 when not choked
_S_CHOKING = 7
_S_E0 = 8  # main amplitude envelope
_S_E1 = 9  # secondary envelope (click, noise, bursts)
_S_E2 = 10  # pitch sweep / clap attack
_S_PH = 11  # 6 oscillator phases (cycles)
_S_Z = 17  # 8 filter states
_SLOT_SIZE = 32



def default_params() -> np.ndarray:
    """Neutral parameters: tune 0, decay 1, level 0 dB for every voice; float64 (N_VOICES, 3)."""
    params = np.zeros((N_VOICES, N_PARAMS), dtype=np.float64)
    params[:, PARAM_DECAY] = 1.0
    return params


def prepare(sample_rate_hz: float, max_events: int = 64, seed: int = 1) -> np.ndarray:
    """Allocate a drum machine state (float64 1-D).

    sample_rate_hz: output rate; max_events: triggers that can wait for the next process()
    call(s); seed: integer seed of the noise generators.
    """
    if sample_rate_hz <= 0:
        raise ValueError("sample_rate_hz must be positive")
    if max_events < 1:
        raise ValueError("max_events must be at least 1")
    state = np.zeros(_HEADER + events.EV_SIZE * int(max_events) + N_SLOTS * _SLOT_SIZE)
    state[_SR] = sample_rate_hz
    state[_SEED] = events.seed_word(seed)
    state[_MAX_EVENTS] = max_events
    reset(state)
    return state


@njit(nogil=True, cache=True)
def _slot_base(state: np.ndarray, s: int) -> int:
    return _HEADER + events.EV_SIZE * int(state[_MAX_EVENTS]) + s * _SLOT_SIZE


@njit(nogil=True, cache=True)
def reset(state: np.ndarray) -> None:
    """Silence every voice, drop queued triggers and reseed the noise."""
    state[_RNG] = state[_SEED]
    state[_SERIAL] = 0.0
    state[_N_EVENTS] = 0.0
    state[_HEADER:] = 0.0


@njit(nogil=True, cache=True)
def trigger(state: np.ndarray, voice: int, velocity: float, offset_frames: int) -> bool:
    """Queue a hit of ``voice`` starting ``offset_frames`` into the next process() call.

    Offsets past the end of that call carry over to the following calls. velocity is clamped to
    [0, 1]; velocity <= 0, an unknown voice or a full queue drop the hit (returns False).
    """
    if voice < 0 or voice >= N_VOICES or not velocity > 0.0:
        return False
    return events.push(state, _N_EVENTS, _MAX_EVENTS, _HEADER, voice, min(velocity, 1.0),
                       offset_frames)


@njit(nogil=True, cache=True)
def release(state: np.ndarray, voice: int, offset_frames: int) -> bool:
    """Queue a choke of every sounding hit of ``voice``, ``offset_frames`` into the next call.

    Hat hits fade out as a closed hat chokes an open one (0.5 ms); the other voices ring
    on (their decays are short). Returns False (and does nothing) for an unknown voice or
    a full queue.
    """
    if voice < 0 or voice >= N_VOICES:
        return False
    return events.push(state, _N_EVENTS, _MAX_EVENTS, _HEADER, voice, _RELEASE,
                       offset_frames)


@njit(nogil=True, cache=True)
def _choke(state: np.ndarray, voice: int) -> None:
    for s in range(N_SLOTS):
        b = _slot_base(state, s)
        if state[b + _S_ACTIVE] != 0.0 and state[b + _S_VOICE] == voice:
            state[b + _S_CHOKING] = 1.0


@njit(nogil=True, cache=True)
def active_voices(state: np.ndarray) -> int:
    """Number of hits currently sounding."""
    count = 0
    for s in range(N_SLOTS):
        count += int(state[_slot_base(state, s) + _S_ACTIVE])
    return count


@njit(nogil=True, cache=True)
def _start(state: np.ndarray, voice: int, velocity: float) -> None:
    """Start a hit now: choke open hats, take a free slot or steal the quietest."""
    chosen = -1
    for s in range(N_SLOTS):
        b = _slot_base(state, s)
        if state[b + _S_ACTIVE] == 0.0:
            if chosen < 0:
                chosen = s
        elif voice == HAT_CLOSED and state[b + _S_VOICE] == HAT_OPEN:
            state[b + _S_CHOKING] = 1.0
    if chosen < 0:  # all busy: steal the quietest, the oldest among equals
        quietest = 1e300
        oldest = 1e300
        for s in range(N_SLOTS):
            b = _slot_base(state, s)
            env = max(state[b + _S_E0], state[b + _S_E1])
            level = state[b + _S_VEL] * env * state[b + _S_CHOKE]
            serial = state[b + _S_SERIAL]
            if level < quietest or (level == quietest and serial < oldest):
                chosen, quietest, oldest = s, level, serial
    b = _slot_base(state, chosen)
    for k in range(_SLOT_SIZE):
        state[b + k] = 0.0
    w = events.xorshift32(np.int64(state[_RNG]))
    state[_RNG] = w
    state[_SERIAL] += 1.0
    state[b + _S_ACTIVE] = 1.0
    state[b + _S_VOICE] = voice
    state[b + _S_SERIAL] = state[_SERIAL]
    state[b + _S_VEL] = velocity
    state[b + _S_RNG] = w
    state[b + _S_CHOKE] = 1.0
    state[b + _S_E0] = 1.0
    state[b + _S_E1] = 1.0
    state[b + _S_E2] = 1.0


@njit(nogil=True, cache=True)
def _decay_coef(tau_s: float, sr: float) -> float:
    return math.exp(-1.0 / (tau_s * sr))


@njit(nogil=True, cache=True)
def _svf_coefs(fc_hz: float, q: float, sr: float) -> tuple[float, float, float, float]:
    """Coefficients (k, a1, a2, a3) of a TPT state-variable filter."""
    g = math.tan(math.pi * min(fc_hz, 0.45 * sr) / sr)
    k = 1.0 / q
    a1 = 1.0 / (1.0 + g * (g + k))
    a2 = g * a1
    return k, a1, a2, g * a2


@njit(nogil=True, cache=True)
def _noise(w: int) -> tuple[int, float]:
    w = events.xorshift32(w)
    return w, w / 2147483648.0 - 1.0


@njit(nogil=True, cache=True)
def _render_kick(st, b, out, i0, i1, sr, ratio, dmul, gain, pl, pr) -> None:
    vel = st[b + _S_VEL]
    # a fast pitch sweep (4x at the hit) and a bright click make the beater
    _render_pitched(st, b, KICK, out, i0, i1, sr, ratio, dmul, gain, pl, pr,
                    0.2 + 0.3 * vel, 3.0, 0.0012, 0.010, 5000.0)


@njit(nogil=True, cache=True)
def _render_tom(st, b, voice, out, i0, i1, sr, ratio, dmul, gain, pl, pr) -> None:
    vel = st[b + _S_VEL]
    # a gentle sweep and a velocity-bright stick noise
    _render_pitched(st, b, voice, out, i0, i1, sr, ratio, dmul, gain, pl, pr,
                    0.25, 0.6, 0.004, 0.05, 1500.0 + 1500.0 * vel)


@njit(nogil=True, cache=True)
def _render_pitched(st, b, voice, out, i0, i1, sr, ratio, dmul, gain, pl, pr,
                    click_amp, sweep, click_decay_s, sweep_decay_s, click_lp_hz) -> None:
    """A decaying sine swept down from (1 + sweep) x its pitch, plus a low-passed noise click."""
    f_end = _BASE_HZ[voice] * ratio
    ka = _decay_coef(_DECAY_S[voice] * dmul, sr)
    kc = _decay_coef(click_decay_s, sr)
    kp = _decay_coef(sweep_decay_s, sr)
    lp = 1.0 - math.exp(-2.0 * math.pi * click_lp_hz / sr)
    g = gain * _NORM[voice]
    e0, e1, e2 = st[b + _S_E0], st[b + _S_E1], st[b + _S_E2]
    ph, z = st[b + _S_PH], st[b + _S_Z]
    w = np.int64(st[b + _S_RNG])
    t = st[b + _S_T]
    for i in range(i0, i1):
        w, nz = _noise(w)
        z += lp * (nz - z)
        y = (math.sin(2.0 * math.pi * ph) * e0 + click_amp * z * e1) * g
        out[0, i] += y * pl
        out[1, i] += y * pr
        ph += f_end * (1.0 + sweep * e2) / sr
        ph -= math.floor(ph)
        e0 *= ka
        e1 *= kc
        e2 *= kp
        t += 1.0
        if e0 < _SILENT:
            st[b + _S_ACTIVE] = 0.0
            break
    st[b + _S_E0], st[b + _S_E1], st[b + _S_E2] = e0, e1, e2
    st[b + _S_PH], st[b + _S_Z] = ph, z
    st[b + _S_RNG] = w
    st[b + _S_T] = t


@njit(nogil=True, cache=True)
def _render_snare(st, b, out, i0, i1, sr, ratio, dmul, gain, pl, pr) -> None:
    vel = st[b + _S_VEL]
    f1 = _BASE_HZ[SNARE] * ratio
    f2 = f1 * (330.0 / 180.0)
    kt = _decay_coef(0.75 * _DECAY_S[SNARE] * dmul, sr)  # tone
    kn = _decay_coef(_DECAY_S[SNARE] * dmul, sr)  # noise
    kp = _decay_coef(0.005, sr)
    k, a1, a2, a3 = _svf_coefs(3500.0 * ratio * (0.8 + 0.4 * vel), 0.5, sr)
    g = gain * _NORM[SNARE]
    e0, e1, e2 = st[b + _S_E0], st[b + _S_E1], st[b + _S_E2]
    ph0, ph1 = st[b + _S_PH], st[b + _S_PH + 1]
    ic1, ic2 = st[b + _S_Z], st[b + _S_Z + 1]
    w = np.int64(st[b + _S_RNG])
    t = st[b + _S_T]
    for i in range(i0, i1):
        w, nz = _noise(w)
        v3 = nz - ic2
        v1 = a1 * ic1 + a2 * v3
        v2 = ic2 + a2 * ic1 + a3 * v3
        ic1 = 2.0 * v1 - ic1
        ic2 = 2.0 * v2 - ic2
        tone = 0.6 * math.sin(2.0 * math.pi * ph0) + 0.4 * math.sin(2.0 * math.pi * ph1)
        y = (tone * e1 * 0.7 + 1.6 * k * v1 * e0) * g
        out[0, i] += y * pl
        out[1, i] += y * pr
        sweep = 1.0 + 0.3 * e2
        ph0 += f1 * sweep / sr
        ph0 -= math.floor(ph0)
        ph1 += f2 * sweep / sr
        ph1 -= math.floor(ph1)
        e0 *= kn
        e1 *= kt
        e2 *= kp
        t += 1.0
        if e0 < _SILENT:
            st[b + _S_ACTIVE] = 0.0
            break
    st[b + _S_E0], st[b + _S_E1], st[b + _S_E2] = e0, e1, e2
    st[b + _S_PH], st[b + _S_PH + 1] = ph0, ph1
    st[b + _S_Z], st[b + _S_Z + 1] = ic1, ic2
    st[b + _S_RNG] = w
    st[b + _S_T] = t


@njit(nogil=True, cache=True)
def _render_hat(st, b, voice, out, i0, i1, sr, ratio, dmul, gain, pl, pr) -> None:
    vel = st[b + _S_VEL]
    ka = _decay_coef(_DECAY_S[voice] * dmul, sr)
    kch = _decay_coef(_CHOKE_TAU_S, sr)
    choking = st[b + _S_CHOKING] != 0.0
    k, a1, a2, a3 = _svf_coefs(6000.0 * ratio * (0.85 + 0.3 * vel), 0.7, sr)
    inc0 = _HAT_HZ[0] * ratio / sr
    inc1 = _HAT_HZ[1] * ratio / sr
    inc2 = _HAT_HZ[2] * ratio / sr
    inc3 = _HAT_HZ[3] * ratio / sr
    inc4 = _HAT_HZ[4] * ratio / sr
    inc5 = _HAT_HZ[5] * ratio / sr
    g = gain * _NORM[voice]
    e0, ch = st[b + _S_E0], st[b + _S_CHOKE]
    p = b + _S_PH
    ph0, ph1, ph2 = st[p], st[p + 1], st[p + 2]
    ph3, ph4, ph5 = st[p + 3], st[p + 4], st[p + 5]
    z = b + _S_Z
    s1, s2, s3, s4 = st[z], st[z + 1], st[z + 2], st[z + 3]
    w = np.int64(st[b + _S_RNG])
    t = st[b + _S_T]
    for i in range(i0, i1):
        w, nz = _noise(w)
        metal = (
            (1.0 if ph0 < 0.5 else -1.0)
            + (1.0 if ph1 < 0.5 else -1.0)
            + (1.0 if ph2 < 0.5 else -1.0)
            + (1.0 if ph3 < 0.5 else -1.0)
            + (1.0 if ph4 < 0.5 else -1.0)
            + (1.0 if ph5 < 0.5 else -1.0)
        )
        x = metal * (1.0 / 6.0) + 0.5 * nz
        # Two high-pass SVF stages.
        v3 = x - s2
        v1 = a1 * s1 + a2 * v3
        v2 = s2 + a2 * s1 + a3 * v3
        s1 = 2.0 * v1 - s1
        s2 = 2.0 * v2 - s2
        h = x - k * v1 - v2
        v3 = h - s4
        v1 = a1 * s3 + a2 * v3
        v2 = s4 + a2 * s3 + a3 * v3
        s3 = 2.0 * v1 - s3
        s4 = 2.0 * v2 - s4
        h = h - k * v1 - v2
        y = h * e0 * ch * g
        out[0, i] += y * pl
        out[1, i] += y * pr
        ph0 += inc0
        ph0 -= math.floor(ph0)
        ph1 += inc1
        ph1 -= math.floor(ph1)
        ph2 += inc2
        ph2 -= math.floor(ph2)
        ph3 += inc3
        ph3 -= math.floor(ph3)
        ph4 += inc4
        ph4 -= math.floor(ph4)
        ph5 += inc5
        ph5 -= math.floor(ph5)
        e0 *= ka
        if choking:
            ch *= kch
        t += 1.0
        if e0 * ch < _SILENT or ch < _CHOKED:
            st[b + _S_ACTIVE] = 0.0
            break
    st[b + _S_E0], st[b + _S_CHOKE] = e0, ch
    st[p], st[p + 1], st[p + 2] = ph0, ph1, ph2
    st[p + 3], st[p + 4], st[p + 5] = ph3, ph4, ph5
    st[z], st[z + 1], st[z + 2], st[z + 3] = s1, s2, s3, s4
    st[b + _S_RNG] = w
    st[b + _S_T] = t


@njit(nogil=True, cache=True)
def _render_clap(st, b, out, i0, i1, sr, ratio, dmul, gain, pl, pr) -> None:
    vel = st[b + _S_VEL]
    ka = _decay_coef(_DECAY_S[CLAP] * dmul, sr)  # tail
    kb = _decay_coef(0.0025, sr)  # each burst
    kat = _decay_coef(0.008, sr)  # tail attack (1 - e2)
    spacing = float(round(_CLAP_SPACING_S * sr))
    last_burst = spacing * (_CLAP_BURSTS - 1)
    k, a1, a2, a3 = _svf_coefs(_BASE_HZ[CLAP] * ratio * (0.85 + 0.3 * vel), 1.6, sr)
    g = gain * _NORM[CLAP]
    e0, e1, e2 = st[b + _S_E0], st[b + _S_E1], st[b + _S_E2]
    ic1, ic2 = st[b + _S_Z], st[b + _S_Z + 1]
    w = np.int64(st[b + _S_RNG])
    t = st[b + _S_T]
    for i in range(i0, i1):
        if 0.0 < t <= last_burst and t % spacing == 0.0:
            e1 = 1.0
        w, nz = _noise(w)
        v3 = nz - ic2
        v1 = a1 * ic1 + a2 * v3
        v2 = ic2 + a2 * ic1 + a3 * v3
        ic1 = 2.0 * v1 - ic1
        ic2 = 2.0 * v2 - ic2
        y = k * v1 * (e1 + 0.6 * e0 * (1.0 - e2)) * g
        out[0, i] += y * pl
        out[1, i] += y * pr
        e0 *= ka
        e1 *= kb
        e2 *= kat
        t += 1.0
        if e0 < _SILENT:
            st[b + _S_ACTIVE] = 0.0
            break
    st[b + _S_E0], st[b + _S_E1], st[b + _S_E2] = e0, e1, e2
    st[b + _S_Z], st[b + _S_Z + 1] = ic1, ic2
    st[b + _S_RNG] = w
    st[b + _S_T] = t


@njit(nogil=True, cache=True)
def _render(state: np.ndarray, params: np.ndarray, out: np.ndarray, i0: int, i1: int) -> None:
    """Advance every sounding hit over frames [i0, i1) of ``out``, adding its output."""
    if i1 <= i0:
        return
    sr = state[_SR]
    for s in range(N_SLOTS):
        b = _slot_base(state, s)
        if state[b + _S_ACTIVE] == 0.0:
            continue
        voice = int(state[b + _S_VOICE])
        tune = min(max(params[voice, PARAM_TUNE], TUNE_MIN_ST), TUNE_MAX_ST)
        dmul = min(max(params[voice, PARAM_DECAY], DECAY_MIN), DECAY_MAX)
        level_db = min(params[voice, PARAM_LEVEL], LEVEL_MAX_DB)
        gain = 0.0
        if level_db > LEVEL_MIN_DB:
            gain = state[b + _S_VEL] * db_to_gain(level_db)
        ratio = 2.0 ** (tune / 12.0)
        pan = _PAN[voice]
        pl = min(1.0, 1.0 - pan)
        pr = min(1.0, 1.0 + pan)
        if voice == KICK:
            _render_kick(state, b, out, i0, i1, sr, ratio, dmul, gain, pl, pr)
        elif voice == SNARE:
            _render_snare(state, b, out, i0, i1, sr, ratio, dmul, gain, pl, pr)
        elif voice == HAT_CLOSED or voice == HAT_OPEN:
            _render_hat(state, b, voice, out, i0, i1, sr, ratio, dmul, gain, pl, pr)
        elif voice == CLAP:
            _render_clap(state, b, out, i0, i1, sr, ratio, dmul, gain, pl, pr)
        else:
            _render_tom(state, b, voice, out, i0, i1, sr, ratio, dmul, gain, pl, pr)


@njit(nogil=True, cache=True)
def process(state: np.ndarray, params: np.ndarray, out: np.ndarray) -> None:
    """Add the drum mix into planar stereo ``out`` (2, n_frames), starting queued hits.

    params: (N_VOICES, 3) tune / decay / level_db per voice (see :func:`default_params`).
    Hits queued with an offset below n_frames start exactly at that frame (in trigger order
    for equal offsets); later ones wait, their offsets reduced by n_frames.
    """
    n = out.shape[1]
    pos = 0
    while True:
        best, best_off = events.next_due(state, _N_EVENTS, _HEADER, n)
        _render(state, params, out, pos, best_off)
        if best < 0:
            break
        pos = best_off
        a, velocity = events.take(state, _N_EVENTS, _HEADER, best)
        voice = int(a)
        if velocity == _RELEASE:
            _choke(state, voice)
        else:
            _start(state, voice, velocity)
    events.age(state, _N_EVENTS, _HEADER, n)


@njit(nogil=True, cache=True)
def _render_events(
    state: np.ndarray,
    params: np.ndarray,
    frames: np.ndarray,
    voices: np.ndarray,
    velocities: np.ndarray,
    out: np.ndarray,
    block: int,
) -> None:
    n = out.shape[1]
    j = 0
    for b0 in range(0, n, block):
        b1 = min(b0 + block, n)
        while j < frames.shape[0] and frames[j] < b1:
            trigger(state, voices[j], velocities[j], frames[j] - b0)
            j += 1
        process(state, params, out[:, b0:b1])


def render_pattern(
    events,
    seconds: float,
    sample_rate_hz: float = 48000.0,
    params: np.ndarray | None = None,
    seed: int = 1,
) -> np.ndarray:
    """Render a pattern offline: float32 (2, round(seconds * sample_rate_hz)).

    events: iterable of (time_s, voice, velocity); hits at or after the end are ignored.
    params: (N_VOICES, 3) as for :func:`process` (default: :func:`default_params`). The result
    equals triggering the same hits through :func:`process` at their frames
    (round(time_s * sample_rate_hz)) on a fresh state with the same seed.
    """
    n = int(round(seconds * sample_rate_hz))
    if params is None:
        params = default_params()
    params = np.ascontiguousarray(params, dtype=np.float64)
    ev = sorted(
        ((int(round(t * sample_rate_hz)), int(v), float(vel)) for t, v, vel in events),
        key=lambda e: e[0],
    )
    ev = [e for e in ev if 0 <= e[0] < n]
    frames = np.array([e[0] for e in ev], dtype=np.int64)
    voices = np.array([e[1] for e in ev], dtype=np.int64)
    vels = np.array([e[2] for e in ev], dtype=np.float64)
    state = prepare(sample_rate_hz, max_events=max(64, len(ev)), seed=seed)
    out = np.zeros((2, n), dtype=np.float32)
    _render_events(state, params, frames, voices, vels, out, 1024)
    return out
