"""Test stems from our own synths (numpy, seeded): a quick check of the mix with no files,
and the material of the validation suite.

``band(n, seed)`` plays a two-bar groove at 120 BPM over a four-chord loop: drums (a sine
kick with a falling pitch, a noise snare, high-passed noise hats), bass (a filtered saw),
chords (additive keys), a lead (a square with vibrato), a pad (detuned saws) and a noise
texture, in that order, ``n`` of them. ``noise``, ``bass_heavy``, ``bright``, ``quiet`` and
``loud`` make the suite's harder cases.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from dsp.units import db_to_gain

PARTS = ("drums", "bass", "chords", "lead", "pad", "texture", "perc", "arp")
_CHORDS = ((57, 60, 64), (53, 57, 60), (48, 52, 55), (55, 59, 62))  # Am F C G
BPM = 120.0


def _hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69.0) / 12.0)


def _env(n: int, rate: int, attack_s: float, decay_s: float) -> np.ndarray:
    t = np.arange(n) / rate
    return np.minimum(1.0, t / max(attack_s, 1e-4)) * np.exp(-t / decay_s)


def _place(out: np.ndarray, start: int, sound: np.ndarray) -> None:
    end = min(out.size, start + sound.size)
    if end > start:
        out[start:end] += sound[: end - start]


def _saw(f_hz: np.ndarray | float, n: int, rate: int, phase: float = 0.0) -> np.ndarray:
    ph = phase + np.cumsum(np.broadcast_to(f_hz, (n,)) / rate)
    return 2.0 * (ph % 1.0) - 1.0


def _part(name: str, seconds: float, rate: int, rng: np.random.Generator) -> np.ndarray:
    n = round(seconds * rate)
    beat = round(60.0 / BPM * rate)
    out = np.zeros(n)
    chords = [_CHORDS[(i // 4) % 4] for i in range(n // beat + 1)]
    if name in ("drums", "perc"):
        for b in range(n // beat + 1):
            if name == "drums" and b % 2 == 0:
                m = round(0.3 * rate)
                f = 50.0 + 90.0 * np.exp(-np.arange(m) / (0.03 * rate))
                kick = np.sin(2 * np.pi * np.cumsum(f) / rate) * _env(m, rate, 0.002, 0.12)
                _place(out, b * beat, kick)
            if name == "drums" and b % 2 == 1:
                m = round(0.2 * rate)
                _place(out, b * beat, rng.standard_normal(m) * 0.5 * _env(m, rate, 0.001, 0.06))
            for half in (0, 1):
                m = round(0.05 * rate)
                hat = signal.lfilter(*signal.butter(2, 7000 / (rate / 2), "high"),
                                     rng.standard_normal(m)) * _env(m, rate, 0.0005, 0.015)
                _place(out, b * beat + half * beat // 2, 0.4 * hat)
    elif name == "bass":
        for b in range(n // beat + 1):
            m = beat
            note = chords[b][0] - 24
            tone = _saw(_hz(note), m, rate) * _env(m, rate, 0.005, 0.4)
            _place(out, b * beat, signal.lfilter(*signal.butter(2, 400 / (rate / 2)), tone))
    elif name in ("chords", "pad", "arp"):
        step = beat if name == "arp" else 4 * beat
        for k in range(n // step + 1):
            chord = chords[min(k * step // beat, len(chords) - 1)]
            m = step
            notes = (chord[k % 3],) if name == "arp" else chord
            for note in notes:
                f = _hz(note + (12 if name == "arp" else 0))
                if name == "pad":
                    tone = sum(_saw(f * d, m, rate, rng.random()) for d in (0.995, 1.0, 1.005))
                    tone = signal.lfilter(*signal.butter(2, 2500 / (rate / 2)), tone)
                    env = _env(m, rate, 0.3, 10.0)
                else:
                    t = np.arange(m) / rate
                    tone = sum(np.sin(2 * np.pi * f * h * t) / h ** 1.5 for h in range(1, 8))
                    env = _env(m, rate, 0.004, 0.5)
                _place(out, k * step, 0.3 * tone * env)
    elif name == "lead":
        t = np.arange(n) / rate
        which = np.minimum(np.arange(n) // beat, len(chords) - 1)
        notes = np.array([c[1] + 12 for c in chords])[which]
        f = np.array([_hz(v) for v in notes]) * 2 ** (0.2 / 12 * np.sin(2 * np.pi * 5.5 * t))
        out = np.sign(np.sin(2 * np.pi * np.cumsum(f) / rate)) * 0.3
        out = signal.lfilter(*signal.butter(2, 3000 / (rate / 2)), out)
    else:  # texture: slowly swelling band-passed noise
        t = np.arange(n) / rate
        out = signal.lfilter(*signal.butter(2, [800 / (rate / 2), 6000 / (rate / 2)], "band"),
                             rng.standard_normal(n)) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.25 * t))
    return out


def _stereo(mono: np.ndarray, level_db: float, peak: bool = True) -> np.ndarray:
    """Mono as stereo with its peak (or its RMS) at ``level_db`` dBFS."""
    ref = float(np.abs(mono).max() if peak else np.sqrt(np.mean(mono * mono))) + 1e-12
    x = (mono * (db_to_gain(level_db) / ref)).astype(np.float32)
    return np.stack([x, x])


def band(n: int, seed: int = 0, seconds: float = 10.0, rate_hz: int = 48000,
         level_db: tuple[float, float] = (-24.0, -6.0)) -> list[tuple[str, np.ndarray]]:
    """``n`` (1-8) named stems, each peaking at a random level within ``level_db`` dBFS."""
    if not 1 <= n <= len(PARTS):
        raise ValueError(f"test stems: 1 to {len(PARTS)}, not {n}")
    rng = np.random.default_rng(seed)
    return [(name, _stereo(_part(name, seconds, rate_hz, rng), float(rng.uniform(*level_db))))
            for name in PARTS[:n]]


def noise(n: int, seed: int = 0, seconds: float = 10.0, rate_hz: int = 48000
          ) -> list[tuple[str, np.ndarray]]:
    """``n`` independent white-noise stems at -20 dBFS RMS."""
    rng = np.random.default_rng(seed)
    return [(f"noise{i + 1}", _stereo(rng.standard_normal(round(seconds * rate_hz)), -20.0,
                                      peak=False))
            for i in range(n)]


def bass_heavy(seed: int = 0, seconds: float = 10.0, rate_hz: int = 48000
               ) -> list[tuple[str, np.ndarray]]:
    """Drums, bass and a dark pad, the bass peaking 3 dB over the drums, the pad under."""
    stems = band(5, seed, seconds, rate_hz, (-12.0, -12.0))
    keep = {"drums": -6.0, "bass": -3.0, "pad": -14.0}
    return [(name, x * np.float32(db_to_gain(keep[name] + 12.0)))
            for name, x in stems if name in keep]


def bright(seed: int = 0, seconds: float = 10.0, rate_hz: int = 48000
           ) -> list[tuple[str, np.ndarray]]:
    """Hats, the lead, the arpeggio and the noise texture: little below 500 Hz."""
    stems = dict(band(8, seed, seconds, rate_hz, (-9.0, -9.0)))
    hats = signal.lfilter(*signal.butter(4, 2000 / (rate_hz / 2), "high"), stems["drums"][0])
    return [("hats", _stereo(hats, -9.0)), ("lead", stems["lead"]), ("arp", stems["arp"]),
            ("texture", stems["texture"])]


def scaled(stems: list[tuple[str, np.ndarray]], gain_db: float) -> list[tuple[str, np.ndarray]]:
    """The same stems ``gain_db`` louder (the suite's quiet and loud cases)."""
    g = np.float32(db_to_gain(gain_db))
    return [(name, x * g) for name, x in stems]
