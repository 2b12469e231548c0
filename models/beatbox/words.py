"""Spoken beatbox words ("boots and cats") for training and scoring the beatbox trigger.

Beginners beatbox with words before they master isolated sounds. espeak-ng speaks whole
phrases through its C library (:mod:`models.beatbox.espeak_events`, one fresh process per
text), so every phoneme's start sample comes with the audio: a plosive's start is its burst,
the first sample above -40 dB re the peak when it opens an utterance. :func:`word_classes`
labels each phoneme (the labelling scheme), :func:`make_phrases` strings augmented
utterances into one stream annotated per phoneme and per word, :func:`train_utterances` and
:func:`test_utterances` draw the training phrases and the held-out "boots and cats" tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soxr
from scipy import fft as sfft
from scipy import signal

from dsp.units import db_to_gain_array
from models.beatbox import corpus, sounds
from models.beatbox.corpus import CLASSES

ESPEAK_RATE_HZ = 22050
_HELPER = Path(__file__).with_name("espeak_events.py")
_RENDERS: dict[tuple, tuple[np.ndarray, tuple]] = {}
_RENDERS_LOCK = threading.Lock()


def espeak_phrase(text: str, voice: str, pitch: int, speed_wpm: int,
                  amplitude: int = 100) -> tuple[np.ndarray, tuple[tuple[str, int, int], ...]]:
    """espeak-ng speaking ``text``: float32 mono at ESPEAK_RATE_HZ and its phonemes.

    Each phoneme is ``(mnemonic, start sample, word number)`` (words count from 1; pauses
    are "_" / "_:", language switches "(en)"). Cached per exact arguments; the audio is
    read-only. The same arguments give the same audio as ``espeak-ng -z`` on the command line.
    """
    key = (text, voice, int(pitch), int(speed_wpm), int(amplitude))
    with _RENDERS_LOCK:
        cached = _RENDERS.get(key)
    if cached is not None:
        return cached
    run = subprocess.run([sys.executable, str(_HELPER), *map(str, key)], capture_output=True,
                         timeout=60)
    if run.returncode != 0:
        raise RuntimeError(f"espeak-ng failed on {key}: {run.stderr.decode(errors='replace')}")
    head, _, raw = run.stdout.partition(b"\n")
    phones = tuple((str(n), int(s), int(w)) for n, s, w in json.loads(head))
    audio = np.frombuffer(raw, dtype=np.int16).astype(np.float32) / 32768.0
    audio.flags.writeable = False
    with _RENDERS_LOCK:
        _RENDERS[key] = (audio, phones)
    return audio, phones


def prefetch(keys: Iterable[tuple], workers: int = 4) -> None:
    """Render the uncached ``(text, voice, pitch, speed, amplitude)`` keys in parallel."""
    todo = sorted({k for k in keys if k not in _RENDERS})
    if todo:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(lambda k: espeak_phrase(*k), todo))


# --- labelling -------------------------------------------------------------------------

KICK_ONSETS = frozenset({"b", "p"})
SNARE_ONSETS = frozenset({"k", "g", "tS", "S", "kS", "kh"})
HAT_PLOSIVES = frozenset({"t", "ts"})
FRICATIVES = frozenset({"f", "S", "s"})
_CARRIERS = HAT_PLOSIVES | FRICATIVES | {"p", "k"}
HAT_MIN_OPEN_S = 0.1  # a word's "ts" this long or longer is an open hat (the kernel's rule)
# A word's drum may fire this long into the sound after its first one: in running speech a
# "k" after the "d" of "and", or a "b" after the "s" of "cats", often rises too little over
# the sound before it for the trigger, which then fires where the vowel starts.
DRUM_WINDOW_S = 0.025


def _is_marker(name: str) -> bool:
    """Pauses and language switches: no sound of their own."""
    return name.startswith("_") or name.startswith("(") or not name


def word_classes(names: list[str]) -> list[str | None]:
    """The class of each phoneme of one word (None for pauses); the labelling scheme.

    - the word's first sound: "b"/"p" is a kick ("boots"), except a "p" straight into a
      fricative ("pf", "psh"), which is a snare; "k"/"g"/"ch"/"sh" a snare ("cats"); "t"/"ts"
      a hat ("tss");
    - a "t" after the first sound is a hat (the "ts" ending "boots" and "cats"), and an "s"
      straight after it belongs to that hat; a later "k" is a snare, a later "b"/"p" a kick
      (beatbox spellings such as "bk", "b t k");
    - everything else (vowels, nasals, "l", "h", the "d" of "and", a lone "s") is "other".
    """
    out: list[str | None] = [None if _is_marker(n) else "other" for n in names]
    sounds_idx = [i for i, n in enumerate(names) if not _is_marker(n)]
    for rank, i in enumerate(sounds_idx):
        name = names[i]
        nxt = names[sounds_idx[rank + 1]] if rank + 1 < len(sounds_idx) else ""
        prev = out[sounds_idx[rank - 1]] if rank > 0 else None
        if name in KICK_ONSETS:
            out[i] = "snare" if name == "p" and nxt in FRICATIVES and rank == 0 else "kick"
        elif name in SNARE_ONSETS:
            out[i] = "snare"
        elif name in HAT_PLOSIVES:
            out[i] = "hat"
        elif (name in FRICATIVES and rank > 0 and prev in ("hat", "snare")
              and names[sounds_idx[rank - 1]] in _CARRIERS):
            out[i] = prev  # the hiss of a "ts", "tss" or "pf": one hit with its plosive
    return out


# --- phrase corpus ----------------------------------------------------------------------


@dataclass(frozen=True)
class WordSplit:
    """espeak-ng voices, variants, speeds and pitches of one split of spoken phrases."""

    voices: tuple[str, ...]
    variants: tuple[str, ...]
    speed_wpm: tuple[tuple[int, int], ...]
    pitch: tuple[tuple[int, int], ...]
    salt: int


_T, _H = sounds.SPLITS["train"], sounds.SPLITS["heldout"]
# Held-out phrases use the corpus' held-out dialects plus two English dialects that nothing
# in training speaks, and the held-out variants, speeds and pitches. Training phrases are also
# spoken slower and faster than any held-out speed (80-90 and 280-350 words per minute), so
# held-out speeds lie inside the trained range without being in it: in fast speech a "k"
# after "and" often does not trigger, and the drum must come from the vowel after it.
WORD_SPLITS: dict[str, WordSplit] = {
    "train": WordSplit(_T.voiced_voices, _T.variants, ((80, 90),) + _T.speed_wpm + ((280, 350),),
                       _T.pitch, 0xB0075),
    "heldout": WordSplit(_H.voiced_voices + ("en-us-nyc", "en-gb-x-gbcwmd"), _H.variants,
                         _H.speed_wpm, _H.pitch, 0xCA75),
}

# Training texts and their weights: the "boots and cats" family, the words alone, and beatbox
# spellings as phoneme input (plain "psh" is spelled out letter by letter).
TRAIN_TEXTS: tuple[tuple[str, float], ...] = (
    ("boots and cats", 3.0), ("boots and cats and boots and cats", 3.0),
    ("boots and cats and", 2.0), ("boots", 1.0), ("cats", 1.0), ("boots cats boots cats", 1.0),
    ("cats and boots", 1.0), ("boot and cat", 1.0), ("and", 0.5), ("boots boots cats", 1.0),
    ("[[pf]]", 0.5), ("[[pS]]", 0.5), ("[[tss]]", 0.5), ("[[bUk]]", 0.5),
    ("[[b@ t@ k@]]", 0.5), ("[[bUts]] [[k&ts]]", 0.5),
)
# The held-out word test: per voice, "boots and cats" said 8 times (8 utterances, each at its
# own held-out speed and pitch): 16 drum words, 8 "boots" and 8 "cats". The chant test says
# "boots and cats boots and cats" 4 times: the same 16 drum words per voice, but every other
# "boots" follows a "cats" with no pause.
TEST_TEXT, TEST_UTTERANCES = "boots and cats", 8
CHANT_TEXT, CHANT_UTTERANCES = "boots and cats boots and cats", 4
# One held-out voice = dialect + variant; each utterance draws its own held-out speed and pitch.
TEST_VOICES: tuple[str, ...] = ("en-gb-scotland+m5", "en-029+f4", "en-gb-x-gbclan+benjamin",
                                "en-us-nyc+grandma", "en-gb-x-gbcwmd+klatt3", "en-029+victor")


@dataclass
class Phrases:
    """Spoken phrases, one after another, annotated per phoneme and per word.

    ``audio``: float32 (n,) mono, peak 0.9. ``seg_starts``: int64 (k,) sorted start sample
    of each phoneme (its burst for a plosive: espeak-ng's own phoneme event); ``seg_labels``:
    int64 (k,) index into :data:`CLASSES` by :func:`word_classes` (hats closed or open by the
    length of their "ts"), -1 for pauses. ``word_onsets``: int64 (w,) first sound of each
    word; ``word_ends``: int64 (w,) end of its drum window (:data:`DRUM_WINDOW_S` after its
    second sound starts, at most the third's start); ``word_labels``: int64 (w,) class of
    its first sound; ``word_texts``, ``word_voices``.
    """

    audio: np.ndarray
    sample_rate_hz: int
    seg_starts: np.ndarray
    seg_labels: np.ndarray
    word_onsets: np.ndarray
    word_ends: np.ndarray
    word_labels: np.ndarray
    word_texts: tuple[str, ...]
    word_voices: tuple[str, ...]


@dataclass(frozen=True)
class Utterance:
    """One espeak-ng utterance: what to say, in which voice, pitch and speed."""

    text: str
    voice: str
    pitch: int
    speed_wpm: int

    @property
    def key(self) -> tuple[str, str, int, int, int]:
        return (self.text, self.voice, self.pitch, self.speed_wpm, 100)


def _draw(split: WordSplit, rng: np.random.Generator, text: str, voice: str | None = None
          ) -> Utterance:
    if voice is None:
        variant = split.variants[rng.integers(len(split.variants))]
        voice = split.voices[rng.integers(len(split.voices))]
        voice = f"{voice}+{variant}" if variant else voice
    speed = sounds._pick_range(rng, split.speed_wpm, 10)
    pitch = sounds._pick_range(rng, split.pitch, 5)
    return Utterance(text, voice, pitch, speed)


def _annotate(utt: Utterance, sr: int) -> tuple[np.ndarray, list, list]:
    """Dry audio at ``sr`` (peak 1), phoneme segments and words of one utterance."""
    raw, phones = espeak_phrase(*utt.key)
    x = soxr.resample(raw, ESPEAK_RATE_HZ, sr).astype(np.float64)
    x = signal.sosfilt(signal.butter(2, 40.0, "highpass", fs=sr, output="sos"), x)
    peak = np.max(np.abs(x))
    if not peak > 0:
        raise ValueError(f"espeak-ng said nothing for {utt}")
    x /= peak
    scale = sr / ESPEAK_RATE_HZ
    starts = [min(len(x), round(s * scale)) for _, s, _ in phones]
    segs, words = [], []
    for w in sorted({w for _, _, w in phones}):
        idx = [i for i, p in enumerate(phones) if p[2] == w]
        names = [phones[i][0] for i in idx]
        classes = word_classes(names)
        ends = [starts[i + 1] if i + 1 < len(phones) else len(x) for i in idx]
        for k, (i, cls) in enumerate(zip(idx, classes, strict=True)):
            if cls == "hat":  # closed or open by the length of the whole "ts"
                run = k
                while run + 1 < len(idx) and classes[run + 1] == "hat":
                    run += 1
                first = k
                while first > 0 and classes[first - 1] == "hat":
                    first -= 1
                length = (ends[run] - starts[idx[first]]) / sr
                cls = "hat_open" if length >= HAT_MIN_OPEN_S else "hat_closed"
            segs.append((starts[i], -1 if cls is None else CLASSES.index(cls)))
        sound = [k for k, c in enumerate(classes) if c is not None]
        if sound:
            k = sound[0]
            first_cls = segs[len(segs) - len(idx) + k][1]
            # the drum window: the first sound and the start of the next (see DRUM_WINDOW_S)
            end = ends[k] + round(DRUM_WINDOW_S * sr)
            if len(sound) > 2:
                end = min(end, starts[idx[sound[2]]])
            texts = utt.text.split()
            words.append((starts[idx[k]], end, first_cls,
                          texts[w - 1] if w - 1 < len(texts) else "?", utt.voice))
    return x, segs, words


def _noise(rng: np.random.Generator, n: int, pink: bool) -> np.ndarray:
    """Unit-RMS white or pink noise, as ``corpus._noise`` but fast for long streams."""
    if not pink:
        return corpus._noise(rng, n, False)
    m = sfft.next_fast_len(n, real=True)
    spec = sfft.rfft(rng.standard_normal(m))
    spec[1:] /= np.sqrt(np.arange(1, len(spec)))
    spec[0] = 0.0
    x = sfft.irfft(spec, m)[:n]
    return x / (np.sqrt(np.mean(x**2)) + 1e-20)


def make_phrases(utterances: list[Utterance], seed: int, sample_rate_hz: int = 48000,
                 augment: bool = True) -> Phrases:
    """Speak ``utterances`` one after another, augmented as the hit corpus is.

    Each utterance (peak 1) gets the corpus' gain, EQ, small room and polarity, and noise at
    20-50 dB SNR (``augment=False``: none of these, noise 80 dB under the loudest 10 ms);
    0.15-0.5 s of noise separate the dry utterances. Deterministic for ``seed``.
    """
    sr = sample_rate_hz
    rng = np.random.default_rng([int(seed), 0x5E7])
    prefetch(u.key for u in utterances)
    items = []
    for utt in utterances:
        dry, segs, words = _annotate(utt, sr)
        wet = corpus._augment(dry, rng, sr) if augment else dry.copy()
        snr = rng.uniform(20.0, 50.0) if augment else 80.0
        items.append((dry, wet, segs, words, corpus._ref_db(wet, sr) - snr,
                      bool(rng.random() < 0.5)))
    pos = int(rng.uniform(0.2, 0.4) * sr)
    offsets = []
    for dry, *_ in items:
        offsets.append(pos)
        pos += len(dry) + int(rng.uniform(0.15, 0.5) * sr)
    end = max(o + len(it[1]) for o, it in zip(offsets, items, strict=True))
    audio = np.zeros(max(end, pos) + int(0.3 * sr))
    seg_starts, seg_labels, w_on, w_end, w_lab, w_txt, w_voice = [], [], [], [], [], [], []
    for off, (_, wet, segs, words, _, _) in zip(offsets, items, strict=True):
        audio[off: off + len(wet)] += wet
        seg_starts += [off + s for s, _ in segs]
        seg_labels += [lab for _, lab in segs]
        for on, e, lab, txt, voice in words:
            w_on.append(off + on)
            w_end.append(off + e)
            w_lab.append(lab)
            w_txt.append(txt)
            w_voice.append(voice)
    t = np.arange(len(audio))
    level = db_to_gain_array(np.interp(t, offsets, [it[4] for it in items]))
    w = np.interp(t, offsets, [float(it[5]) for it in items])
    white, pink = _noise(rng, len(audio), False), _noise(rng, len(audio), True)
    audio += level * ((1 - w) * white + w * pink) / np.sqrt((1 - w) ** 2 + w**2)
    audio *= corpus.PEAK / np.max(np.abs(audio))
    order = np.argsort(seg_starts, kind="stable")
    return Phrases(audio.astype(np.float32), sr, np.array(seg_starts, np.int64)[order],
                   np.array(seg_labels, np.int64)[order], np.array(w_on, np.int64),
                   np.array(w_end, np.int64), np.array(w_lab, np.int64), tuple(w_txt),
                   tuple(w_voice))


def train_utterances(n: int, seed: int) -> list[Utterance]:
    """``n`` training utterances: :data:`TRAIN_TEXTS` by weight, training voices."""
    split = WORD_SPLITS["train"]
    rng = np.random.default_rng([int(seed), split.salt])
    texts = [t for t, _ in TRAIN_TEXTS]
    p = np.array([w for _, w in TRAIN_TEXTS])
    return [_draw(split, rng, texts[rng.choice(len(texts), p=p / p.sum())]) for _ in range(n)]


def test_utterances(seed: int, chant: bool = False, voices: tuple[str, ...] = TEST_VOICES
                    ) -> list[Utterance]:
    """The held-out "boots and cats" test (``chant``: the chant test), :data:`TEST_VOICES`,
    each utterance at its own held-out speed and pitch."""
    split = WORD_SPLITS["heldout"]
    rng = np.random.default_rng([int(seed), split.salt + int(chant)])
    text, n = (CHANT_TEXT, CHANT_UTTERANCES) if chant else (TEST_TEXT, TEST_UTTERANCES)
    return [_draw(split, rng, text, voice) for voice in voices for _ in range(n)]
