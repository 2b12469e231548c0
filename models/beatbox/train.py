"""Train and evaluate the beatbox-hit classifier on the generated corpus.

Training data is what the live trigger itself computes: the corpus audio goes through
``dsp.beatbox.detect`` (the callback's kernel), each detection is matched to the nearest
true onset within ``MATCH_MS`` and takes its label (closed and open hats are one class:
their length, not their attack, tells them apart), and detections with no true onset
(a reverb tail, a noise burst) are labelled "other", so the model learns to stay silent
on them. Spoken phrases ("boots and cats", see ``words.py``) go through the same kernel;
their detections are labelled by the phoneme they land on (:func:`phrase_labels`). The MLP
(tanh hidden layer) is fitted full-batch with torch (Adam, class-balanced cross-entropy,
weight decay; phrase detections weigh ``phrase_weight``, default ``PHRASE_WEIGHT``),
seeded, on one thread: the same command gives the same weights.

Evaluation runs the trained trigger over a held-out corpus (other voices and speeds,
see ``corpus.py``) and reports the 5-class accuracy of matched hits (hats resolved by
length at their release), detection recall, and the onset F-measure (mir_eval, 20 ms) of
the drum hits fired against the input's drum hits; and over held-out voices saying
"boots and cats" (:func:`score_words`): how many "boots" play a kick and "cats" a snare.

Training and evaluation run the detector at one rise (``rise_db``: how far the fast
envelope must climb over the slow one, the engine's ``beatbox_sensitivity_db``; default that
parameter's registry default). The classifier learns the detections that rise produces, so
the engine should run at the rise its weights were trained at (the record's ``rise_db``).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dsp import beatbox
from models.beatbox.classifier import LAYERS, WEIGHTS_PATH

MATCH_MS = 10.0  # a detection this close to a true onset is that hit
HIDDEN = 32
EPOCHS = 2000
WEIGHT_DECAY = 3e-4
PHRASES = 1000  # spoken training utterances
# Loss weight of a phrase detection against a corpus hit's 1: the phrases teach words
# without outweighing the corpus' isolated sounds. With EPOCHS 2000 (seed 0) 0.45 plays every
# hit of the shipped example (docs/examples/beatbox.wav, a training-split voice) and keeps the
# held-out corpus and words (0.863 accuracy, 0.908 onset F, 27 false drums; 87 of 96 words);
# 0.3 and 3000 epochs heard the example's 9th hit, a kick, as "other" (p 0.67), as did 0.25
# to 0.6 at weight decay 1e-3 (see the test of the example in test_classifier.py).
PHRASE_WEIGHT = 0.45
PHRASE_CHUNK = 100  # utterances per generated stream
SAMPLE_RATE_HZ = 48000
LABEL_TO_MODEL = np.array([beatbox.M_KICK, beatbox.M_SNARE, beatbox.M_HAT, beatbox.M_HAT,
                           beatbox.M_OTHER])


def default_rise_db() -> float:
    """The engine's default detector rise: ``beatbox_sensitivity_db`` in the registry."""
    from presets.registry import param

    return float(param("beatbox_sensitivity_db").default)


def _rise(rise_db: float | None) -> float:
    return default_rise_db() if rise_db is None else float(rise_db)


def _detect(x: np.ndarray, sample_rate_hz: float, weights: np.ndarray,
            rise_db: float | None, slow_release_ms: float | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
    """``dsp.beatbox.detect`` at ``rise_db`` (floor, hat gate and, unless given, the slow
    envelope's fall: the kernel's defaults, which are the engine's)."""
    release = beatbox.SLOW_RELEASE_MS if slow_release_ms is None else slow_release_ms
    return beatbox.detect(x, sample_rate_hz, weights, ratio_db=_rise(rise_db),
                          slow_release_ms=release)


def _untrained() -> np.ndarray:
    """Valid weights for a feature-collecting pass (the classes it picks are ignored)."""
    h = 1
    return beatbox.pack_weights(np.zeros(beatbox.N_FEATURES), np.ones(beatbox.N_FEATURES),
                                np.zeros((beatbox.N_FEATURES, h)), np.zeros(h),
                                np.zeros((h, len(beatbox.MODEL_CLASSES))),
                                np.zeros(len(beatbox.MODEL_CLASSES)))


def _match(fired_onsets: np.ndarray, true_onsets: np.ndarray, tol: int) -> np.ndarray:
    """For each detection, the index of the true onset within ``tol`` frames, else -1."""
    out = np.full(fired_onsets.shape[0], -1, dtype=np.int64)
    if true_onsets.size == 0:
        return out
    pos = np.searchsorted(true_onsets, fired_onsets)
    for i, (f, p) in enumerate(zip(fired_onsets, pos, strict=True)):
        best, dist = -1, tol + 1
        for j in (p - 1, p):
            if 0 <= j < true_onsets.size and abs(int(true_onsets[j]) - int(f)) < dist:
                best, dist = j, abs(int(true_onsets[j]) - int(f))
        out[i] = best
    return out


def dataset(corpus, rise_db: float | None = None, slow_release_ms: float | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
    """Features and model-class labels of every detection in ``corpus`` (at ``rise_db``
    and the detector's ``slow_release_ms``)."""
    events, feats = _detect(corpus.audio, corpus.sample_rate_hz, _untrained(), rise_db,
                            slow_release_ms)
    hits = events[events[:, beatbox.EV_KIND] == beatbox.EV_HIT]
    tol = round(MATCH_MS * 1e-3 * corpus.sample_rate_hz)
    idx = _match(hits[:, beatbox.EV_ONSET], corpus.onsets, tol)
    labels = np.where(idx >= 0, LABEL_TO_MODEL[corpus.labels[np.maximum(idx, 0)]],
                      beatbox.M_OTHER)
    return feats, labels.astype(np.int64)


def fit(feats: np.ndarray, labels: np.ndarray, hidden: int = HIDDEN, epochs: int = EPOCHS,
        seed: int = 0, sample_weight: np.ndarray | None = None,
        weight_decay: float = WEIGHT_DECAY) -> tuple[np.ndarray, ...]:
    """Fit the MLP; returns its layers in ``dsp.beatbox.pack_weights`` argument order.

    Classes are balanced by weight; ``sample_weight`` (default all 1) scales each row's loss.
    """
    import torch

    torch.manual_seed(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        mean = feats.mean(axis=0)
        std = np.maximum(feats.std(axis=0), 1e-6)
        x = torch.tensor((feats - mean) / std, dtype=torch.float32)
        y = torch.tensor(labels)
        sw = np.ones(labels.size) if sample_weight is None else np.asarray(sample_weight, float)
        counts = np.bincount(labels, weights=sw, minlength=len(beatbox.MODEL_CLASSES))
        cw = counts.sum() / np.maximum(counts, 1e-9) / len(counts)
        w = torch.tensor(sw * cw[labels] / np.sum(sw * cw[labels]), dtype=torch.float32)
        net = torch.nn.Sequential(torch.nn.Linear(feats.shape[1], hidden), torch.nn.Tanh(),
                                  torch.nn.Linear(hidden, len(beatbox.MODEL_CLASSES)))
        opt = torch.optim.Adam(net.parameters(), lr=1e-2, weight_decay=weight_decay)
        loss_fn = torch.nn.CrossEntropyLoss(reduction="none")
        for _ in range(epochs):
            opt.zero_grad()
            loss = torch.sum(w * loss_fn(net(x), y))
            loss.backward()
            opt.step()
        l1, l2 = net[0], net[2]
        layers = (mean, std, l1.weight.detach().numpy().T, l1.bias.detach().numpy(),
                  l2.weight.detach().numpy().T, l2.bias.detach().numpy())
    finally:
        torch.set_num_threads(threads)
    return layers


@dataclass
class Scores:
    """Held-out results of the whole trigger path (detector + classifier + hat gate)."""

    accuracy: float  # 5-class, over detected true hits
    recall: float  # true hits detected within MATCH_MS
    onset_f: float  # fired drum hits vs input drum hits, mir_eval, 20 ms
    false_hits: int  # drum hits fired where there was no hit
    confusion: list[list[int]]  # rows true class, columns predicted (CLASSES order)
    hits: int

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def evaluate(weights: np.ndarray, corpus, rise_db: float | None = None) -> Scores:
    """Run the trigger with ``weights`` at ``rise_db`` over ``corpus`` and score it (see
    module doc)."""
    import mir_eval

    sr = corpus.sample_rate_hz
    events, _ = _detect(corpus.audio, sr, weights, rise_db)
    hits, predicted, _ = beatbox.resolve_hits(events)
    # a hat cut off by the end of the corpus counts as closed
    predicted[predicted == beatbox.HAT_PENDING] = beatbox.HAT_CLOSED
    tol = round(MATCH_MS * 1e-3 * sr)
    idx = _match(hits[:, beatbox.EV_ONSET], corpus.onsets, tol)
    n_classes = len(beatbox.CLASSES)
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    matched = idx >= 0
    for j, p in zip(idx[matched], predicted[matched], strict=True):
        confusion[corpus.labels[j], p] += 1
    detected = np.unique(idx[matched]).size
    drums_in = corpus.onsets[corpus.labels != beatbox.OTHER] / sr
    fired = hits[hits[:, beatbox.EV_VOICE] >= 0]
    drums_out = fired[:, -1] / sr  # the frame each drum starts at
    f, _, _ = mir_eval.onset.f_measure(drums_in, drums_out, window=0.02)
    fired_idx = _match(fired[:, beatbox.EV_ONSET], corpus.onsets, tol)
    false_hits = int(np.sum((fired_idx < 0) | (corpus.labels[np.maximum(fired_idx, 0)]
                                               == beatbox.OTHER)))
    return Scores(accuracy=float(np.trace(confusion) / max(1, confusion.sum())),
                  recall=detected / max(1, corpus.onsets.size), onset_f=float(f),
                  false_hits=false_hits, confusion=confusion.tolist(),
                  hits=int(corpus.onsets.size))


def word_tests(seed: int) -> dict:
    """The held-out "boots and cats" tests for ``seed``: name -> ``words.Phrases``.

    "words": 8 utterances of "boots and cats" per held-out voice, clean (as a user would
    render them); "augmented": the same with the corpus' gain, EQ, room and noise;
    "chant": 4 utterances of "boots and cats boots and cats" per voice, clean.
    """
    from models.beatbox import words

    return {"words": words.make_phrases(words.test_utterances(seed), seed, augment=False),
            "augmented": words.make_phrases(words.test_utterances(seed), seed),
            "chant": words.make_phrases(words.test_utterances(seed, chant=True), seed,
                                        augment=False)}


def train(out: Path = WEIGHTS_PATH, train_hits: int = 3000, heldout_hits: int = 600,
          seed: int = 0, command: str = "", phrases: int = PHRASES,
          rise_db: float | None = None, phrase_weight: float = PHRASE_WEIGHT,
          epochs: int = EPOCHS, weight_decay: float = WEIGHT_DECAY,
          train_slow_release_ms: float | None = None) -> dict:
    """Generate the corpora, fit, evaluate, and write ``out`` atomically; returns the record.

    ``phrases``: spoken training utterances (``words.train_utterances``; 0: hits only).
    ``rise_db``: the detector rise training and evaluation run at (default: the engine's,
    :func:`default_rise_db`). ``phrase_weight``: loss weight of a phrase detection (a corpus
    hit weighs 1); ``epochs``, ``weight_decay``: the fit's (:func:`fit`).
    ``train_slow_release_ms``: the slow envelope's fall of the detector whose detections
    the classifier learns from (default: the kernel's, ``SLOW_RELEASE_MS``); the scores are
    always measured with the kernel's, as the engine runs.
    """
    train_release = (beatbox.SLOW_RELEASE_MS if train_slow_release_ms is None
                     else float(train_slow_release_ms))
    rise_db = _rise(rise_db)
    from models.beatbox import words
    from models.beatbox.corpus import make_corpus

    start = time.perf_counter()
    train_set = make_corpus(train_hits, seed, "train", SAMPLE_RATE_HZ)
    feats, labels = dataset(train_set, rise_db, train_release)
    weights_ = np.ones(labels.size)
    n_phrase = 0
    if phrases:
        utts = words.train_utterances(phrases, seed)
        words.prefetch(u.key for u in utts)
        parts = [phrase_dataset(words.make_phrases(utts[k: k + PHRASE_CHUNK],
                                                   seed * 1000 + k // PHRASE_CHUNK,
                                                   sample_rate_hz=SAMPLE_RATE_HZ), rise_db,
                                 train_release)
                 for k in range(0, phrases, PHRASE_CHUNK)]  # in chunks: memory stays small
        p_feats = np.concatenate([f for f, _ in parts])
        p_labels = np.concatenate([lab for _, lab in parts])
        keep = p_labels >= 0
        p_weights = np.full(int(keep.sum()), float(phrase_weight))
        feats = np.concatenate([feats, p_feats[keep]])
        labels = np.concatenate([labels, p_labels[keep]])
        weights_ = np.concatenate([weights_, p_weights])
        n_phrase = int(keep.sum())
    layers = fit(feats, labels, epochs=epochs, seed=seed, sample_weight=weights_,
                 weight_decay=weight_decay)
    weights = beatbox.pack_weights(*layers)
    held = evaluate(weights, make_corpus(heldout_hits, seed + 1, "heldout", SAMPLE_RATE_HZ),
                    rise_db)
    train_scores = evaluate(weights, train_set, rise_db)
    word_scores = {name: score_words(weights, ph, rise_db).as_dict()
                   for name, ph in word_tests(seed + 1).items()}
    record = {"command": command, "seed": seed, "train_hits": train_hits,
              "heldout_hits": heldout_hits, "phrases": phrases, "rise_db": rise_db,
              "train_slow_release_ms": train_release,
              "slow_release_ms": float(beatbox.SLOW_RELEASE_MS),
              "detections": int(labels.size), "phrase_detections": n_phrase,
              "hidden": HIDDEN, "epochs": int(epochs), "weight_decay": float(weight_decay),
              "phrase_weight": float(phrase_weight), "features": list(beatbox.FEATURE_NAMES),
              "classes": list(beatbox.CLASSES), "heldout": held.as_dict(),
              "train": train_scores.as_dict(), "heldout_words": word_scores,
              "seconds": round(time.perf_counter() - start, 1)}
    out = Path(out)
    tmp = out.with_name(out.name + ".tmp.npz")
    np.savez(tmp, **dict(zip(LAYERS, layers, strict=True)),
             record=np.array(json.dumps(record)))
    os.replace(tmp, out)
    return record


def segment_labels(frames: np.ndarray, phrases) -> np.ndarray:
    """Class (index into CLASSES) of each detection frame in spoken ``phrases``.

    A detection takes the phoneme that starts latest but at most ``MATCH_MS`` after it (the
    trigger may fire on the breath just before a burst); pauses and the noise before the
    first phoneme are "other". Then the first detection in each drum word's window (its
    first sound and the start of its second, ``words.DRUM_WINDOW_S``) takes the word's drum:
    that is the hit a performer saying "boots" or "cats" hears.
    """
    tol = round(MATCH_MS * 1e-3 * phrases.sample_rate_hz)
    idx = np.searchsorted(phrases.seg_starts, frames + tol, side="right") - 1
    labels = np.where(idx >= 0, phrases.seg_labels[np.maximum(idx, 0)], beatbox.OTHER)
    labels = np.where(labels < 0, beatbox.OTHER, labels).astype(np.int64)
    for w, i in enumerate(_first_in_windows(frames, phrases, tol)):
        if i >= 0:
            labels[i] = phrases.word_labels[w]
    return labels


def _first_in_windows(frames: np.ndarray, phrases, tol: int) -> np.ndarray:
    """Per word, the index of the first detection in its drum window (-1: none, or not a
    drum word)."""
    out = np.full(phrases.word_onsets.size, -1, dtype=np.int64)
    drum = (phrases.word_labels == beatbox.KICK) | (phrases.word_labels == beatbox.SNARE)
    for w in np.flatnonzero(drum):
        on, end = phrases.word_onsets[w], phrases.word_ends[w]
        inside = np.flatnonzero((frames >= on - tol) & (frames < end))
        if inside.size:
            out[w] = inside[0]
    return out


def phrase_labels(frames: np.ndarray, phrases) -> np.ndarray:
    """Training labels (model classes) of detections in spoken ``phrases``; -1: left out.

    As :func:`segment_labels`, except that a word's drum found only after its first sound
    (on the vowel of "cats" when its "k" did not trigger) is left out of training: those
    6 ms are a vowel's onset, as the corpus' "other" sounds are, and labelling them a drum
    teaches the model to fire on vowels. Scoring still counts such a drum as the word's.
    """
    tol = round(MATCH_MS * 1e-3 * phrases.sample_rate_hz)
    labels = LABEL_TO_MODEL[segment_labels(frames, phrases)]
    seg = np.searchsorted(phrases.seg_starts, frames + tol, side="right") - 1
    for w, i in enumerate(_first_in_windows(frames, phrases, tol)):
        if i >= 0 and phrases.seg_starts[seg[i]] > phrases.word_onsets[w]:
            labels[i] = -1
    return labels.astype(np.int64)


def phrase_dataset(phrases, rise_db: float | None = None,
                   slow_release_ms: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Features and :func:`phrase_labels` of every detection in spoken ``phrases`` (at
    ``rise_db`` and the detector's ``slow_release_ms``)."""
    events, feats = _detect(phrases.audio, phrases.sample_rate_hz, _untrained(), rise_db,
                            slow_release_ms)
    hits = events[events[:, beatbox.EV_KIND] == beatbox.EV_HIT]
    return feats, phrase_labels(hits[:, beatbox.EV_ONSET].astype(np.int64), phrases)


@dataclass
class WordScores:
    """Held-out "boots and cats": did each drum word fire its drum on its first sound?"""

    right: int  # drum words whose first hit in their first sound is their drum
    words: int  # drum words ("boots": kick, "cats": snare)
    per_voice: dict  # voice -> [right, words]
    missed: int  # drum words with no hit in their first sound
    and_drums: int  # drums fired inside an "and" (it should play nothing)
    hats: int  # hats fired on the "ts" ending a word (the labelling's hat)
    lag_ms_median: float  # right words: word onset to the hit's onset, ms
    lag_ms_p90: float

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def score_words(weights: np.ndarray, phrases, rise_db: float | None = None) -> WordScores:
    """Run the trigger with ``weights`` at ``rise_db`` over held-out ``phrases`` and score
    their words.

    A drum word is right when the first hit in its drum window (from ``MATCH_MS`` before its
    first sound to ``words.DRUM_WINDOW_S`` into its second) plays its drum.
    """
    sr = phrases.sample_rate_hz
    events, _ = _detect(phrases.audio, sr, weights, rise_db)
    hits, predicted, _ = beatbox.resolve_hits(events)
    predicted[predicted == beatbox.HAT_PENDING] = beatbox.HAT_CLOSED
    onsets = hits[:, beatbox.EV_ONSET].astype(np.int64)
    tol = round(MATCH_MS * 1e-3 * sr)
    first = _first_in_windows(onsets, phrases, tol)
    right, words, missed, lag_ms = 0, 0, 0, []
    per_voice: dict[str, list[int]] = {}
    for w, i in enumerate(first):
        lab = phrases.word_labels[w]
        if lab not in (beatbox.KICK, beatbox.SNARE):
            continue
        ok = i >= 0 and predicted[i] == lab
        if ok:
            lag_ms.append((onsets[i] - phrases.word_onsets[w]) * 1e3 / sr)
        missed += i < 0
        words += 1
        right += ok
        voice = phrases.word_voices[w]
        per_voice.setdefault(voice, [0, 0])
        per_voice[voice][0] += int(ok)
        per_voice[voice][1] += 1
    fired = hits[:, beatbox.EV_VOICE] >= 0
    word_of = np.searchsorted(phrases.word_onsets, onsets + tol, side="right") - 1
    in_and = np.array([w >= 0 and phrases.word_texts[w] == "and" for w in word_of], bool)
    seg = segment_labels(onsets, phrases)
    is_hat = (predicted == beatbox.HAT_CLOSED) | (predicted == beatbox.HAT_OPEN)
    lag = np.array(lag_ms) if lag_ms else np.zeros(1)
    return WordScores(right=int(right), words=words, per_voice=per_voice, missed=int(missed),
                      and_drums=int(np.sum(fired & in_and)),
                      hats=int(np.sum(is_hat & ((seg == beatbox.HAT_CLOSED)
                                                | (seg == beatbox.HAT_OPEN)))),
                      lag_ms_median=round(float(np.median(lag)), 1),
                      lag_ms_p90=round(float(np.percentile(lag, 90)), 1))
