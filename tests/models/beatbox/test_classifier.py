"""The shipped beatbox classifier: held-out scores, training pipeline, file errors, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dsp import beatbox
from engine.cli import main
from models.beatbox import train
from models.beatbox.classifier import load_record, load_weights
from models.beatbox.corpus import EXAMPLE_PATTERN, make_corpus
from presets.registry import param

EXAMPLE = Path(__file__).resolve().parents[3] / "docs/examples/beatbox.wav"


def test_shipped_weights_meet_the_targets_on_the_held_out_corpus():
    """Issue targets: class accuracy >= 0.85, drum-onset F >= 0.9 (20 ms) on held-out hits.

    The held-out corpus (other voices, languages, speeds, synthesis ranges) is the one the
    training record scores; the run is deterministic, so this re-measures those numbers
    through today's kernel at the engine's default detector rise (the registry's
    ``beatbox_sensitivity_db``, which the weights were trained at).

    Since the detector's slow envelope falls over 20 ms (it rose and fell over 40 ms), it
    fires on the plosives inside words. The weights are still learnt from the detections of
    the 40 ms detector (``--train-slow-release-ms 40``: the same weights as before, to the
    bit) and scored with today's: 0.866 / 0.916 F / 33 false drums here (with the 40 ms
    detector 0.863 / 0.908 / 27), 0.877 / 0.911 / 36 and 0.859 / 0.903 / 37 on held-out
    seeds 2 and 3 (before 0.863 / 0.899 / 36 and 0.858 / 0.884 / 37). Learnt from the 20 ms
    detector's own detections they scored 0.859 / 0.908 / 32 here but played a kick of the
    shipped example as "other"; 25 ms: 0.847 / 0.902 / 38. The same settings fitted from
    other initial weights scored 0.841-0.857 accuracy and 0.892-0.901 F (40 ms detector):
    the training seed alone moves these numbers that much.

    Retrained at a lower rise instead, the words improved but this corpus did not hold
    (seed 1, 40 ms detector): 8 dB 0.856 / 0.891 / 36 false drums, 7 dB 0.810 / 0.852 / 65
    (the detector then fires again inside long sounds, and a hit inside an open hat cuts it
    short).
    """
    record = load_record()
    held = make_corpus(record["heldout_hits"], record["seed"] + 1, "heldout")
    scores = train.evaluate(load_weights(), held)  # at the registry's default rise
    assert scores.accuracy >= 0.853, scores
    assert scores.onset_f >= 0.903, scores
    assert scores.false_hits <= 33, scores
    assert scores.recall >= 0.93, scores
    assert scores.accuracy == pytest.approx(record["heldout"]["accuracy"], abs=0.01)


def test_shipped_weights_are_scored_with_the_engines_detector():
    """The record's scores are the engine's: measured with the kernel's slow envelope,
    whatever detector the training detections came from."""
    record = load_record()
    assert record["slow_release_ms"] == beatbox.SLOW_RELEASE_MS
    assert f"--train-slow-release-ms {record['train_slow_release_ms']:g}" in record["command"]


def test_shipped_weights_were_trained_at_the_engines_default_rise():
    """The classifier learns the detections one rise produces: the engine must run at it."""
    record = load_record()
    assert train.default_rise_db() == param("beatbox_sensitivity_db").default
    assert record["rise_db"] == train.default_rise_db(), (
        "retrain (`musicmill beatbox train --rise-db R`) when beatbox_sensitivity_db's "
        "default changes")
    assert f"--rise-db {record['rise_db']:g}" in record["command"]


def test_shipped_weights_play_every_hit_of_the_shipped_example():
    """docs/examples/beatbox.wav (``corpus.write_example``: EXAMPLE_PATTERN in one training-split
    voice) plays all 16 of its hits, each as its drum; the live trigger-latency test and the
    demo need every one. Hats come out closed or open as the kernel resolves them (by their
    length at release). Weights trained with phrase weight 0.3 and 3000 epochs heard the 9th
    hit, a kick at 2.65 s, as "other" (kick 0.33, other 0.67); the shipped ones give it 0.85.
    """
    x, sr = sf.read(EXAMPLE, dtype="float32", always_2d=True)
    events, _ = beatbox.detect(x, sr, load_weights(), ratio_db=train.default_rise_db())
    hits, labels, _ = beatbox.resolve_hits(events)
    assert [beatbox.CLASSES[lab] if lab >= 0 else "hat (pending)" for lab in labels] == list(
        EXAMPLE_PATTERN)
    np.testing.assert_allclose(hits[:, beatbox.EV_ONSET] / sr, 0.25 + 0.3 * np.arange(16),
                               atol=0.01)  # 8th notes at 100 BPM after a 250 ms lead-in
    assert np.all(hits[:, beatbox.EV_VOICE] >= 0)  # every hit plays a drum


def test_a_lower_rise_finds_more_hits():
    held = make_corpus(60, seed=3, split="heldout")
    counts = [train.dataset(held, rise)[1].size for rise in (12.0, 9.0, 6.0)]
    assert counts[0] < counts[1] < counts[2], counts
    default = train.dataset(held)[1].size
    assert default == train.dataset(held, param("beatbox_sensitivity_db").default)[1].size


def test_a_small_training_run_learns_and_writes_a_loadable_file(tmp_path):
    out = tmp_path / "small.npz"
    record = train.train(out, train_hits=150, heldout_hits=60, seed=4, command="test",
                         phrases=20, rise_db=7.5)
    weights = load_weights(out)
    assert weights.size == beatbox.pack_weights(
        *(np.zeros(s) for s in (beatbox.N_FEATURES, beatbox.N_FEATURES,
                                (beatbox.N_FEATURES, train.HIDDEN), train.HIDDEN,
                                (train.HIDDEN, 4), 4))).size
    assert record["train"]["accuracy"] > 0.8  # it fits its own data
    assert record["heldout"]["accuracy"] > 0.4  # and is far above chance (0.2) elsewhere
    assert load_record(out)["command"] == "test"
    assert record["rise_db"] == 7.5
    assert record["phrase_detections"] > 20  # the spoken phrases were trained on too
    assert set(record["heldout_words"]) == {"words", "augmented", "chant"}
    assert record["heldout_words"]["words"]["words"] == 16 * 6
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
    assert [h["class"] for h in hits] == [names[p] for p in pattern]
    np.testing.assert_allclose([h["onset_s"] for h in hits], 0.25 + 0.3 * np.arange(16),
                               atol=0.01)


def test_detect_command_takes_the_rise(capsys):
    counts = []
    for rise in ("9", "3"):
        assert main(["beatbox", "detect", str(EXAMPLE), "--json", "--rise-db", rise]) == 0
        counts.append(len(json.loads(capsys.readouterr().out)["hits"]))
    assert counts[0] == 16 and counts[1] > 16, counts  # 3 dB: it fires again inside sounds


def test_train_command_rejects_a_rise_outside_the_engines_range(tmp_path, capsys):
    assert main(["beatbox", "train", "--rise-db", "2", "--out", str(tmp_path / "w.npz")]) == 2
    assert "beatbox_sensitivity_db" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_train_command_records_its_fit_settings(tmp_path, monkeypatch, capsys):
    """The record's command names every fit setting, so it retrains the same weights after a
    default moves; the shipped record's command says what the shipped weights used."""
    calls = []
    monkeypatch.setattr(train, "train", lambda *a, **kw: calls.append((a, kw)) or {})
    out = tmp_path / "w.npz"
    assert main(["beatbox", "train", "--out", str(out)]) == 0
    assert main(["beatbox", "train", "--out", str(out), "--phrase-weight", "0.3",
                 "--epochs", "3000", "--weight-decay", "1e-4", "--seed", "2"]) == 0
    capsys.readouterr()
    (_, default), (args, custom) = calls
    assert (default["phrase_weight"], default["epochs"], default["weight_decay"]) == (
        train.PHRASE_WEIGHT, train.EPOCHS, train.WEIGHT_DECAY)
    assert (custom["phrase_weight"], custom["epochs"], custom["weight_decay"]) == (
        0.3, 3000, 1e-4)
    assert args[4] == (f"musicmill beatbox train --seed 2 --rise-db {train.default_rise_db():g}"
                       f" --phrase-weight 0.3 --epochs 3000 --weight-decay 0.0001 --out {out}")
    record = load_record()
    assert (f"--phrase-weight {record['phrase_weight']:g} --epochs {record['epochs']} "
            f"--weight-decay {record['weight_decay']:g}") in record["command"]
    for bad in (["--phrase-weight", "0"], ["--epochs", "0"], ["--weight-decay", "-1"]):
        assert main(["beatbox", "train", "--out", str(out), *bad]) == 2
        assert bad[0] in capsys.readouterr().err
    assert len(calls) == 2 and not out.exists()


def test_detect_command_rejects_a_bad_file(tmp_path, capsys):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio")
    assert main(["beatbox", "detect", str(bad)]) == 2
    assert "bad.wav" in capsys.readouterr().err
