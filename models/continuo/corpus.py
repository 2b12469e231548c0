"""Generated sung and hummed melodies with known notes, for testing the transcriber.

Each phrase is a random melody sung by a synthetic voice: a glottal-like source (harmonics
falling 12 dB per octave, with jitter and shimmer) through three vowel formants, plus
breath noise and a room-noise floor. The notes vary the way a voice does:

- pitch: a random walk of steps within the voice's range, each note detuned up to 20 cents
  (the truth keeps the detune: the transcriber must report it), vibrato of 4.5-6.5 Hz and
  up to +-40 cents that sets in after 150 ms with a tremolo of up to +-2 dB, slow drift of
  a few cents and a level that wanders +-2 dB;
- joins: silences of 40-300 ms between notes, legato joins with a 30-80 ms glide, and
  re-sung repeats of the same pitch through a consonant-like dip (40-80 ms, down 12-24 dB);
- level: -32 to -8 dBFS per note, attacks of 8-40 ms and releases of 20-80 ms.

A note's truth is the interval where it sounds at its own pitch (a glide belongs to the
note it leads into from its midpoint) and its pitch without vibrato or drift. The
``"heldout"`` split uses other seeds and a different set of voices (formants and ranges)
from ``"dev"``, which was used to choose the transcriber's constants.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from dsp.units import db_to_gain, db_to_gain_array, gain_to_db
from models.continuo.notes import Note

SAMPLE_RATE_HZ = 48000
# (name, lowest MIDI note, highest MIDI note, formants (Hz) per vowel)
_VOICES = {
    "dev": (("bass", 43, 62, ((600, 1000, 2400), (400, 800, 2300))),
            ("tenor", 48, 69, ((650, 1100, 2500), (300, 2200, 2900))),
            ("alto", 55, 74, ((700, 1200, 2700), (450, 900, 2600)))),
    "heldout": (("baritone", 45, 65, ((550, 950, 2450), (350, 2000, 2700))),
                ("soprano", 60, 81, ((800, 1300, 2900), (350, 2400, 3100))),
                ("hum", 50, 70, ((250, 1800, 2600), (300, 1000, 2400)))),
}
_SEED_BASE = {"dev": 0, "heldout": 100_000}
FLOOR_DBFS = -70.0


@dataclass
class Phrase:
    """A sung phrase: ``audio`` float32 (n,) mono at ``sample_rate_hz`` and its notes."""

    audio: np.ndarray
    sample_rate_hz: int
    notes: list[Note]
    voice: str


def _envelope(n: int, attack: int, release: int) -> np.ndarray:
    env = np.ones(n)
    attack, release = min(attack, n // 2), min(release, n // 2)
    env[:attack] = np.linspace(0.0, 1.0, attack, endpoint=False) ** 2
    if release:
        env[n - release:] = np.linspace(1.0, 0.0, release) ** 2
    return env


def _sing(f0_hz: np.ndarray, amp: np.ndarray, formants: tuple[int, int, int],
          rng: np.random.Generator, rate: int) -> np.ndarray:
    """Harmonic source along ``f0_hz`` shaped by ``amp``, through vowel formants."""
    jitter = 1.0 + 0.003 * signal.lfilter([0.02], [1, -0.98], rng.standard_normal(f0_hz.size))
    phase = 2 * np.pi * np.cumsum(f0_hz * jitter) / rate
    src = np.zeros(f0_hz.size)
    top = 8000.0
    for k in range(1, int(top / max(f0_hz.min(), 40.0)) + 1):
        audible = k * f0_hz < min(top, 0.45 * rate)
        src += audible * np.sin(k * phase) / k ** 2
    shimmer = 1.0 + 0.05 * signal.lfilter([0.05], [1, -0.95], rng.standard_normal(src.size))
    src *= shimmer
    out = np.zeros_like(src)
    for fc, gain in zip(formants, (1.0, 0.5, 0.25), strict=True):
        b, a = signal.iirpeak(fc, Q=fc / 90.0, fs=rate)
        out += gain * signal.lfilter(b, a, src)
    breath = signal.lfilter(*signal.butter(2, [1500, 6000], "bandpass", fs=rate),
                            rng.standard_normal(src.size))
    out = out / (np.sqrt(np.mean(out[amp > 0] ** 2)) + 1e-12)  # unit RMS while singing
    return amp * (out + 0.05 * breath)


def phrase(seed: int, split: str = "dev", n_notes: int = 12,
           rate: int = SAMPLE_RATE_HZ) -> Phrase:
    """One phrase of ``n_notes`` notes (deterministic in ``seed`` and ``split``)."""
    if split not in _VOICES:
        raise ValueError(f"split {split!r} must be one of {sorted(_VOICES)}")
    rng = np.random.default_rng(_SEED_BASE[split] + seed)
    name, low, high, vowels = _VOICES[split][int(rng.integers(len(_VOICES[split])))]
    formants = vowels[int(rng.integers(len(vowels)))]
    pitch = float(rng.integers(low + 4, high - 4))
    t = int(rate * rng.uniform(0.15, 0.4))  # leading silence
    f0_parts, amp_parts, notes = [np.full(t, 100.0)], [np.zeros(t)], []
    join = "gap"  # how this note joins the previous one
    for k in range(n_notes):
        last = k == n_notes - 1
        next_join = "gap" if last else str(rng.choice(["gap", "legato", "repeat"],
                                                      p=[0.5, 0.3, 0.2]))
        dur = int(rate * rng.uniform(0.18, 0.7))
        # a re-sung note keeps its tuning; a new one is detuned afresh
        target = notes[-1].pitch if join == "repeat" else pitch + rng.uniform(-0.2, 0.2)
        level = db_to_gain(rng.uniform(-32, -8))
        vib_hz, vib_st = rng.uniform(4.5, 6.5), rng.uniform(0.0, 0.4)
        tt = np.arange(dur) / rate
        vib = vib_st * np.sin(2 * np.pi * vib_hz * tt) * np.clip((tt - 0.15) / 0.2, 0, 1)
        drift = 0.05 * np.cumsum(rng.standard_normal(dur)) / np.sqrt(rate)
        midi = target + vib + drift
        attack = int(rate * rng.uniform(0.008, 0.04)) if join == "gap" else 0
        release = int(rate * rng.uniform(0.02, 0.08)) if next_join == "gap" else 0
        # vibrato comes with a tremolo of up to +-2 dB, and the level wanders a little
        trem_db = rng.uniform(0.0, 2.0) * np.sin(2 * np.pi * vib_hz * tt + rng.uniform(0, 6.3))
        wander_db = 2.0 * np.sin(2 * np.pi * rng.uniform(0.3, 1.5) * tt + rng.uniform(0, 6.3))
        amp = level * _envelope(dur, attack, release) * db_to_gain_array(
            trem_db * np.clip((tt - 0.15) / 0.2, 0, 1) + wander_db)
        start_s = t / rate
        if join == "legato":
            glide = int(rate * rng.uniform(0.03, 0.08))
            prev = notes[-1]
            midi[:glide] = prev.pitch + (target - prev.pitch) * np.linspace(0, 1, glide)
            amp[:glide] = np.linspace(prev.velocity, level, glide)
            start_s = (t + glide // 2) / rate
        elif join == "repeat":  # re-sung: a consonant-like dip between the vowels
            dip = int(rate * rng.uniform(0.04, 0.08))
            depth = level * db_to_gain(rng.uniform(-24, -12))
            amp[:dip] = np.concatenate([np.linspace(notes[-1].velocity, depth, dip // 2),
                                        np.linspace(depth, level, dip - dip // 2)])
            start_s = (t + dip // 2) / rate
        if join != "gap":
            notes[-1].end_s = start_s
        # velocity holds the note's linear level while the phrase is built
        notes.append(Note(start_s, (t + dur - release // 2) / rate, target, float(level)))
        f0_parts.append(440.0 * 2 ** ((midi - 69) / 12))
        amp_parts.append(amp)
        t += dur
        if next_join == "gap":
            gap = int(rate * rng.uniform(0.04, 0.3))
            f0_parts.append(np.full(gap, f0_parts[-1][-1]))
            amp_parts.append(np.zeros(gap))
            t += gap
        if next_join != "repeat":
            step = int(rng.choice([-5, -4, -3, -2, -2, -1, 1, 2, 2, 3, 4, 5, 7]))
            pitch = float(np.clip(pitch + step, low, high))
            if abs(pitch - notes[-1].pitch) < 1.0:  # clipped onto the same note: move
                pitch += -2.0 if pitch > low + 2 else 2.0
        join = next_join
    tail = int(rate * 0.3)
    f0_parts.append(np.full(tail, 100.0))
    amp_parts.append(np.zeros(tail))
    f0, amp = np.concatenate(f0_parts), np.concatenate(amp_parts)
    audio = _sing(f0, amp, formants, rng, rate)
    audio += db_to_gain(FLOOR_DBFS) * rng.standard_normal(audio.size)
    for n in notes:  # velocity: the level in dB mapped as the transcriber maps it
        n.velocity = float(np.clip(0.2 + 0.8 * (gain_to_db(n.velocity) + 50) / 40, 0, 1))
    return Phrase(audio.astype(np.float32), rate, notes, name)


def split_phrases(split: str, count: int, n_notes: int = 12) -> list[Phrase]:
    """``count`` phrases of ``split`` (seeds 0 … count-1)."""
    return [phrase(seed, split, n_notes) for seed in range(count)]
