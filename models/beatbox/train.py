"""Train and evaluate the beatbox-hit classifier on the generated corpus.

Training data is what the live trigger itself computes: the corpus audio goes through
``dsp.beatbox.detect`` (the callback's kernel), each detection is matched to the nearest
true onset within ``MATCH_MS`` and takes its label (closed and open hats are one class:
their length, not their attack, tells them apart), and detections with no true onset
(a reverb tail, a noise burst) are labelled "other", so the model learns to stay silent
on them. The MLP (tanh hidden layer) is fitted full-batch with torch (Adam, class-balanced
cross-entropy, weight decay), seeded, on one thread: the same command gives the same
weights.

Evaluation runs the trained trigger over a held-out corpus (other voices and speeds,
see ``corpus.py``) and reports the 5-class accuracy of matched hits (hats resolved by
length at their release), detection recall, and the onset F-measure (mir_eval, 20 ms) of
the drum hits fired against the input's drum hits.
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
EPOCHS = 3000
WEIGHT_DECAY = 1e-3
SAMPLE_RATE_HZ = 48000
LABEL_TO_MODEL = np.array([beatbox.M_KICK, beatbox.M_SNARE, beatbox.M_HAT, beatbox.M_HAT,
                           beatbox.M_OTHER])


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


def dataset(corpus) -> tuple[np.ndarray, np.ndarray]:
    """Features and model-class labels of every detection in ``corpus``."""
    events, feats = beatbox.detect(corpus.audio, corpus.sample_rate_hz, _untrained())
    hits = events[events[:, beatbox.EV_KIND] == beatbox.EV_HIT]
    tol = round(MATCH_MS * 1e-3 * corpus.sample_rate_hz)
    idx = _match(hits[:, beatbox.EV_ONSET], corpus.onsets, tol)
    labels = np.where(idx >= 0, LABEL_TO_MODEL[corpus.labels[np.maximum(idx, 0)]],
                      beatbox.M_OTHER)
    return feats, labels.astype(np.int64)


def fit(feats: np.ndarray, labels: np.ndarray, hidden: int = HIDDEN, epochs: int = EPOCHS,
        seed: int = 0) -> tuple[np.ndarray, ...]:
    """Fit the MLP; returns its layers in ``dsp.beatbox.pack_weights`` argument order."""
    import torch

    torch.manual_seed(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        mean = feats.mean(axis=0)
        std = np.maximum(feats.std(axis=0), 1e-6)
        x = torch.tensor((feats - mean) / std, dtype=torch.float32)
        y = torch.tensor(labels)
        counts = np.bincount(labels, minlength=len(beatbox.MODEL_CLASSES)).astype(np.float64)
        weight = torch.tensor(counts.sum() / np.maximum(counts, 1.0) / len(counts),
                              dtype=torch.float32)
        net = torch.nn.Sequential(torch.nn.Linear(feats.shape[1], hidden), torch.nn.Tanh(),
                                  torch.nn.Linear(hidden, len(beatbox.MODEL_CLASSES)))
        opt = torch.optim.Adam(net.parameters(), lr=1e-2, weight_decay=WEIGHT_DECAY)
        loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
        for _ in range(epochs):
            opt.zero_grad()
            loss = loss_fn(net(x), y)
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


def evaluate(weights: np.ndarray, corpus) -> Scores:
    """Run the trigger with ``weights`` over ``corpus`` and score it (see module doc)."""
    import mir_eval

    sr = corpus.sample_rate_hz
    events, _ = beatbox.detect(corpus.audio, sr, weights)
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


def train(out: Path = WEIGHTS_PATH, train_hits: int = 3000, heldout_hits: int = 600,
          seed: int = 0, command: str = "") -> dict:
    """Generate the corpora, fit, evaluate, and write ``out`` atomically; returns the record."""
    from models.beatbox.corpus import make_corpus

    start = time.perf_counter()
    train_set = make_corpus(train_hits, seed, "train", SAMPLE_RATE_HZ)
    feats, labels = dataset(train_set)
    layers = fit(feats, labels, seed=seed)
    weights = beatbox.pack_weights(*layers)
    held = evaluate(weights, make_corpus(heldout_hits, seed + 1, "heldout", SAMPLE_RATE_HZ))
    train_scores = evaluate(weights, train_set)
    record = {"command": command, "seed": seed, "train_hits": train_hits,
              "heldout_hits": heldout_hits, "detections": int(labels.size),
              "hidden": HIDDEN, "epochs": EPOCHS, "features": list(beatbox.FEATURE_NAMES),
              "classes": list(beatbox.CLASSES), "heldout": held.as_dict(),
              "train": train_scores.as_dict(),
              "seconds": round(time.perf_counter() - start, 1)}
    out = Path(out)
    tmp = out.with_name(out.name + ".tmp.npz")
    np.savez(tmp, **dict(zip(LAYERS, layers, strict=True)),
             record=np.array(json.dumps(record)))
    os.replace(tmp, out)
    return record
