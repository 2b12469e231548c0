"""``loudness FILE [--json]`` subcommand: output format, values, unusable files."""

import json

import numpy as np
import pytest
import soundfile as sf

from dsp import loudness
from engine.cli import main

FS = 48000
KEYS = [
    "integrated_lufs",
    "momentary_max_lufs",
    "short_term_max_lufs",
    "lra_lu",
    "true_peak_dbtp",
    "sample_peak_dbfs",
]


def run_cli(*argv):
    return main(list(argv))


@pytest.fixture
def audio_file(tmp_path):
    rng = np.random.default_rng(0)
    n = int(4.5 * FS)
    t = np.arange(n) / FS
    x = 0.3 * np.sin(2 * np.pi * 440 * t) * (1 + 0.5 * np.sin(2 * np.pi * 0.3 * t))
    x = np.stack([x, 0.5 * x + 0.05 * rng.standard_normal(n)]).astype(np.float32)
    path = tmp_path / "tone.wav"
    sf.write(path, x.T, FS, subtype="FLOAT")
    return path, x


def test_json_output_matches_measure(audio_file, capsys):
    path, x = audio_file
    assert run_cli("loudness", str(path), "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == [*KEYS, "nonfinite_replaced"]
    assert out["nonfinite_replaced"] == 0
    expected = loudness.measure(x, FS)  # the streaming meter the callback runs
    for key in KEYS:
        # the meter reads the loudness range's percentiles from 0.01 LU bins
        assert out[key] == pytest.approx(expected[key], abs=0.01 if key == "lra_lu" else 1e-9)


def test_table_output(audio_file, capsys):
    path, x = audio_file
    assert run_cli("loudness", str(path)) == 0
    out = capsys.readouterr().out
    expected = loudness.measure(x, FS)
    for label in (
        "Integrated",
        "Momentary max",
        "Short-term max",
        "Loudness range",
        "True peak",
        "Sample peak",
    ):
        assert label in out
    assert f"{expected['integrated_lufs']:.1f} LUFS" in out
    assert f"{expected['true_peak_dbtp']:.1f} dBTP" in out


def test_silent_file_gives_valid_json(tmp_path, capsys):
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros((FS, 2), np.float32), FS)
    assert run_cli("loudness", str(path), "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["integrated_lufs"] is None and out["lra_lu"] == 0.0


def truncated_wav(tmp_path, audio_file):
    data = audio_file[0].read_bytes()
    path = tmp_path / "truncated.wav"
    path.write_bytes(data[: len(data) // 2])
    return path


def garbage(tmp_path, _):
    path = tmp_path / "notes.wav"
    path.write_text("this is not audio\n" * 50)
    return path


def empty(tmp_path, _):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    return path


def no_frames(tmp_path, _):
    path = tmp_path / "no_frames.wav"
    sf.write(path, np.zeros((0, 2), np.float32), FS)
    return path


def header_only(tmp_path, audio_file):
    path = tmp_path / "header.wav"
    path.write_bytes(audio_file[0].read_bytes()[:30])
    return path


def missing(tmp_path, _):
    return tmp_path / "missing.wav"


@pytest.mark.parametrize(
    "make,problem",
    [
        (missing, "no such file"),
        (empty, "empty"),
        (garbage, "not a readable audio file"),
        (no_frames, "no audio frames"),
        (truncated_wav, "truncated"),
        (header_only, "not a readable audio file"),
    ],
)
@pytest.mark.parametrize("as_json", [False, True])
def test_unusable_file_exits_2_naming_it(tmp_path, audio_file, capsys, make, problem, as_json):
    path = make(tmp_path, audio_file)
    argv = ["loudness", str(path)] + (["--json"] if as_json else [])
    assert run_cli(*argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert str(path) in lines[0] and problem in lines[0]
