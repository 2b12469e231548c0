"""``musicmill mix --style GENRE``: the predictor's mix meets the style on generated stems,
reports every figure, validates, exports a Reaper project, and refuses bad input cleanly."""

from __future__ import annotations

import json

import numpy as np
import pyebur128
import pytest
import soundfile as sf

from engine.cli import main
from engine.offline.styled_mix import mix
from models.automix import synth_stems

SR = 48000


def _lufs(x):
    meter = pyebur128.R128State(2, SR, pyebur128.MeasurementMode.MODE_I)
    meter.add_frames(np.ascontiguousarray(x, dtype=np.float64).reshape(-1), x.shape[0])
    return pyebur128.get_loudness_global(meter)


@pytest.fixture(scope="module")
def stem_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stems")
    paths = []
    for name, x in synth_stems.band(5, seed=11, seconds=6.0):
        paths.append(folder / f"{name}.wav")
        sf.write(paths[-1], x.T, SR, subtype="FLOAT")
    return paths


@pytest.mark.parametrize("style", ["rock_punk", "rnb_ballad", "country_pop"])
def test_mix_meets_each_style_measured_by_peers(tmp_path, capsys, stem_files, style):
    out = tmp_path / "mix.wav"
    code = main(["mix", *map(str, stem_files), "-o", str(out), "--style", style, "--json",
                 "--validate"])
    report = json.loads(capsys.readouterr().out)
    assert code == (0 if report["within_tolerance"] else 1)
    y, rate = sf.read(out, dtype="float32")
    assert rate == SR and y.shape[1] == 2 and np.isfinite(y).all()
    # the written file measures what the report says, by pyebur128
    assert abs(_lufs(y) - report["output"]["lufs"]) < 0.01
    assert abs(report["lufs_error"]) <= 0.5
    assert abs(report["centroid_error_hz"]) <= 150.0
    assert abs(report["ms_ratio_error"]) <= 0.05
    assert report["true_peak_dbtp"] <= -0.9
    assert [row["name"] for row in report["stems"]] == list(map(str, stem_files))
    assert {"gain_db", "pan", "comp_ratio", "hpf_hz"} <= set(report["stems"][0])


def test_validate_prints_the_table_and_fails_an_unreachable_target(tmp_path, capsys):
    style = tmp_path / "impossible.yaml"
    style.write_text("targets: {lufs: -10, centroid_hz: 9000, ms_ratio: 0.5}\n"
                     "frequency_balance: {low: 0.3, mid: 0.4, high: 0.3}\n"
                     "bus_compression: {threshold_db: -20, ratio: 2}\n")
    code = main(["mix", "--test-stems", "3", "--targets", str(style), "--validate"])
    text = capsys.readouterr().out
    assert code == 1
    assert "centroid (Hz)" in text and "OUT" in text and "9000" in text


def test_export_writes_a_reaper_project(tmp_path, capsys, stem_files):
    dst = tmp_path / "project"
    assert main(["mix", *map(str, stem_files[:3]), "-o", str(tmp_path / "m.flac"),
                 "--style", "country_pop", "--export", str(dst)]) == 0
    capsys.readouterr()
    rpp = (dst / "mix.RPP").read_text()
    assert rpp.startswith("<REAPER_PROJECT") and rpp.count("<TRACK") == 3
    params = json.loads((dst / "params.json").read_text())
    volpans = [line.split()[1:3] for line in rpp.splitlines() if "VOLPAN" in line]
    stems = sorted((dst / "stems").iterdir())
    for row, (vol, pan), stem in zip(params["stems"], volpans, stems, strict=True):
        assert float(vol) == pytest.approx(10 ** (row["gain_db"] / 20), rel=1e-3)
        assert float(pan) == pytest.approx(row["pan"], abs=1e-3)
        assert f'FILE "stems/{stem.name}"' in rpp
        assert f'NAME "{stem.name[3:-4]}"' in rpp
        assert sf.info(stem).frames == sf.info(stem_files[0]).frames
    assert sf.info(dst / "mix.wav").channels == 2


def test_python_api_mixes_arrays(stem_files):
    stems = [sf.read(p, dtype="float32")[0].T for p in stem_files[:2]]
    audio, report = mix(stems, style="rnb_ballad", rate_hz=SR)
    assert audio.shape == (2, stems[0].shape[1])
    assert report["style"]["name"] == "rnb_ballad" and len(report["stems"]) == 2


@pytest.mark.parametrize("args, message", [
    (["--style", "polka"], "unknown style 'polka'"),
    (["--style", "rock_punk", "--set", "master_gain_db=-3"], "live styles only"),
    (["--targets", "missing.yaml"], "cannot read"),
])
def test_bad_options_exit_2_and_write_nothing(tmp_path, capsys, stem_files, args, message):
    out = tmp_path / "mix.wav"
    assert main(["mix", *map(str, stem_files[:2]), "-o", str(out), *args]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_silent_and_too_many_stems_are_refused(tmp_path, capsys, stem_files):
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros((SR, 2), np.float32), SR)
    out = tmp_path / "mix.wav"
    assert main(["mix", str(stem_files[0]), str(silent), "-o", str(out),
                 "--style", "rock_punk"]) == 2
    assert "silent.wav: the stem is silent" in capsys.readouterr().err
    assert main(["mix", *map(str, stem_files * 2), "-o", str(out), "--style", "rock_punk"]) == 2
    assert "at most 8" in capsys.readouterr().err
    assert not out.exists()


def test_stems_at_other_rates_are_resampled(tmp_path, capsys, stem_files):
    x, _ = sf.read(stem_files[1], dtype="float32")
    other = tmp_path / "bass44.wav"
    import soxr

    sf.write(other, soxr.resample(x, SR, 44100), 44100)
    out = tmp_path / "mix.wav"
    assert main(["mix", str(stem_files[0]), str(other), "-o", str(out), "--style",
                 "rock_punk", "--json"]) == 0
    capsys.readouterr()
    assert sf.info(out).samplerate == SR


def test_validate_suite_meets_every_style_on_every_case(capsys):
    """White noise, bass-heavy, bright, quiet and loud material to every genre style."""
    assert main(["mix", "--validate-suite", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 18 and all(r["pass"] for r in rows)
    assert {r["case"] for r in rows} == {"band", "white_noise", "bass_heavy", "bright", "quiet",
                                         "loud"}
    assert max(r["true_peak_dbtp"] for r in rows) <= -0.9
