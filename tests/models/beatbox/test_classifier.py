"""The shipped beatbox classifier: held-out scores, training pipeline, file errors, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dsp import beatbox
from engine.cli import main
from models.beatbox import train
from models.beatbox.classifier import load_record, load_weights
from models.beatbox.corpus import make_corpus

EXAMPLE = Path(__file__).resolve().parents[3] / "docs/examples/beatbox.wav"


def test_shipped_weights_meet_the_targets_on_the_held_out_corpus():
    """Issue targets: class accuracy >= 0.85, drum-onset F >= 0.9 (20 ms) on held-out hits.

    The held-out corpus (other voices, languages, speeds, synthesis ranges) is the one the
    training record scores; the run is deterministic, so this re-measures those numbers
    through today's kernel. Other held-out seeds measured 0.844-0.863 / 0.901-0.907.
    """
    record = load_record()
    held = make_corpus(record["heldout_hits"], record["seed"] + 1, "heldout")
    scores = train.evaluate(load_weights(), held)
    assert scores.accuracy >= 0.85, scores
    assert scores.onset_f >= 0.9, scores
    assert scores.recall >= 0.88, scores
    assert scores.accuracy == pytest.approx(record["heldout"]["accuracy"], abs=0.01)


def test_a_small_training_run_learns_and_writes_a_loadable_file(tmp_path):
    out = tmp_path / "small.npz"
    record = train.train(out, train_hits=150, heldout_hits=60, seed=4, command="test")
    weights = load_weights(out)
    assert weights.size == beatbox.pack_weights(
        *(np.zeros(s) for s in (beatbox.N_FEATURES, beatbox.N_FEATURES,
                                (beatbox.N_FEATURES, train.HIDDEN), train.HIDDEN,
                                (train.HIDDEN, 4), 4))).size
    assert record["train"]["accuracy"] > 0.8  # it fits its own data
    assert record["heldout"]["accuracy"] > 0.4  # and is far above chance (0.2) elsewhere
    assert load_record(out)["command"] == "test"
    assert [p.name for p in tmp_path.iterdir()] == ["small.npz"]


def test_missing_or_foreign_weights_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="beatbox train"):
        load_weights(tmp_path / "absent.npz")
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="not a beatbox classifier"):
        load_weights(tmp_path / "other.npz")


def test_detect_command_on_the_shipped_example(capsys):
    assert main(["beatbox", "detect", str(EXAMPLE), "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    # the example plays K h S h K K S h / K h S h K h S open-hat at 100 BPM
    pattern = "k h s h k k s h k h s h k h s o".split()
    names = {"k": "kick", "s": "snare", "h": "hat_closed", "o": "hat_open"}
    assert len(hits) == 16
    correct = sum(h["class"] == names[p] for h, p in zip(hits, pattern, strict=True))
    assert correct >= 15, [h["class"] for h in hits]
    np.testing.assert_allclose([h["onset_s"] for h in hits], 0.25 + 0.3 * np.arange(16),
                               atol=0.01)


def test_detect_command_rejects_a_bad_file(tmp_path, capsys):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio")
    assert main(["beatbox", "detect", str(bad)]) == 2
    assert "bad.wav" in capsys.readouterr().err
