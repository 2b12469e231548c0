"""Generated performances for training and evaluating the neural transcriber.

Each performance is a MIDI take for one instrument with its exact truth: notes with their
sounding interval (a note held by the sustain pedal sounds until the pedal lifts), their
velocity, and their pitch curve (the key plus every pitch-bend the take sends: vibrato,
slides into a note). What each instrument plays:

- piano: block chords with a bass note, broken-chord arpeggios, two-hand scales and a melody
  over chords, with the sustain pedal changed at the chord changes;
- guitar: strummed voicings (the strings 8-25 ms apart, down and up strokes), picked
  arpeggios and single lines with slides (pitch bend on their own channel);
- violin and flute: legato or detached melodies with vibrato and slides (the violin plays
  the odd double stop);
- voice: sung melodies on the choir and voice programs with vibrato.

Tempo, key, register, velocity and timing (+-12 ms) vary per take. Pitch bends stay in the
receiver's default range of +-2 semitones.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mido
import numpy as np

from models.continuo.notes import Note

INSTRUMENTS = ("voice", "piano", "guitar", "violin", "flute")
BEND_RANGE_ST = 2.0
TICKS_PER_BEAT = 960
TEMPO_US = 500_000  # 120 BPM: a tick is 1/1920 s
_PROGRAMS = {"piano": (0, 1, 2, 4), "guitar": (24, 25, 26, 27), "violin": (40, 41, 110),
             "flute": (73, 72, 74), "voice": (52, 53, 54)}
# training draws from every GM program close enough to each instrument: more timbres from
# one soundfont, so what is learnt is the instrument more than FluidR3's samples of it
_BROAD_PROGRAMS = {"piano": (0, 1, 2, 3, 4, 5, 6, 7), "guitar": (24, 25, 26, 27, 28, 105),
                   "violin": (40, 41, 42, 44, 48, 49, 110),
                   "flute": (72, 73, 74, 75, 78, 79), "voice": (52, 53, 54, 85, 91)}
_RANGES = {"piano": (28, 100), "guitar": (40, 84), "violin": (55, 93), "flute": (60, 96),
           "voice": (45, 76)}
_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)


@dataclass
class Performance:
    """A take: its truth ``notes`` (bends: (time_s, float MIDI pitch)), the MIDI to render,
    its instrument and length."""

    instrument: str
    notes: list[Note]
    midi: mido.MidiFile
    duration_s: float
    program: int
    pedal: list[tuple[float, float]] = field(default_factory=list)


class _Take:
    """Collects timed MIDI events and the truth while a part is written."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.events: list[tuple[float, int, mido.Message]] = []  # (time, order, message)
        self.notes: list[Note] = []
        self.channels: list[int] = []
        self.raw: list[list] = []

    def note(self, start_s: float, end_s: float, key: int, velocity: int, channel: int = 0,
             bends: list[tuple[float, float]] | None = None) -> None:
        start_s = max(start_s + self.rng.normal(0, 0.006), 0.0)
        self.raw.append([start_s, max(end_s, start_s + 0.06), int(np.clip(key, 21, 108)),
                         int(np.clip(velocity, 15, 127)), channel, bends or []])

    def finish(self) -> None:
        """The events and the truth. A key struck again on its channel while it still
        sounds is released just before (as a player would, and as the synth does)."""
        last: dict[tuple[int, int], list] = {}
        for r in sorted(self.raw, key=lambda r: r[0]):
            prev = last.get((r[4], r[2]))
            if prev is not None and prev[1] > r[0] - 0.005:
                prev[1] = max(r[0] - 0.005, prev[0] + 0.02)
            last[(r[4], r[2])] = r
        for start_s, end_s, key, velocity, channel, bends in self.raw:
            curve = []
            for t, st in bends:
                value = int(np.clip(round(st / BEND_RANGE_ST * 8192), -8192, 8191))
                self.events.append((t, 0, mido.Message("pitchwheel", channel=channel,
                                                       pitch=value)))
                curve.append((t, key + st))
            self.events.append((start_s, 2, mido.Message("note_on", channel=channel,
                                                         note=key, velocity=velocity)))
            self.events.append((end_s, 1, mido.Message("note_off", channel=channel,
                                                       note=key)))
            self.notes.append(Note(start_s, end_s, float(key), velocity / 127.0, curve))
            self.channels.append(channel)

    def cc(self, t_s: float, control: int, value: int, channel: int = 0) -> None:
        self.events.append((t_s, 0, mido.Message("control_change", channel=channel,
                                                 control=control, value=value)))


def _scale(rng: np.random.Generator) -> tuple[int, tuple[int, ...]]:
    return int(rng.integers(0, 12)), _MAJOR if rng.random() < 0.6 else _MINOR


def _in_scale(tonic: int, mode: tuple[int, ...], low: int, high: int) -> list[int]:
    return [k for k in range(low, high + 1) if (k - tonic) % 12 in mode]


def _vibrato(rng: np.random.Generator, start_s: float, end_s: float, slide: bool
             ) -> list[tuple[float, float]]:
    """Bend points (every 10 ms) for a sung or bowed note: an optional slide in, then
    vibrato that sets in after 150-300 ms."""
    depth = rng.uniform(0.0, 0.35)
    rate_hz, onset_s = rng.uniform(4.5, 6.5), rng.uniform(0.15, 0.3)
    slide_st = rng.choice([-1.0, 1.0]) * rng.uniform(0.3, 1.5) if slide else 0.0
    slide_s = rng.uniform(0.04, 0.15)
    pts = [(start_s - 0.002, slide_st)]
    for t in np.arange(start_s, end_s, 0.01):
        rel = t - start_s
        v = slide_st * max(0.0, 1.0 - rel / slide_s)
        v += depth * np.sin(2 * np.pi * rate_hz * rel) * np.clip((rel - onset_s) / 0.2, 0, 1)
        pts.append((float(t), float(v)))
    return pts


def _melody(take: _Take, rng: np.random.Generator, inst: str, t0: float, t1: float,
            beat_s: float, channel: int, expressive: bool) -> None:
    low, high = _RANGES[inst]
    tonic, mode = _scale(rng)
    keys = _in_scale(tonic, mode, low, high)
    i = int(rng.integers(len(keys) // 4, 3 * len(keys) // 4))
    legato = rng.random() < 0.5
    base_vel = int(rng.integers(50, 115))
    t = t0
    while t < t1 - 0.2:
        dur = beat_s * float(rng.choice([0.25, 0.5, 0.5, 1.0, 1.0, 1.5, 2.0]))
        gap = 0.0 if legato and rng.random() < 0.8 else beat_s * float(rng.choice([0.1, 0.25,
                                                                                    0.5]))
        end = min(t + dur - gap if gap else t + dur, t1)
        bends = _vibrato(rng, t, end, rng.random() < 0.15) if expressive else None
        take.note(t, end, keys[i], base_vel + int(rng.normal(0, 12)), channel, bends)
        if expressive and rng.random() < 0.05 and inst == "violin":  # a double stop
            take.note(t, end, keys[min(i + 2, len(keys) - 1)], base_vel, channel + 1)
        i = int(np.clip(i + rng.choice([-3, -2, -1, -1, 1, 1, 2, 3, 4]), 0, len(keys) - 1))
        t += dur + (beat_s * rng.choice([0.5, 1.0]) if rng.random() < 0.08 else 0.0)


def _chords(rng: np.random.Generator, low: int) -> list[list[int]]:
    tonic, mode = _scale(rng)
    degrees = rng.choice(7, size=4)
    out = []
    for d in degrees:
        root = low + (tonic + mode[d] - low) % 12
        third = root + (mode[(d + 2) % 7] - mode[d]) % 12
        fifth = root + (mode[(d + 4) % 7] - mode[d]) % 12
        out.append([root, third, fifth])
    return out


def _piano(take: _Take, rng: np.random.Generator, dur_s: float, beat_s: float) -> list:
    style = rng.choice(["block", "arpeggio", "scale", "melody"])
    chords = _chords(rng, int(rng.integers(48, 60)))
    pedal = []
    bar_s = 4 * beat_s
    base = int(rng.integers(45, 110))
    use_pedal = rng.random() < 0.5 and style != "scale"
    for b, t in enumerate(np.arange(0.2, dur_s - bar_s * 0.5, bar_s)):
        chord = chords[b % 4]
        end = min(t + bar_s, dur_s - 0.1)
        if use_pedal:
            take.cc(t + 0.03, 64, 127)
            take.cc(end - 0.02, 64, 0)
            pedal.append((t + 0.03, end - 0.02))
        if style == "block":
            for c in range(2):
                s = t + c * bar_s / 2
                take.note(s, s + bar_s / 2 * 0.9, chord[0] - 12, base + int(rng.normal(0, 8)))
                for k in chord + ([chord[0] + 12] if rng.random() < 0.5 else []):
                    take.note(s, s + bar_s / 2 * 0.9, k + 12, base + int(rng.normal(0, 8)))
        elif style == "arpeggio":
            pattern = chord + [chord[0] + 12, chord[1] + 12, chord[2] + 12]
            step = beat_s / 2
            for j in range(8):
                take.note(t + j * step, t + (j + 1) * step * 0.95, pattern[j % len(pattern)],
                          base + int(rng.normal(0, 10)))
        elif style == "scale":
            tonic, mode = _scale(rng)
            keys = _in_scale(tonic, mode, 48, 84)
            s0 = int(rng.integers(0, len(keys) - 8))
            step = beat_s / 4
            for j in range(16):
                k = keys[s0 + (j if j < 8 else 15 - j)]
                take.note(t + j * step, t + (j + 1) * step * 0.9, k, base + int(rng.normal(0, 8)))
                if rng.random() < 0.5:
                    take.note(t + j * step, t + (j + 1) * step * 0.9, k - 12, base - 10)
        else:
            take.note(t, end, chord[0] - 12, base - 15)
            for k in chord:
                take.note(t, end - 0.05, k, base - 20)
    if style == "melody":
        _melody(take, rng, "piano", 0.2, dur_s - 0.2, beat_s, 0, False)
    return pedal


def _guitar(take: _Take, rng: np.random.Generator, dur_s: float, beat_s: float) -> None:
    style = rng.choice(["strum", "arpeggio", "line"])
    chords = _chords(rng, int(rng.integers(40, 48)))
    base = int(rng.integers(50, 110))
    if style == "line":
        _melody(take, rng, "guitar", 0.2, dur_s - 0.2, beat_s, 1, True)
        return
    for b, t in enumerate(np.arange(0.2, dur_s - 2 * beat_s, 2 * beat_s)):
        root, third, fifth = chords[b % 4]
        voicing = sorted({root, fifth, root + 12, third + 12, fifth + 12,
                          root + 24 if rng.random() < 0.5 else third + 12})
        if style == "strum":
            for s in range(4 if rng.random() < 0.5 else 2):
                st = t + s * beat_s * 2 / (4 if len(voicing) else 2)
                order = voicing if s % 2 == 0 else voicing[::-1]
                spread = rng.uniform(0.008, 0.025)
                for j, k in enumerate(order):
                    take.note(st + j * spread, st + beat_s * 0.5 * 0.95, k,
                              base + int(rng.normal(0, 8)) - (15 if s % 2 else 0))
        else:
            step = beat_s / 2
            for j in range(4):
                k = voicing[int(rng.integers(len(voicing)))]
                take.note(t + j * step, t + 2 * beat_s, k, base + int(rng.normal(0, 10)))


def performance(instrument: str, seed: int, duration_s: float = 15.0,
                broad: bool = False) -> Performance:
    """One take of ``instrument`` (deterministic in ``seed``); ``broad``: on any of the
    programs close to it (training), else on its own (held-out and development takes)."""
    if instrument not in INSTRUMENTS:
        raise ValueError(f"instrument {instrument!r} must be one of {INSTRUMENTS}")
    rng = np.random.default_rng([INSTRUMENTS.index(instrument), seed])
    beat_s = 60.0 / rng.uniform(70, 150)
    take = _Take(rng)
    pedal: list[tuple[float, float]] = []
    if instrument == "piano":
        pedal = _piano(take, rng, duration_s, beat_s)
    elif instrument == "guitar":
        _guitar(take, rng, duration_s, beat_s)
    else:
        _melody(take, rng, instrument, 0.2, duration_s - 0.3, beat_s, 0, True)
    program = int(rng.choice((_BROAD_PROGRAMS if broad else _PROGRAMS)[instrument]))
    take.finish()
    _hold_by_pedal(take.notes, pedal)
    return Performance(instrument, take.notes, _midi_file(take, program), duration_s, program,
                       pedal)


def _hold_by_pedal(notes: list[Note], pedal: list[tuple[float, float]]) -> None:
    """A note released while the pedal is down sounds until the pedal lifts (or until the
    same key strikes again)."""
    for n in notes:
        for down, up in pedal:
            if down <= n.end_s < up:
                n.end_s = up
    by_key: dict[float, list[Note]] = {}
    for n in sorted(notes, key=lambda n: n.start_s):
        prev = by_key.setdefault(n.pitch, [])
        if prev and prev[-1].end_s > n.start_s:
            prev[-1].end_s = max(n.start_s, prev[-1].start_s + 0.03)
        prev.append(n)


def _midi_file(take: _Take, program: int) -> mido.MidiFile:
    mid = mido.MidiFile(ticks_per_beat=TICKS_PER_BEAT)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=TEMPO_US, time=0))
    for ch in sorted(set(take.channels) | {0}):
        track.append(mido.Message("program_change", channel=ch, program=program, time=0))
    last = 0
    for t, _, msg in sorted(take.events, key=lambda e: (e[0], e[1])):
        tick = round(max(t, 0.0) * TICKS_PER_BEAT * 1e6 / TEMPO_US)
        track.append(msg.copy(time=tick - last))
        last = tick
    return mid
