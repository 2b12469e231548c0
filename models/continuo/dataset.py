"""Training and held-out material for the neural transcriber: audio, features and labels.

Takes (:mod:`models.continuo.performances`) are rendered dry with fluidsynth at 24 kHz and
brought to 12 kHz with soxr. Training renders use FluidR3 (Debian's ``fluid-soundfont-gm``)
and, for the voice, the synthetic sung phrases of :mod:`models.continuo.corpus` besides
the soundfont's choir and voice programs; the held-out set uses TimGM6mb
(``timgm6mb-soundfont``) and other seeds, never trained on, and the corpus's held-out
voices. Training audio is augmented (:func:`augment`): level, EQ and a mic's low cut,
a room, and noise or hum.

Labels per feature frame (frame t ends at sample (t + 1) * HOP) and per key (MIDI 21-108):
``onset`` on the ``ONSET_FRAMES`` frames from the one a note starts in, ``frame`` while
it sounds, the fine ``offset`` (semitones from the key, the pitch curve's value at the
frame's end) and the note's ``velocity`` on its onset frames.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import signal

from dsp.units import db_to_gain
from models.continuo import corpus
from models.continuo.frontend import HOP, RATE_HZ, features
from models.continuo.notes import Note
from models.continuo.performances import INSTRUMENTS, Performance, performance
from models.fluid import CorpusError, soundfont  # noqa: F401  (this set's API)
from models.fluid import render as render_midi

TRAIN_SOUNDFONT = "FluidR3_GM.sf2"
HELDOUT_SOUNDFONT = "TimGM6mb.sf2"
N_KEYS = 88
LOW_KEY = 21
RENDER_RATE_HZ = 24000
HELDOUT_SEED = 100_000
# takes (or sung phrases) per instrument and split
TRAIN_TAKES = {"piano": 100, "guitar": 100, "violin": 80, "flute": 80, "voice": 50}
TRAIN_PHRASES = 120
# frames an onset label spans from the hop the note starts in (43 ms): a bowed, blown or
# sung attack is heard some way into the note, and a causal network cannot fire before it
ONSET_FRAMES = 4


@dataclass
class Clip:
    """Mono audio at ``rate_hz`` with its truth notes and instrument."""

    audio: np.ndarray
    rate_hz: int
    notes: list[Note]
    instrument: str


def render(perf: Performance, sf2: Path, rate_hz: int = RATE_HZ) -> np.ndarray:
    """The take rendered dry, mono, at ``rate_hz`` (12 kHz or RENDER_RATE_HZ), as long as
    the take."""
    import soxr

    with tempfile.TemporaryDirectory() as tmp:
        mid, wav = Path(tmp) / "take.mid", Path(tmp) / "take.wav"
        perf.midi.save(mid)
        audio = render_midi(mid, sf2, RENDER_RATE_HZ, wav, gain=0.4)
    mono = audio.mean(axis=1)
    if rate_hz != RENDER_RATE_HZ:
        mono = soxr.resample(mono, RENDER_RATE_HZ, rate_hz)
    n = int(perf.duration_s * rate_hz)
    out = np.zeros(n, np.float32)
    out[: min(n, mono.size)] = mono[:n]
    return out


def augment(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random level, EQ, mic low cut, room and noise; one clip in five stays clean."""
    peak = np.max(np.abs(x)) + 1e-9
    x = x / peak * db_to_gain(rng.uniform(-30, -1))
    if rng.random() < 0.2:
        return x.astype(np.float32)
    for _ in range(int(rng.integers(0, 4))):
        f0, gain_db, q = rng.uniform(100, 4000), rng.uniform(-12, 12), rng.uniform(0.5, 3.0)
        a_gain = 10 ** (gain_db / 40)
        w0 = 2 * np.pi * f0 / RATE_HZ
        alpha = np.sin(w0) / (2 * q)
        b = [1 + alpha * a_gain, -2 * np.cos(w0), 1 - alpha * a_gain]
        a = [1 + alpha / a_gain, -2 * np.cos(w0), 1 - alpha / a_gain]
        x = signal.lfilter(b, a, x)
    if rng.random() < 0.5:
        x = signal.lfilter(*signal.butter(2, rng.uniform(40, 200), "highpass", fs=RATE_HZ), x)
    if rng.random() < 0.5:
        rt60_s = rng.uniform(0.15, 1.0)
        t = np.arange(int(rt60_s * RATE_HZ)) / RATE_HZ
        ir = rng.standard_normal(t.size) * np.exp(-6.9 * t / rt60_s)
        wet = signal.fftconvolve(x, ir / np.sqrt(np.sum(ir ** 2)))[: x.size]
        x = x + rng.uniform(0.1, 0.6) * wet
    if rng.random() < 0.6:
        rms = np.sqrt(np.mean(x ** 2)) + 1e-9
        kind = rng.choice(["white", "pink", "hum"])
        if kind == "hum":
            t = np.arange(x.size) / RATE_HZ
            mains = rng.choice([50.0, 60.0])
            noise = sum(np.sin(2 * np.pi * mains * h * t + rng.uniform(0, 6)) / h
                        for h in range(1, 6))
        else:
            noise = rng.standard_normal(x.size)
            if kind == "pink":
                noise = signal.lfilter([0.05], [1, -0.95], noise)
        noise *= rms * db_to_gain(-rng.uniform(15, 45)) / (np.sqrt(np.mean(noise ** 2)) + 1e-12)
        x = x + noise
    return np.clip(x, -1.0, 1.0).astype(np.float32)


def labels(notes: list[Note], n_frames: int) -> dict[str, np.ndarray]:
    """Frame targets (see the module docstring) for ``notes`` over ``n_frames`` frames."""
    onset = np.zeros((n_frames, N_KEYS), np.uint8)
    frame = np.zeros((n_frames, N_KEYS), np.uint8)
    offset = np.zeros((n_frames, N_KEYS), np.float16)
    velocity = np.zeros((n_frames, N_KEYS), np.float16)
    frame_end_s = (np.arange(n_frames) + 1) * HOP / RATE_HZ
    for n in notes:
        t0 = int(n.start_s * RATE_HZ // HOP)
        t1 = min(int(n.end_s * RATE_HZ // HOP), n_frames)
        if t0 >= n_frames or t1 <= t0:
            continue
        times = np.array([b[0] for b in n.bends])
        values = np.array([b[1] for b in n.bends])
        for t in range(t0, t1):
            if times.size:
                i = np.searchsorted(times, frame_end_s[t], side="right") - 1
                p = values[i] if i >= 0 else values[0]
            else:
                p = n.pitch
            k = int(np.clip(round(p) - LOW_KEY, 0, N_KEYS - 1))
            frame[t, k] = 1
            offset[t, k] = np.clip(p - round(p), -0.5, 0.5)
            if t < t0 + ONSET_FRAMES:
                onset[t, k] = 1
                velocity[t, k] = n.velocity
    return {"onset": onset, "frame": frame, "offset": offset, "velocity": velocity}


def heldout_clips(instrument: str, count: int) -> list[Clip]:
    """Held-out clean clips at their rendered rate: TimGM6mb takes (24 kHz, peak -10 dBFS),
    or the corpus's held-out sung phrases (48 kHz)."""
    if instrument == "voice":
        return [Clip(p.audio, p.sample_rate_hz, p.notes, "voice")
                for p in corpus.split_phrases("heldout", count)]
    return clean_takes(instrument, range(HELDOUT_SEED, HELDOUT_SEED + count),
                       HELDOUT_SOUNDFONT)


def clean_takes(instrument: str, seeds: range, soundfont_name: str) -> list[Clip]:
    """Unaugmented takes of ``seeds`` through ``soundfont_name`` at the render rate, peak
    -10 dBFS (held-out and development material)."""
    sf2 = soundfont(soundfont_name)
    out = []
    for seed in seeds:
        perf = performance(instrument, seed)
        audio = render(perf, sf2, RENDER_RATE_HZ)
        out.append(Clip((audio / (np.max(np.abs(audio)) + 1e-9) * 0.3).astype(np.float32),
                        RENDER_RATE_HZ, perf.notes, instrument))
    return out


def _phrase_clip(ph: corpus.Phrase) -> Clip:
    import soxr

    return Clip(soxr.resample(ph.audio, ph.sample_rate_hz, RATE_HZ).astype(np.float32),
                RATE_HZ, ph.notes, "voice")


def _train_clips(instrument: str) -> list[Clip]:
    sf2 = soundfont(TRAIN_SOUNDFONT)
    clips = [Clip(render(p, sf2), RATE_HZ, p.notes, instrument)
             for p in (performance(instrument, s, broad=True)
                       for s in range(TRAIN_TAKES[instrument]))]
    if instrument == "voice":
        clips += [_phrase_clip(corpus.phrase(s, "dev")) for s in range(TRAIN_PHRASES)]
    return clips


def build(cache: Path, log=print) -> Path:
    """Render, augment and label the training set into ``cache/train.npz`` (reused when
    present): features (frames, N_FEATURES) float16, the label arrays, ``instrument``
    per frame and ``clip_start`` per clip."""
    out = cache / "train.npz"
    if out.exists():
        return out
    cache.mkdir(parents=True, exist_ok=True)
    feats, labs, inst, starts = [], [], [], []
    total = 0
    for i, name in enumerate(INSTRUMENTS):
        clips = _train_clips(name)
        for j, clip in enumerate(clips):
            rng = np.random.default_rng([7, i, j])
            x = augment(clip.audio, rng)
            f = features(x)
            if rng.random() < 0.03:  # digital silence stays silence
                f = features(np.zeros_like(x))
                clip = Clip(clip.audio, RATE_HZ, [], name)
            feats.append(f.astype(np.float16))
            labs.append(labels(clip.notes, f.shape[0]))
            inst.append(np.full(f.shape[0], i, np.uint8))
            starts.append(total)
            total += f.shape[0]
        log(f"{name}: {len(clips)} clips, {total} frames so far")
    arrays = {k: np.concatenate([lab[k] for lab in labs]) for k in labs[0]}
    tmp = cache / "train.tmp.npz"
    np.savez(tmp, features=np.concatenate(feats), instrument=np.concatenate(inst),
             clip_start=np.array(starts), **arrays)
    tmp.replace(out)
    return out
