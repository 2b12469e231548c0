"""``musicmill samples build`` through engine.cli.main with only the samples subcommand."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from engine import cli

SR = 48000


@pytest.fixture(autouse=True)
def only_samples(monkeypatch):
    # Importing every other subcommand (torch, PortAudio) is not what these tests are about.
    monkeypatch.setattr(cli, "COMMANDS", ("samples",))


@pytest.fixture
def clicks(tmp_path):
    """A file of four decaying 1 kHz-ish noise bursts at 0.1, 0.4, 0.7, 1.0 s (-6 dBFS)."""
    rng = np.random.default_rng(0)
    x = np.zeros(int(1.4 * SR))
    burst = rng.standard_normal(int(0.1 * SR)) * np.exp(-np.arange(int(0.1 * SR)) / (0.01 * SR))
    for t in (0.1, 0.4, 0.7, 1.0):
        i0 = int(t * SR)
        x[i0:i0 + burst.size] += 0.5 * burst / np.max(np.abs(burst))
    path = tmp_path / "clicks.wav"
    sf.write(path, x.astype(np.float32), SR, subtype="FLOAT")
    return path


def entries(folder):
    return sorted(p.name for p in folder.iterdir())


def test_build_prints_a_summary(clicks, tmp_path, capsys):
    assert cli.main(["samples", "build", str(clicks), "-o", str(tmp_path / "kit")]) == 0
    out = capsys.readouterr().out
    index = json.loads((tmp_path / "kit" / "index.json").read_text())
    assert len(index["slices"]) == 4
    assert [round(s["start_s"], 2) for s in index["slices"]] == [0.1, 0.4, 0.7, 1.0]
    assert all(s["source"] == str(clicks) for s in index["slices"])  # as given
    total_s = sum(s["duration_s"] for s in index["slices"])
    assert f"4 slices, {total_s:.2f} s" in out
    classes = {s["class"] for s in index["slices"]}
    for cls in classes:
        assert f"  {cls:<6}" in out
    assert entries(tmp_path / "kit") == ["index.json", "slices", "strudel.json"]
    strudel = json.loads((tmp_path / "kit" / "strudel.json").read_text())
    assert set(strudel) == {"_base"} | {f"kit_{c}" for c in classes}


def test_json_prints_the_index(clicks, tmp_path, capsys):
    assert cli.main(["samples", "build", str(clicks), "-o", str(tmp_path / "kit"),
                     "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    # the index as written, and how many NaN or infinite samples the inputs held
    assert printed.pop("nonfinite_replaced") == 0
    assert printed == json.loads((tmp_path / "kit" / "index.json").read_text())


def test_silent_input_exits_2_and_leaves_nothing(tmp_path, capsys):
    sf.write(tmp_path / "silence.wav", np.zeros(SR, np.float32), SR)
    code = cli.main(["samples", "build", str(tmp_path / "silence.wav"), "-o",
                     str(tmp_path / "kit")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("musicmill: error: ") and err.count("\n") == 1
    assert "silence.wav: no slices (silent" in err
    assert entries(tmp_path) == ["silence.wav"]


def test_silent_input_beside_a_good_one_is_skipped_with_a_warning(clicks, tmp_path, capsys):
    sf.write(tmp_path / "silence.wav", np.zeros(SR, np.float32), SR)
    assert cli.main(["samples", "build", str(tmp_path / "silence.wav"), str(clicks), "-o",
                     str(tmp_path / "kit")]) == 0
    assert "musicmill: warning: " in capsys.readouterr().err
    assert len(json.loads((tmp_path / "kit" / "index.json").read_text())["slices"]) == 4


def test_existing_folder_is_untouched_without_force(clicks, tmp_path, capsys):
    kit = tmp_path / "kit"
    kit.mkdir()
    (kit / "mine.txt").write_text("keep")
    assert cli.main(["samples", "build", str(clicks), "-o", str(kit)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert entries(kit) == ["mine.txt"] and (kit / "mine.txt").read_text() == "keep"
    assert entries(tmp_path) == ["clicks.wav", "kit"]


def test_force_replaces_a_bank(clicks, tmp_path):
    kit = str(tmp_path / "kit")
    assert cli.main(["samples", "build", str(clicks), "-o", kit]) == 0
    assert cli.main(["samples", "build", str(clicks), "-o", kit, "--max-ms", "20",
                     "--min-ms", "10", "--force"]) == 0
    index = json.loads((tmp_path / "kit" / "index.json").read_text())
    assert [s["duration_s"] for s in index["slices"]] == [0.02] * 4
    assert entries(tmp_path) == ["clicks.wav", "kit"]  # the old bank is gone, no temp left


def test_non_audio_input_is_named(clicks, tmp_path, capsys):
    bad = tmp_path / "notes.txt.wav"
    bad.write_text("this is not audio")
    assert cli.main(["samples", "build", str(clicks), str(bad), "-o",
                     str(tmp_path / "kit")]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: not a readable audio file" in err and err.count("\n") == 1
    assert not (tmp_path / "kit").exists()


def test_missing_input(tmp_path, capsys):
    assert cli.main(["samples", "build", str(tmp_path / "nope.wav"), "-o",
                     str(tmp_path / "kit")]) == 2
    assert "nope.wav: no such file" in capsys.readouterr().err


@pytest.mark.parametrize(("args", "message"), [
    (["--min-ms", "2"], "--min-ms must be at least 6 ms"),
    (["--min-ms", "nan"], "--min-ms must be at least 6 ms"),
    (["--min-ms", "50", "--max-ms", "40"], "--max-ms must be a finite number >= --min-ms"),
])
def test_bad_lengths(clicks, tmp_path, capsys, args, message):
    assert cli.main(["samples", "build", str(clicks), "-o", str(tmp_path / "kit"), *args]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "kit").exists()


def test_min_ms_drops_short_slices(clicks, tmp_path, capsys):
    # each burst decays 50 dB within about 60 ms, so a 100 ms minimum leaves none
    assert cli.main(["samples", "build", str(clicks), "-o", str(tmp_path / "kit"),
                     "--min-ms", "100"]) == 2
    assert "no slices (none at least 100 ms long" in capsys.readouterr().err
