"""``musicmill compare`` through engine.cli.main with only the compare subcommand registered."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from engine import cli

SR = 44100
KEYS = {"overall", "mfcc_similarity", "mfcc_distance", "centroid_diff_hz", "chroma_correlation",
        "rms_ratio", "onset_f_measure", "onset_offset_ms", "mrstft_distance", "bands", "notes",
        "centroid_rel_error", "rms_envelope_correlation"}


@pytest.fixture(autouse=True)
def only_compare(monkeypatch):
    # Importing every other subcommand (torch, PortAudio) is not what these tests are about.
    monkeypatch.setattr(cli, "COMMANDS", ("compare",))


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    x = np.zeros(2 * SR)
    for s in range(SR // 4, 2 * SR - SR // 4, SR // 4):
        x[s : s + 2000] = 0.3 * rng.standard_normal(2000) * np.exp(-np.arange(2000) / 300)
    a, b = tmp_path / "orig.wav", tmp_path / "rend.wav"
    sf.write(a, x, SR)
    sf.write(b, resample_stereo(x), 48000)
    return a, b


def resample_stereo(x):
    from dsp.resample import resample

    y = resample(x, SR, 48000)
    return np.stack([y, y], axis=1)


def test_json_output(files, capsys):
    a, b = files
    assert cli.main(["compare", str(a), str(b), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == KEYS | {"nonfinite_replaced"}
    assert out["nonfinite_replaced"] == {"original": 0, "rendered": 0}
    assert out["overall"] > 0.9
    assert any(n.startswith("resampled rendered 48000->44100 Hz") for n in out["notes"])
    assert "downmixed rendered 2->1 channels (mean)" in out["notes"]


def test_text_output_and_weights(files, capsys):
    a, b = files
    assert cli.main(["compare", str(a), str(b), "--weights", "onsets=5,rms=0"]) == 0
    out = capsys.readouterr().out
    assert "Overall score" in out and "Onset offset (median)" in out
    assert "weights: mfcc=2, centroid=1, chroma=1, rms=0, onsets=5" in out


@pytest.mark.parametrize("kind", ["missing", "empty", "text"])
def test_bad_file_is_one_line_exit_2(files, tmp_path, capsys, kind):
    a, _ = files
    bad = tmp_path / f"{kind}.wav"
    if kind == "empty":
        bad.write_bytes(b"")
    elif kind == "text":
        bad.write_text("hello")
    assert cli.main(["compare", str(a), str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("musicmill: error: ") and err.count("\n") == 1


def test_bad_weights_exit_2(files, capsys):
    a, b = files
    assert cli.main(["compare", str(a), str(b), "--weights", "loudness=1"]) == 2
    assert "unknown component" in capsys.readouterr().err


def test_onset_window_option(files, tmp_path, capsys):
    import soundfile as sf

    a, _ = files
    x, sr = sf.read(a)
    late = tmp_path / "late.wav"
    sf.write(late, np.concatenate([np.zeros(int(0.03 * sr)), x])[: x.shape[0]], sr)
    # Hits 30 ms late match within the default 50 ms and miss at 20 ms.
    assert cli.main(["compare", str(a), str(late), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["onset_f_measure"] == 1.0
    assert cli.main(["compare", str(a), str(late), "--json", "--onset-window-ms", "20"]) == 0
    assert json.loads(capsys.readouterr().out)["onset_f_measure"] == 0.0
    assert cli.main(["compare", str(a), str(late), "--onset-window-ms", "0"]) == 2
    assert "--onset-window-ms" in capsys.readouterr().err
