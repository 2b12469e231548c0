"""Generated multitracks: songs written as MIDI by our code, one stem per part, rendered
with fluidsynth through a General MIDI soundfont, plus the synthetic voice.

Each song draws a tempo, a key and a four-chord progression, then 4-8 parts from drums,
bass, keys, guitar, pad, lead and voice, each with its own GM program, register, rhythm,
velocity and timing jitter. Every part is rendered alone, dry (fluidsynth's reverb and
chorus off), to a stereo stem. ``augment`` then gives the stems random levels, pans and EQ,
so a mix has real work to do.

Training renders use FluidR3 (``fluid-soundfont-gm``; ``fluid-soundfont-gs`` adds only
GS sound effects, no instruments) only; the
held-out set (benchmarks, evaluation) uses TimGM6mb (``timgm6mb-soundfont``), never trained
on, and other seeds.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dsp.units import db_to_gain
from models import fluid
from models.fluid import CorpusError, soundfont  # noqa: F401  (this corpus's API)

TRAIN_SOUNDFONTS = ("FluidR3_GM.sf2",)  # FluidR3_GS holds only GS sound effects
HELDOUT_SOUNDFONTS = ("TimGM6mb.sf2",)
ROLES = ("drums", "bass", "keys", "guitar", "pad", "lead", "voice")
_PROGRAMS = {"bass": (32, 33, 34, 35, 36, 38), "keys": (0, 1, 2, 4, 5, 16, 17),
             "guitar": (24, 25, 26, 27, 29), "pad": (48, 49, 50, 52, 88, 89, 91, 95),
             "lead": (56, 60, 61, 65, 66, 71, 73, 80, 81)}
_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)
_TICKS = 480  # per beat


@dataclass
class Stem:
    role: str
    audio: np.ndarray  # float32 (2, frames)




def _notes_for(role: str, rng: np.random.Generator, chords: list[list[int]], bars: int
               ) -> list[tuple[float, float, int, int]]:
    """(start beat, length in beats, MIDI note, velocity) for one part."""
    out: list[tuple[float, float, int, int]] = []
    base_vel = int(rng.integers(60, 110))

    def vel() -> int:
        return int(np.clip(base_vel + rng.normal(0, 10), 20, 127))

    for bar in range(bars):
        chord = chords[bar % len(chords)]
        b0 = 4.0 * bar
        if role == "drums":
            for beat in range(8):
                out.append((b0 + 0.5 * beat, 0.25, 42 if rng.random() > 0.1 else 46, vel()))
            kicks = [0.0, 2.0] + ([2.5] if rng.random() < 0.5 else [])
            out += [(b0 + k, 0.25, 36, vel()) for k in kicks]
            out += [(b0 + s, 0.25, 38 if rng.random() > 0.2 else 40, vel()) for s in (1.0, 3.0)]
        elif role == "bass":
            step = 0.5 if rng.random() < 0.5 else 1.0
            for k in range(int(4 / step)):
                note = chord[0] - 24 + (12 if rng.random() < 0.15 else 0)
                out.append((b0 + k * step, step * 0.9, note, vel()))
        elif role in ("keys", "guitar"):
            strum = 0.03 if role == "guitar" else 0.0
            step = (1.0, 2.0)[int(rng.integers(2))]
            octave = -12 if role == "guitar" else 0
            for k in range(int(4 / step)):
                for j, note in enumerate(chord):
                    out.append((b0 + k * step + j * strum, step * 0.95, note + octave, vel()))
        elif role == "pad":
            out += [(b0, 4.0, note + 12 * int(rng.integers(-1, 1)), vel()) for note in chord]
        elif role == "lead":
            t = 0.0
            while t < 4.0:
                length = float(rng.choice([0.5, 0.5, 1.0, 1.5]))
                if rng.random() < 0.85:
                    out.append((b0 + t, length * 0.9, int(rng.choice(chord)) + 12, vel()))
                t += length
    return out


def _midi_file(role: str, notes: list[tuple[float, float, int, int]], program: int,
               tempo_bpm: float, rng: np.random.Generator, path: Path) -> None:
    import mido

    channel = 9 if role == "drums" else 0
    events: list[tuple[int, mido.Message]] = []
    for start, length, note, velocity in notes:
        jitter = rng.normal(0.0, 0.01) * tempo_bpm / 60.0  # about 10 ms, in beats
        on = max(0, round((start + jitter) * _TICKS))
        off = on + max(1, round(length * _TICKS))
        note = int(np.clip(note, 0, 127))
        events.append((on, mido.Message("note_on", channel=channel, note=note,
                                        velocity=velocity)))
        events.append((off, mido.Message("note_off", channel=channel, note=note)))
    events.sort(key=lambda e: (e[0], e[1].type == "note_on"))
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo_bpm)))
    if channel != 9:
        track.append(mido.Message("program_change", channel=channel, program=program))
    now = 0
    for tick, msg in events:
        track.append(msg.copy(time=tick - now))
        now = tick
    mid = mido.MidiFile(ticks_per_beat=_TICKS)
    mid.tracks.append(track)
    mid.save(path)


def _render(mid: Path, sf2: Path, rate_hz: int, frames: int, wav: Path) -> np.ndarray:
    audio = fluid.render(mid, sf2, rate_hz, wav)
    out = np.zeros((2, frames), np.float32)
    n = min(frames, audio.shape[0])
    out[:, :n] = audio[:n, :2].T
    return out


def _voice(seed: int, rate_hz: int, frames: int) -> np.ndarray:
    from dsp.resample import resample
    from models.continuo import corpus as voices

    sung = voices.phrase(seed, "dev", n_notes=16)
    mono = resample(sung.audio[:, None], voices.SAMPLE_RATE_HZ, rate_hz)[:, 0]
    out = np.zeros(frames, np.float32)
    out[: min(frames, mono.size)] = mono[:frames]
    return np.stack([out, out])


def song(seed: int, sf2: Path, rate_hz: int, seconds: float, parts: int | None = None
         ) -> list[Stem]:
    """One generated multitrack: ``parts`` stems (default 4-8 drawn; roles without repeats
    until all seven are used)."""
    rng = np.random.default_rng(seed)
    tempo = float(rng.uniform(80, 150))
    key = int(rng.integers(48, 60))
    scale = _MAJOR if rng.random() < 0.6 else _MINOR
    degrees = rng.choice(7, size=4)
    chords = [[key + scale[(d + k) % 7] + 12 * ((d + k) // 7) for k in (0, 2, 4)]
              for d in degrees]
    n_parts = int(rng.integers(4, 9))
    n_parts = parts or n_parts
    roles = [str(r) for r in rng.choice(ROLES, size=min(n_parts, len(ROLES)), replace=False)]
    while len(roles) < n_parts:
        roles.append(str(rng.choice(("keys", "guitar", "lead"))))
    frames = round(seconds * rate_hz)
    bars = int(np.ceil(seconds * tempo / 240.0)) + 1
    stems = []
    with tempfile.TemporaryDirectory(prefix="musicmill-corpus-") as tmp:
        for i, role in enumerate(roles):
            if role == "voice":
                stems.append(Stem(role, _voice(seed * 8 + i, rate_hz, frames)))
                continue
            program = int(rng.choice(_PROGRAMS.get(role, (0,))))
            mid, wav = Path(tmp) / f"{i}.mid", Path(tmp) / f"{i}.wav"
            _midi_file(role, _notes_for(role, rng, chords, bars), program, tempo, rng, mid)
            stems.append(Stem(role, _render(mid, sf2, rate_hz, frames, wav)))
    return [s for s in stems if np.abs(s.audio).max() > 1e-4]


def augment(stems: list[Stem], rng: np.random.Generator, rate_hz: int) -> list[np.ndarray]:
    """Random level (-24…+6 dB around -18 dBFS RMS), pan and a random tilt or band EQ."""
    from dsp import biquad

    out = []
    for s in stems:
        x = s.audio.copy()
        for kind, f in ((biquad.LOWSHELF, 200.0), (biquad.PEAK, float(rng.uniform(300, 3000))),
                        (biquad.HIGHSHELF, 4000.0)):
            state = biquad.prepare(2, rate_hz, kind, f, 0.8, float(rng.uniform(-9, 9)))
            biquad.run(state, x, x)
        rms = float(np.sqrt(np.mean(x * x))) + 1e-9
        x *= np.float32(db_to_gain(-18.0 + rng.uniform(-24, 6)) / rms)
        pan = float(rng.uniform(-0.6, 0.6)) if rng.random() < 0.5 else 0.0
        x[0] *= np.float32(np.sqrt(1.0 - pan))
        x[1] *= np.float32(np.sqrt(1.0 + pan))
        out.append(x)
    return out
