"""A generated vocal-percussion (beatbox) corpus for training and testing a hit classifier.

Hits are labelled with :data:`CLASSES`. Half of each class's hits come from espeak-ng speaking
percussive phonemes (kick "pU"/"bU" thumps with a lip pop, snare "kS"/"tS"/"kx", closed hat
"t"/"ts", open hat "tsss"/"tSSS", other vowels/hums/breaths; see :mod:`models.beatbox.sounds`),
half from numpy/scipy syntheses of the same mouth sounds. A classifier sees about 5 ms after an
onset plus the hit's duration, so classes differ in their attack spectra (kick low, snare mid
and broadband, hats high) and hats in length (closed < 60 ms, open 150-400 ms).

Every hit is augmented: gain -24..0 dB, EQ (high shelf and peaking filter, +-6 dB each), a
small room (exponentially decaying noise IR, RT60 0-150 ms, random wet), random polarity, and
noise at 20-50 dB SNR (white or pink; SNR re the hit's loudest 10 ms RMS). Augmentation ranges
are the same for both splits; ``"heldout"`` differs in its espeak-ng voices, variants, speeds
and pitches and in its synthesis ranges (:data:`models.beatbox.sounds.SPLITS`), and in its seeds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import soundfile as sf
from scipy import signal

from dsp.io.atomic import atomic_path
from dsp.units import db_to_gain, db_to_gain_array, power_to_db
from models.beatbox import sounds

CLASSES: tuple[str, ...] = ("kick", "snare", "hat_closed", "hat_open", "other")
HIT_PREROLL_S = 0.01  # noise before the onset in :func:`make_hits` hits, s
PEAK = 0.9  # corpus peak, full scale


@dataclass
class Corpus:
    """A beatbox performance and its hit annotations.

    ``audio``: float32 (n,) mono at ``sample_rate_hz``, peak 0.9. ``onsets``: int64 (k,) sample
    index of each hit's onset (its dry sound's first sample above -40 dB re its peak, before
    reverb and noise). ``labels``: int64 (k,) index into :data:`CLASSES`. ``durations_s``:
    float64 (k,) length of each dry hit, s.
    """

    audio: np.ndarray
    sample_rate_hz: int
    onsets: np.ndarray
    labels: np.ndarray
    durations_s: np.ndarray


@dataclass
class _Hit:
    wet: np.ndarray  # augmented, without noise; index 0 is the onset
    label: int
    dur_s: float
    noise_db: float  # noise RMS, dBFS before the corpus' final normalisation
    pink: bool


def _check(n_hits: int, split: str, sample_rate_hz: int) -> sounds.SplitSpec:
    if split not in sounds.SPLITS:
        raise ValueError(f"split must be one of {sorted(sounds.SPLITS)}, got {split!r}")
    if int(n_hits) != n_hits or n_hits < 1:
        raise ValueError(f"n_hits must be an integer >= 1, got {n_hits}")
    if sample_rate_hz < 16000:
        raise ValueError(f"sample_rate_hz must be >= 16000, got {sample_rate_hz}")
    return sounds.SPLITS[split]


def _labels(n_hits: int, rng: np.random.Generator) -> np.ndarray:
    """Every class n // 5 or n // 5 + 1 times, shuffled."""
    counts = np.full(len(CLASSES), n_hits // len(CLASSES))
    counts[rng.choice(len(CLASSES), n_hits % len(CLASSES), replace=False)] += 1
    return rng.permutation(np.repeat(np.arange(len(CLASSES)), counts)).astype(np.int64)


def _biquad(kind: str, f_hz: float, gain_db: float, q: float, sr: int) -> tuple:
    """RBJ-cookbook peaking or high-shelf biquad (scipy.signal designs neither)."""
    amp = 10 ** (gain_db / 40)
    w = 2 * np.pi * f_hz / sr
    alpha = np.sin(w) / (2 * q)
    cos = np.cos(w)
    if kind == "peak":
        b = [1 + alpha * amp, -2 * cos, 1 - alpha * amp]
        a = [1 + alpha / amp, -2 * cos, 1 - alpha / amp]
    else:
        s = 2 * np.sqrt(amp) * alpha
        b = [amp * ((amp + 1) + (amp - 1) * cos + s), -2 * amp * ((amp - 1) + (amp + 1) * cos),
             amp * ((amp + 1) + (amp - 1) * cos - s)]
        a = [(amp + 1) - (amp - 1) * cos + s, 2 * ((amp - 1) - (amp + 1) * cos),
             (amp + 1) - (amp - 1) * cos - s]
    return np.array(b) / a[0], np.array(a) / a[0]


def _augment(dry: np.ndarray, rng: np.random.Generator, sr: int) -> np.ndarray:
    """Gain, EQ, small room and polarity; causal, so index 0 stays the onset."""
    x = dry.astype(np.float64) * db_to_gain(rng.uniform(-24.0, 0.0))
    x = signal.lfilter(*_biquad("shelf", rng.uniform(1000.0, 4000.0), rng.uniform(-6, 6), 0.7, sr),
                       x)
    f_peak = np.exp(rng.uniform(np.log(200.0), np.log(min(8000.0, 0.4 * sr))))
    x = signal.lfilter(*_biquad("peak", f_peak, rng.uniform(-6, 6), rng.uniform(0.7, 3.0), sr), x)
    rt60 = rng.uniform(0.0, 0.15)
    if rt60 > 0.01:
        n = int(1.2 * rt60 * sr)
        t = np.arange(n) / sr
        tail = rng.standard_normal(n) * db_to_gain_array(-60.0 * t / rt60)  # -60 dB at rt60
        tail[: int(rng.uniform(0.001, 0.006) * sr)] = 0.0  # the first reflection's delay
        ir = rng.uniform(0.05, 0.6) * tail / np.sqrt(np.sum(tail**2) + 1e-20)
        ir[0] += 1.0
        x = signal.fftconvolve(x, ir)
    return x if rng.random() < 0.5 else -x


def _ref_db(x: np.ndarray, sr: int) -> float:
    """The loudest 10 ms RMS, dBFS: the SNR reference."""
    win = min(len(x), max(1, int(0.01 * sr)))
    power = np.convolve(x**2, np.ones(win) / win, mode="valid")
    return power_to_db(np.max(power) + 1e-20)


def _render(n_hits: int, seed: int, split: str, sr: int) -> tuple[list[_Hit], np.random.Generator]:
    spec = _check(n_hits, split, sr)
    streams = np.random.SeedSequence([int(seed), spec.salt]).spawn(n_hits + 1)
    layout = np.random.default_rng(streams[0])
    labels = _labels(n_hits, layout)
    rngs = [np.random.default_rng(s) for s in streams[1:]]
    # Recipes are drawn first so that the espeak-ng renders can run in parallel.
    recipes = [sounds.espeak_recipe(CLASSES[lab], r, spec) if r.random() < 0.5 else None
               for lab, r in zip(labels, rngs, strict=True)]
    sounds.prefetch(rec.key for rec in recipes if rec is not None)
    hits = []
    for lab, r, rec in zip(labels, rngs, recipes, strict=True):
        cls = CLASSES[lab]
        dry = sounds.espeak_hit(rec, r, sr) if rec else sounds.synth_hit(cls, r, spec, sr)
        wet = _augment(dry, r, sr)
        noise_db = _ref_db(wet, sr) - r.uniform(20.0, 50.0)
        hits.append(_Hit(wet, int(lab), len(dry) / sr, noise_db, bool(r.random() < 0.5)))
    return hits, layout


def _noise(rng: np.random.Generator, n: int, pink: bool) -> np.ndarray:
    """Unit-RMS white or pink (-3 dB/octave) noise."""
    x = rng.standard_normal(n)
    if pink:
        spec = np.fft.rfft(x)
        spec[1:] /= np.sqrt(np.arange(1, len(spec)))
        spec[0] = 0.0
        x = np.fft.irfft(spec, n)
    return x / (np.sqrt(np.mean(x**2)) + 1e-20)


def make_hits(n_hits: int, seed: int, split: str = "train",
              sample_rate_hz: int = 48000) -> list[tuple[np.ndarray, int]]:
    """Isolated augmented hits: ``(audio, label)`` pairs, float32 mono at ``sample_rate_hz``.

    Each hit's onset is at sample ``round(HIT_PREROLL_S * sample_rate_hz)`` (10 ms of its
    noise come before it); the audio runs to the end of the reverb tail. Not peak-normalised.
    Labels are balanced as in :func:`make_corpus`. Deterministic for ``seed``.
    """
    hits, layout = _render(n_hits, seed, split, sample_rate_hz)
    pre = round(HIT_PREROLL_S * sample_rate_hz)
    out = []
    for hit in hits:
        audio = np.zeros(pre + len(hit.wet))
        audio[pre:] = hit.wet
        audio += db_to_gain(hit.noise_db) * _noise(layout, len(audio), hit.pink)
        out.append((audio.astype(np.float32), hit.label))
    return out


def make_corpus(n_hits: int, seed: int, split: str = "train",
                sample_rate_hz: int = 48000) -> Corpus:
    """A beatbox performance of ``n_hits`` augmented hits, one after another.

    Starts with 200-400 ms of noise; onsets are 120-500 ms apart and at least a hit's dry
    duration + 30 ms after it, so only reverb tails overlap. The noise floor follows each hit's
    SNR, interpolated in dB between onsets. ``split`` is ``"train"`` or ``"heldout"``.
    Deterministic for ``seed``. Raises ValueError on an unknown split or ``n_hits < 1``.
    """
    sr = sample_rate_hz
    hits, layout = _render(n_hits, seed, split, sr)
    onsets = np.empty(n_hits, dtype=np.int64)
    pos = int(layout.uniform(0.2, 0.4) * sr)
    for i, hit in enumerate(hits):
        onsets[i] = pos
        pos += int(layout.uniform(max(0.12, hit.dur_s + 0.03), 0.5) * sr)
    end = max(int(o) + len(h.wet) for o, h in zip(onsets, hits, strict=True))
    audio = np.zeros(end + int(layout.uniform(0.2, 0.4) * sr))
    for onset, hit in zip(onsets, hits, strict=True):
        audio[onset: onset + len(hit.wet)] += hit.wet
    t = np.arange(len(audio))
    level = db_to_gain_array(np.interp(t, onsets, [h.noise_db for h in hits]))
    w = np.interp(t, onsets, [float(h.pink) for h in hits])
    white, pink = _noise(layout, len(audio), False), _noise(layout, len(audio), True)
    audio += level * ((1 - w) * white + w * pink) / np.sqrt((1 - w) ** 2 + w**2)
    audio *= PEAK / np.max(np.abs(audio))
    return Corpus(audio.astype(np.float32), sr, onsets, np.array([h.label for h in hits]),
                  np.array([h.dur_s for h in hits], dtype=np.float64))


EXAMPLE_PATTERN = ("kick", "hat_closed", "snare", "hat_closed", "kick", "kick", "snare",
                   "hat_closed", "kick", "hat_closed", "snare", "hat_closed", "kick",
                   "hat_closed", "snare", "hat_open")  # 2 bars of 8th notes


def write_example(path: str | os.PathLike, seconds: float = 6.0, seed: int = 0,
                  sample_rate_hz: int = 48000, bpm: float = 100.0) -> tuple[np.ndarray, np.ndarray]:
    """Write a short beatbox loop (espeak-ng voice only, dry) to the WAV file ``path``.

    Plays :data:`EXAMPLE_PATTERN` (8th notes at ``bpm``; as many whole bars as fit in
    ``seconds``: 2 for the defaults) after a 250 ms lead-in, in one voice, speed and pitch
    drawn from the training split. The file (16-bit PCM, peak 0.9) is written to a temporary
    file beside ``path``, then renamed over it, so readers never see a partial file. Returns
    ``(onsets, labels)``: int64 sample indices and int64 indices into :data:`CLASSES`.
    """
    sr = sample_rate_hz
    if bpm <= 0:
        raise ValueError(f"bpm must be > 0, got {bpm}")
    step, lead = 30.0 / bpm, 0.25
    steps = int((seconds - lead) / step) // 8 * 8  # whole bars only
    if steps < 8:
        raise ValueError(f"{seconds} s at {bpm} BPM holds no bar after the 250 ms lead-in")
    rng = np.random.default_rng([int(seed), 0xE7A])
    spec = sounds.SPLITS["train"]
    performer = sounds.espeak_recipe("kick", rng, spec, pop=False)
    performer_uv = sounds.espeak_recipe("snare", rng, spec)
    audio = np.zeros(int(seconds * sr))
    onsets, labels = [], []
    for i in range(steps):
        cls = EXAMPLE_PATTERN[i % len(EXAMPLE_PATTERN)]
        lo, hi = sounds.DURATION_S[cls]
        recipe = sounds.espeak_recipe(cls, rng, spec, pop=False,
                                      dur_s=rng.uniform(lo, max(lo, min(hi, 0.9 * step))))
        like = performer if cls in sounds.VOICED else performer_uv  # one voice throughout
        recipe = sounds.EspeakRecipe(cls, recipe.text, like.voice, like.pitch,
                                     like.speed_wpm, like.amplitude, recipe.dur_s, 0.0)
        hit = sounds.espeak_hit(recipe, rng, sr) * db_to_gain(rng.uniform(-3.0, 0.0))
        onset = int((lead + i * step) * sr)
        n = min(len(hit), len(audio) - onset)
        audio[onset: onset + n] += hit[:n]
        onsets.append(onset)
        labels.append(CLASSES.index(cls))
    audio *= PEAK / np.max(np.abs(audio))
    with atomic_path(path) as tmp:
        sf.write(tmp, audio.astype(np.float32), sr, subtype="PCM_16")
    return np.array(onsets, dtype=np.int64), np.array(labels, dtype=np.int64)
