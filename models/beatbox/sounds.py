"""Dry vocal-percussion hits for the beatbox corpus: espeak-ng renders and numpy syntheses.

Every hit function returns float32 mono at ``sr`` Hz with peak 1.0, trimmed so that its first
and last samples are the first and last above -40 dB re its peak: index 0 is the hit's onset
and ``len / sr`` its duration in s.

espeak-ng speaks phoneme mnemonics inside ``[[...]]``; plain letters would be spelled ("b" is
"bee"). A lone voiced plosive comes out silent ("[[b]]" is all zeros) and "[[p]]" as a faint
low thud, so kicks are a "b"/"p" + vowel render cut after its first pitch periods. A burst cut
from before a vowel ("[[ta]]") lasts only 3-10 ms in most languages, so hats and snares use
inputs whose fricative or aspiration is the percussive sound ("[[t]]", "[[ts]]", "[[kS]]").
Unvoiced consonants are stored samples per language table: voice variants and pitch leave them
unchanged; only the language (``ja``, ``hi``, ``ru``, ``cmn``, ``hu`` have their own ``t``,
``ts``, ``kS``) and the speed (their length) vary them. Voiced sounds (kick, vowels, hums) vary
with the English dialect, the variant and the pitch.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import soundfile as sf
import soxr
from scipy import signal

from dsp.units import db_to_gain, db_to_gain_array

ESPEAK_RATE_HZ = 22050
FLOOR_DB = -40.0  # hit boundaries, dB re the hit's peak


@dataclass(frozen=True)
class SplitSpec:
    """Source parameter ranges of one split; ranges are (low, high) pairs, unions as tuples."""

    voiced_voices: tuple[str, ...]  # espeak-ng English dialects, for kick and "other"
    unvoiced_voices: tuple[str, ...]  # languages whose consonant samples differ
    variants: tuple[str, ...]  # espeak-ng voice variants ("" = none)
    speed_wpm: tuple[tuple[int, int], ...]
    pitch: tuple[tuple[int, int], ...]  # espeak-ng -p, 0..99
    kick_hz: tuple[float, float]  # final pitch of the synthetic kick, Hz
    snare_band_hz: tuple[tuple[float, float], tuple[float, float]]  # (low edge, high edge) ranges
    snare_tone_hz: tuple[float, float]
    hat_cut_hz: tuple[float, float]  # low band edge of synthetic hats
    voice_f0_hz: tuple[float, float]  # synthetic hums and vowels
    whistle_hz: tuple[float, float]
    salt: int  # mixed into the seed so equal seeds give different hits per split


# Held-out voices, variants, speeds, pitches and synthesis ranges are disjoint from training
# (synthesis ranges shift rather than widen), so a held-out score measures generalisation.
SPLITS: dict[str, SplitSpec] = {
    "train": SplitSpec(
        voiced_voices=("en", "en-us", "en-gb-x-rp"),
        unvoiced_voices=("en", "ja", "hi"),
        variants=("", "m1", "m2", "m3", "m4", "f1", "f2", "f3", "klatt", "klatt2", "Alex", "Andy",
                  "Annie", "adam", "aunty", "belinda", "david", "edward", "Gene", "Lee", "max",
                  "Mike", "norbert", "paul", "robert", "steph", "travis", "iven"),
        speed_wpm=((130, 220),),
        pitch=((25, 75),),
        kick_hz=(55.0, 95.0),
        snare_band_hz=((900.0, 1400.0), (3500.0, 5000.0)),
        snare_tone_hz=(150.0, 210.0),
        hat_cut_hz=(4000.0, 6500.0),
        voice_f0_hz=(90.0, 220.0),
        whistle_hz=(900.0, 1800.0),
        salt=0x7A1,
    ),
    "heldout": SplitSpec(
        voiced_voices=("en-gb-scotland", "en-029", "en-gb-x-gbclan"),
        unvoiced_voices=("ru", "cmn", "hu"),
        variants=("m5", "m6", "m7", "f4", "f5", "klatt3", "klatt4", "AnxiousAndy", "benjamin",
                  "boris", "Denis", "grandma", "grandpa", "john", "linda", "marcelo", "Michael",
                  "michel", "pablo", "quincy", "rob", "sandro", "victor", "zac", "Storm"),
        speed_wpm=((95, 129), (221, 270)),
        pitch=((5, 24), (76, 95)),
        kick_hz=(95.0, 120.0),
        snare_band_hz=((1400.0, 2000.0), (5000.0, 6500.0)),
        snare_tone_hz=(210.0, 250.0),
        hat_cut_hz=(6500.0, 8500.0),
        voice_f0_hz=(220.0, 320.0),
        whistle_hz=(1800.0, 2600.0),
        salt=0x4E1D,
    ),
}

# Phoneme inputs per class; each is cut to the class's length, so a vowel after a kick's
# "b"/"p" leaves only its first, thumping pitch periods.
ESPEAK_ITEMS: dict[str, tuple[str, ...]] = {
    "kick": ("[[pU]]", "[[bU]]", "[[bu:]]", "[[bO]]", "[[pO]]", "[[b@]]"),
    "snare": ("[[kS]]", "[[tS]]", "[[kx]]", "[[kh]]", "[[tSS]]"),
    "hat_closed": ("[[t]]", "[[ts]]", "[[tT]]", "[[T]]"),
    "hat_open": ("[[tsssss]]", "[[Tsssss]]", "[[ssssss]]", "[[tSSSSS]]"),
    "other": ("[[A:]]", "[[mmm]]", "[[u:]]", "[[la:]]", "[[O:]]", "[[hA:]]", "[[hhh]]"),
}
VOICED = frozenset({"kick", "other"})
# Target dry length range (s) and the fraction of it held at full level before the decay.
DURATION_S = {"kick": (0.06, 0.14), "snare": (0.07, 0.15), "hat_closed": (0.02, 0.055),
              "hat_open": (0.165, 0.40), "other": (0.15, 0.45)}
HOLD_FRACTION = {"kick": 0.1, "snare": 0.2, "hat_closed": 0.1, "hat_open": 0.5, "other": 0.7}
# Kicks start at the voiced thump, not at the faint "p" burst or voice bar before it.
ATTACK_DB = {"kick": 12.0, "snare": 20.0, "hat_closed": 20.0, "hat_open": 20.0, "other": 25.0}

_RENDERS: dict[tuple[str, str, int, int, int], np.ndarray] = {}
_RENDERS_LOCK = threading.Lock()


def _espeak() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng)")
    return path


def espeak_render(text: str, voice: str, pitch: int, speed_wpm: int, amplitude: int) -> np.ndarray:
    """espeak-ng's raw output (float32 mono at ESPEAK_RATE_HZ), cached per exact arguments."""
    key = (text, voice, pitch, speed_wpm, amplitude)
    with _RENDERS_LOCK:
        cached = _RENDERS.get(key)
    if cached is not None:
        return cached
    cmd = [_espeak(), "--stdout", "-z", "-v", voice, "-p", str(pitch), "-s", str(speed_wpm),
           "-a", str(amplitude), text]
    wav = subprocess.run(cmd, capture_output=True, check=True, timeout=60).stdout
    audio, rate = sf.read(io.BytesIO(wav), dtype="float32", always_2d=True)
    if rate != ESPEAK_RATE_HZ:
        raise RuntimeError(f"espeak-ng wrote {rate} Hz, expected {ESPEAK_RATE_HZ}")
    audio = np.ascontiguousarray(audio[:, 0])
    audio.flags.writeable = False  # shared through the cache
    with _RENDERS_LOCK:
        _RENDERS[key] = audio
    return audio


def prefetch(keys: Iterable[tuple[str, str, int, int, int]], workers: int = 4) -> None:
    """Render the uncached ``(text, voice, pitch, speed, amplitude)`` keys in a thread pool."""
    todo = sorted({k for k in keys if k not in _RENDERS})
    if todo:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(lambda k: espeak_render(*k), todo))


def _pick_range(rng: np.random.Generator, ranges: tuple[tuple[int, int], ...], step: int) -> int:
    lo, hi = ranges[rng.integers(len(ranges))]
    # Quantised so repeated syllables hit the render cache.
    return int(step * round(rng.uniform(lo, hi) / step))


@dataclass(frozen=True)
class EspeakRecipe:
    """One espeak-ng hit: what to render and how long to keep it (s)."""

    cls: str
    text: str
    voice: str
    pitch: int
    speed_wpm: int
    amplitude: int
    dur_s: float
    pop_gain: float  # lip-pop click added to kicks, re the thump's peak

    @property
    def key(self) -> tuple[str, str, int, int, int]:
        return (self.text, self.voice, self.pitch, self.speed_wpm, self.amplitude)


def espeak_recipe(cls: str, rng: np.random.Generator, spec: SplitSpec,
                  dur_s: float | None = None, pop: bool = True) -> EspeakRecipe:
    """Draw the espeak-ng inputs of one ``cls`` hit; ``dur_s`` fixes the target length."""
    text = ESPEAK_ITEMS[cls][rng.integers(len(ESPEAK_ITEMS[cls]))]
    speed = _pick_range(rng, spec.speed_wpm, 10)
    amplitude = int(rng.choice((60, 80, 100, 120)))
    if cls in VOICED:
        variant = spec.variants[rng.integers(len(spec.variants))]
        voice = spec.voiced_voices[rng.integers(len(spec.voiced_voices))]
        voice = f"{voice}+{variant}" if variant else voice
        pitch = _pick_range(rng, spec.pitch, 5)
    else:  # pitch and variant do not change unvoiced samples: fixed for cache hits
        voice = spec.unvoiced_voices[rng.integers(len(spec.unvoiced_voices))]
        pitch = 50
    target = float(rng.uniform(*DURATION_S[cls])) if dur_s is None else dur_s
    pop_gain = float(rng.uniform(0.2, 0.7)) if cls == "kick" and pop else 0.0
    return EspeakRecipe(cls, text, voice, pitch, speed, amplitude, target, pop_gain)


def espeak_hit(recipe: EspeakRecipe, rng: np.random.Generator, sr: int) -> np.ndarray:
    """Render, cut and shape an espeak-ng recipe into a dry hit at ``sr`` Hz."""
    x = soxr.resample(espeak_render(*recipe.key), ESPEAK_RATE_HZ, sr).astype(np.float64)
    # espeak's stored "p" and some "k" samples carry a DC step; a mic would not pass it.
    x = signal.sosfilt(signal.butter(2, 40.0, "highpass", fs=sr, output="sos"), x)
    x = _from_attack(x, sr, ATTACK_DB[recipe.cls])
    x = shape(x, sr, recipe.dur_s, HOLD_FRACTION[recipe.cls])
    if recipe.pop_gain > 0:  # the lips' pop that a "b" kick starts with
        x = x / np.max(np.abs(x))
        p = lip_pop(rng, sr)
        x[: len(p)] += recipe.pop_gain * p[: len(x)]
    return finish(x)


def _from_attack(x: np.ndarray, sr: int, attack_db: float) -> np.ndarray:
    """Drop the quiet lead-in: start 1 ms before the 1 ms RMS first reaches -attack_db."""
    hop = max(1, int(0.001 * sr))
    n = len(x) // hop
    if n == 0:
        return x
    rms = np.sqrt(np.mean(x[: n * hop].reshape(n, hop) ** 2, axis=1))
    first = int(np.argmax(rms >= rms.max() * db_to_gain(-attack_db)))
    out = x[max(0, (first - 1) * hop):].copy()
    fade = min(len(out), hop)
    out[:fade] *= np.sin(np.linspace(0, np.pi / 2, fade)) ** 2
    return out


def shape(x: np.ndarray, sr: int, dur_s: float, hold_fraction: float) -> np.ndarray:
    """Hold full level for ``hold_fraction`` of ``dur_s``, then fall linearly in dB to -40 dB."""
    n = min(len(x), max(1, round(dur_s * sr)))
    t = np.arange(n) / sr
    hold = hold_fraction * n / sr
    env = db_to_gain_array(FLOOR_DB * np.clip((t - hold) / max(n / sr - hold, 1e-4), 0, None))
    return x[:n] * env


def finish(x: np.ndarray) -> np.ndarray:
    """Trim to the first and last samples above -40 dB re the peak, normalise, float32."""
    mag = np.abs(x)
    peak = float(mag.max()) if len(mag) else 0.0
    if peak <= 0:
        raise ValueError("silent hit")
    above = np.flatnonzero(mag > peak * db_to_gain(FLOOR_DB))
    return (x[above[0]: above[-1] + 1] / peak).astype(np.float32)


def _ramp(n: int, attack: int, release: int) -> np.ndarray:
    env = np.ones(n)
    a, r = min(attack, n), min(release, n)
    env[:a] *= np.sin(np.linspace(0, np.pi / 2, a)) ** 2
    env[n - r:] *= np.cos(np.linspace(0, np.pi / 2, r)) ** 2
    return env


def lip_pop(rng: np.random.Generator, sr: int) -> np.ndarray:
    """A 1-4 ms low-passed noise click, peak 1: the release of closed lips."""
    n = max(4, int(rng.uniform(0.001, 0.004) * sr))
    sos = signal.butter(2, rng.uniform(600.0, 2000.0), "lowpass", fs=sr, output="sos")
    p = signal.sosfilt(sos, rng.standard_normal(n) * np.exp(-np.arange(n) / (0.3 * n)))
    return p / np.max(np.abs(p))


def synth_hit(cls: str, rng: np.random.Generator, spec: SplitSpec, sr: int) -> np.ndarray:
    """A synthetic mouth-like ``cls`` hit at ``sr`` Hz (see the module docstring)."""
    if cls == "kick":
        n = int(rng.uniform(0.08, 0.2) * sr)
        t = np.arange(n) / sr
        f_end = rng.uniform(*spec.kick_hz)
        f = f_end + f_end * rng.uniform(1.0, 3.0) * np.exp(-t / rng.uniform(0.008, 0.025))
        x = np.sin(2 * np.pi * np.cumsum(f) / sr) * shape(np.ones(n), sr, n / sr, 0.1)
        p = lip_pop(rng, sr)
        x[: len(p)] += rng.uniform(0.2, 0.6) * p[:n]
    elif cls == "snare":
        n = int(rng.uniform(0.08, 0.15) * sr)
        t = np.arange(n) / sr
        band = (rng.uniform(*spec.snare_band_hz[0]), rng.uniform(*spec.snare_band_hz[1]))
        sos = signal.butter(2, band, "bandpass", fs=sr, output="sos")
        body = signal.sosfilt(sos, rng.standard_normal(n))
        body /= np.max(np.abs(body))
        tone = np.sin(2 * np.pi * rng.uniform(*spec.snare_tone_hz) * t)
        tone *= np.exp(-t / rng.uniform(0.01, 0.03)) * rng.uniform(0.2, 0.6)
        x = (body + tone) * shape(np.ones(n), sr, n / sr, rng.uniform(0.05, 0.2))
    elif cls in ("hat_closed", "hat_open"):
        dur = rng.uniform(0.02, 0.055) if cls == "hat_closed" else rng.uniform(0.165, 0.4)
        n = int(dur * sr)
        low = min(rng.uniform(*spec.hat_cut_hz), 0.3 * sr)
        # A mouth's hiss fades above ~2x its lowest band edge, unlike a cymbal's.
        band = (low, min(low * rng.uniform(1.7, 2.5), 0.45 * sr))
        sos = signal.butter(2, band, "bandpass", fs=sr, output="sos")
        hold = rng.uniform(0.05, 0.2) if cls == "hat_closed" else rng.uniform(0.3, 0.7)
        x = signal.sosfilt(sos, rng.standard_normal(n)) * shape(np.ones(n), sr, dur, hold)
    elif cls == "other":
        x = _synth_other(rng, spec, sr)
    else:
        raise ValueError(f"unknown class {cls!r}")
    return finish(x)


def _synth_other(rng: np.random.Generator, spec: SplitSpec, sr: int) -> np.ndarray:
    """Non-drum mouth sounds: vowels, hums, whistles, breaths (slow attacks), tongue clicks."""
    kind = ("vowel", "hum", "whistle", "breath", "click")[rng.integers(5)]
    if kind == "click":  # a tongue click: a short ring of one mouth resonance
        n = int(rng.uniform(0.01, 0.03) * sr)
        b, a = signal.iirpeak(rng.uniform(1200.0, 3500.0), rng.uniform(8.0, 25.0), fs=sr)
        exc = np.zeros(n)
        exc[: max(2, int(0.0005 * sr))] = rng.standard_normal(max(2, int(0.0005 * sr)))
        return signal.lfilter(b, a, exc) * shape(np.ones(n), sr, n / sr, 0.0)
    n = int(rng.uniform(0.15, 0.45) * sr)
    t = np.arange(n) / sr
    env = _ramp(n, int(rng.uniform(0.02, 0.08) * sr), int(rng.uniform(0.03, 0.08) * sr))
    if kind == "breath":
        band = (rng.uniform(300.0, 700.0), rng.uniform(1500.0, 3000.0))
        sos = signal.butter(2, band, "bandpass", fs=sr, output="sos")
        return signal.sosfilt(sos, rng.standard_normal(n)) * env
    vibrato = 1 + rng.uniform(0.003, 0.015) * np.sin(2 * np.pi * rng.uniform(4.0, 6.5) * t)
    if kind == "whistle":
        phase = 2 * np.pi * np.cumsum(rng.uniform(*spec.whistle_hz) * vibrato) / sr
        return (np.sin(phase) + 0.02 * rng.standard_normal(n)) * env
    f0 = rng.uniform(*spec.voice_f0_hz)
    top = 4000.0 if kind == "vowel" else 800.0  # a hum's closed mouth passes little treble
    phase = 2 * np.pi * np.cumsum(f0 * vibrato) / sr
    tilt = rng.uniform(1.0, 2.0)
    x = sum(np.sin(k * phase) / k**tilt for k in range(1, int(top // f0) + 2))
    return x * env
