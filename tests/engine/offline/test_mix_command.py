"""``musicmill mix``: stems balanced, summed and mastered to a style (engine/mixdown.py),
checked with pyebur128 and scipy meters on the written file."""

from __future__ import annotations

import json

import numpy as np
import pyebur128
import pytest
import soundfile as sf
from scipy.signal import butter, sosfilt

from engine.cli import main
from presets.styles import STYLES, Style

SR = 48000


def _noise(seconds, level, cutoff_hz, side=0.0, seed=0, sr=SR):
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    sos = butter(2, cutoff_hz, "lowpass", fs=sr, output="sos")
    mid = sosfilt(sos, rng.standard_normal(n))
    sid = side * sosfilt(sos, rng.standard_normal(n))
    x = level * np.stack([mid + sid, mid - sid], axis=1) / np.std(mid)
    return x.astype(np.float32)


def _lufs(x, sr=SR):
    meter = pyebur128.R128State(x.shape[1], sr, pyebur128.MeasurementMode.MODE_I)
    meter.add_frames(np.ascontiguousarray(x, dtype=np.float64).reshape(-1), x.shape[0])
    return pyebur128.get_loudness_global(meter)


def _stems(tmp_path):
    voice = tmp_path / "voice.wav"
    drums = tmp_path / "drums.flac"
    sf.write(voice, _noise(20.0, 0.01, 700.0, 0.05, seed=1), SR, subtype="FLOAT")
    sf.write(drums, _noise(20.0, 0.05, 9000.0, 0.4, seed=2), SR, subtype="PCM_24")
    return voice, drums


def _mix(tmp_path, capsys, *args):
    out = tmp_path / "mix.wav"
    voice, drums = _stems(tmp_path)
    assert main(["mix", str(voice), str(drums), "-o", str(out), "--json", *args]) == 0
    report = json.loads(capsys.readouterr().out)
    y, rate = sf.read(out, dtype="float32")
    assert rate == SR
    return y, report


def test_a_style_is_reached_in_the_written_file(tmp_path, capsys):
    # (--set after --style: the brightness and width within what these stems allow)
    y, report = _mix(tmp_path, capsys, "--style", "broadcast",
                     "--set", "automix_brightness_db=-10", "--set", "automix_width_db=-16")
    style = Style(STYLES["broadcast"].loudness_lufs, -10.0, -16.0, "")
    assert abs(_lufs(y) - style.loudness_lufs) < 0.5
    assert abs(_lufs(y[: 5 * SR]) - style.loudness_lufs) < 1.0  # corrected from the start
    out = report["output"]
    assert abs(out["brightness_db"] - style.brightness_db) < 0.5
    assert abs(out["width_db"] - style.width_db) < 0.5
    assert out["true_peak_dbtp"] <= -1.0 + 0.1  # the limiter's ceiling
    # the sum it started from was far from the style
    assert abs(report["sum"]["integrated_lufs"] - style.loudness_lufs) > 2.0
    assert abs(report["sum"]["brightness_db"] - style.brightness_db) > 2.0
    assert abs(report["sum"]["width_db"] - style.width_db) > 2.0


def test_a_target_beyond_the_gain_range_stops_at_the_range(tmp_path, capsys):
    # these stems sum to -25.7 LUFS and the shelf darkens them: -14 LUFS needs more than
    # the +12 dB the auto-mix may add
    y, report = _mix(tmp_path, capsys, "--style", "streaming")
    assert report["automix"]["gain_db"] == 12.0
    assert STYLES["streaming"].loudness_lufs - 3.0 < _lufs(y) < STYLES["streaming"].loudness_lufs
    assert report["output"]["true_peak_dbtp"] <= -1.0 + 0.1


def test_stems_are_brought_to_the_same_loudness_before_the_sum(tmp_path, capsys):
    _, report = _mix(tmp_path, capsys)
    (v, d) = report["stems"]
    assert abs((v["loudness_lufs"] + v["gain_db"]) - (d["loudness_lufs"] + d["gain_db"])) < 0.05
    assert abs(v["loudness_lufs"] - d["loudness_lufs"]) > 15.0


def test_no_balance_sums_the_stems_as_they_are(tmp_path, capsys):
    y, report = _mix(tmp_path, capsys, "--no-balance")
    assert [s["gain_db"] for s in report["stems"]] == [0.0, 0.0]
    voice, drums = sf.read(tmp_path / "voice.wav")[0], sf.read(tmp_path / "drums.flac")[0]
    # no style, registry master bus (limiter only acts above -1 dBTP): the plain sum
    assert abs(_lufs(y) - _lufs(voice + drums)) < 0.1


def test_a_reference_file_sets_the_style(tmp_path, capsys):
    ref = tmp_path / "ref.wav"
    sf.write(ref, _noise(15.0, 0.05, 3000.0, 0.2, seed=3), SR)
    y, report = _mix(tmp_path, capsys, "--style", str(ref))
    ref_audio = sf.read(ref, dtype="float32")[0]
    assert abs(_lufs(y) - _lufs(ref_audio)) < 1.0


def test_stems_at_another_rate_are_resampled(tmp_path, capsys):
    voice, drums = _stems(tmp_path)
    other = tmp_path / "voice44.wav"
    sf.write(other, _noise(20.0, 0.01, 700.0, 0.0, sr=44100), 44100)
    out = tmp_path / "mix.wav"
    assert main(["mix", str(drums), str(other), "-o", str(out)]) == 0
    info = sf.info(out)
    assert (info.samplerate, info.frames) == (SR, 20 * SR)


@pytest.mark.parametrize("args, message", [
    (["--style", "nonesuch"], "unknown style 'nonesuch'"),
    (["--set", "automix_loudness_lufs=-2"], "out of range"),
])
def test_bad_options_are_one_line_errors_and_write_nothing(tmp_path, capsys, args, message):
    voice, drums = _stems(tmp_path)
    out = tmp_path / "mix.wav"
    assert main(["mix", str(voice), str(drums), "-o", str(out), *args]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_bad_stems_are_refused(tmp_path, capsys):
    three = tmp_path / "three.wav"
    sf.write(three, np.zeros((SR, 3), np.float32), SR)
    out = tmp_path / "mix.wav"
    assert main(["mix", str(three), "-o", str(out)]) == 2
    assert "3 channels" in capsys.readouterr().err
    assert main(["mix", str(tmp_path / "missing.wav"), "-o", str(out)]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["mix", str(three), "-o", str(tmp_path / "nodir" / "m.wav")]) == 2
    assert not out.exists()
    assert list(tmp_path.glob(".*part*")) == []


def test_the_mix_keeps_its_tail_and_a_silent_stem_reads_null(tmp_path, capsys):
    tone = tmp_path / "tone.wav"
    t = np.arange(5 * SR) / SR
    sf.write(tone, (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), SR)
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros((5 * SR, 2), np.float32), SR)
    out = tmp_path / "mix.wav"
    assert main(["mix", str(tone), str(silent), "-o", str(out), "--float", "--json"]) == 0

    def no_constants(name):
        raise AssertionError(f"{name} is not JSON")

    report = json.loads(capsys.readouterr().out, parse_constant=no_constants)
    assert report["stems"][1] == {"loudness_lufs": None, "gain_db": 0.0,
                                  "path": str(silent), "nonfinite_replaced": 0}
    y = sf.read(out, dtype="float32")[0]
    # the tone sounds to the last sample (the limiter's 2 ms lookahead is run out, not
    # left as silence at the end)
    assert y.shape[0] == 5 * SR
    assert np.max(np.abs(y[-50:, 0])) > 0.05
