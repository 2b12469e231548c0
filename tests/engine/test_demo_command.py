"""``musicmill demo``: the latent-control demos on the shipped drum model."""

from __future__ import annotations

import json

import numpy as np
import soundfile as sf

from engine.cli import main


def test_demo_writes_every_control_and_measures_it(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "-o", str(out), "--seconds", "1.5", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    files = {f["name"]: f for f in report["files"]}
    dims = [f"dim_{d:02d}.wav" for d in range(1, 9)]  # the drum model has 8 latent dims
    assert list(files) == ["base.wav", "energy_low.wav", "energy_high.wav", *dims,
                           "tempo_slow.wav", "tempo_fast.wav", "evolution.wav",
                           "random_walk.wav"]
    assert sorted(p.name for p in out.iterdir()) == sorted(files)  # no temp files left
    base = files["base.wav"]["seconds"]
    assert abs(base - 1.5) < 256 / 48000
    assert files["tempo_slow.wav"]["seconds"] == 2 * base
    frames = round(base * 48000 / 256)  # latent frames of 256 samples
    assert files["tempo_fast.wav"]["seconds"] == -(-frames // 2) * 256 / 48000
    # The trained drum model follows the latent magnitude: energy moves the level.
    assert files["energy_low.wav"]["rms_dbfs"] < base_rms(files) - 3.0
    assert files["energy_high.wav"]["rms_dbfs"] > base_rms(files) + 3.0
    y, sr = sf.read(out / "base.wav")
    assert sr == 48000 and np.all(np.isfinite(y))
    assert abs(20 * np.log10(np.sqrt(np.mean(y ** 2))) - base_rms(files)) < 0.01


def base_rms(files: dict) -> float:
    return files["base.wav"]["rms_dbfs"]


def test_demo_is_repeatable(tmp_path, capsys):
    for name in ("a", "b"):
        assert main(["demo", "-o", str(tmp_path / name), "--seconds", "0.5"]) == 0
    text = capsys.readouterr().out
    assert "energy 0.3x" in text and "tempo 2.0x" in text
    for f in ("base.wav", "evolution.wav", "dim_03.wav"):
        np.testing.assert_array_equal(sf.read(tmp_path / "a" / f)[0],
                                      sf.read(tmp_path / "b" / f)[0])


def test_demo_refuses_bad_input(tmp_path, capsys):
    assert main(["demo", "-o", str(tmp_path / "d"), "--input", str(tmp_path / "no.wav")]) == 2
    assert "no.wav: no such file" in capsys.readouterr().err
    assert main(["demo", "-o", str(tmp_path / "d"), "--seconds", "0"]) == 2
    (tmp_path / "f").write_text("x")
    assert main(["demo", "-o", str(tmp_path / "f")]) == 2
    assert "not a directory" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()  # nothing half written
