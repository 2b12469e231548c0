"""Every command meets bad files the same way: one line naming the problem, exit code 2, no
traceback, nothing written. Bad files are generated: empty, text, truncated, random bytes
under audio names, 0-sample audio, a folder, absurdly nested or mistyped JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.cli import main

SR = 48000


def _good(folder: Path) -> Path:
    t = np.arange(SR // 2) / SR
    x = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    path = folder / "good.wav"
    sf.write(path, x, SR, subtype="FLOAT")
    return path


def _bad_audio(folder: Path) -> dict[str, Path]:
    """Files that are no usable audio, each under a name a user might give."""
    rng = np.random.default_rng(7)
    good = _good(folder)
    files = {
        "empty.wav": b"",
        "text.wav": b"this is not audio\n" * 40,
        "truncated.wav": good.read_bytes()[:30],
        "junk.mp3": rng.integers(0, 256, 4000, dtype=np.uint8).tobytes(),
        "junk.flac": b"fLaC" + rng.integers(0, 256, 3000, dtype=np.uint8).tobytes(),
        "junk.ogg": b"OggS" + rng.integers(0, 256, 3000, dtype=np.uint8).tobytes(),
        "random.wav": rng.integers(0, 256, 5000, dtype=np.uint8).tobytes(),
    }
    out = {}
    for name, data in files.items():
        (folder / name).write_bytes(data)
        out[name] = folder / name
    silent_flac = folder / "zero.flac"
    sf.write(silent_flac, np.zeros((0, 1), np.float32), SR, format="FLAC")
    out["zero.flac"] = silent_flac
    out["folder"] = folder / "a_folder"
    out["folder"].mkdir()
    out["missing.wav"] = folder / "missing.wav"
    return out


def _bad_json(folder: Path) -> dict[str, Path]:
    files = {
        "deep.json": "[" * 5000 + "]" * 5000,
        "deep_object.json": '{"a":' * 3000 + "1" + "}" * 3000,
        "not_json.json": "{nope",
        "wrong_types.json": json.dumps({"schema_version": "one", "params": [1, 2]}),
        "empty.json": "",
        "binary.json": "\x00\xff\xfe",
    }
    out = {}
    for name, text in files.items():
        path = folder / name
        path.write_bytes(text.encode("latin-1"))
        out[name] = path
    return out


def _audio_commands(bad: Path, good: Path, out: Path) -> list[list[str]]:
    return [
        ["render", str(bad), str(out), "--insert", "none"],
        ["mix", str(good), str(bad), "-o", str(out)],
        ["loudness", str(bad)],
        ["compare", str(good), str(bad)],
        ["transcribe", str(bad)],
        ["beatbox", "detect", str(bad)],
        ["samples", "build", str(bad), "-o", str(out.with_suffix(""))],
    ]


def _check(argv: list[str], capsys, written: Path) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, (argv, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("musicmill: error: "), (argv, err)
    assert "Traceback" not in err
    assert not written.exists(), argv  # nothing half written
    return lines[0]


def test_every_audio_command_refuses_every_bad_file_in_one_line(tmp_path, capsys):
    good = _good(tmp_path)
    out = tmp_path / "out.wav"
    for bad in _bad_audio(tmp_path).values():
        for argv in _audio_commands(bad, good, out):
            _check(argv, capsys, out if argv[0] != "samples" else out.with_suffix(""))


def test_json_readers_refuse_bad_files_in_one_line(tmp_path, capsys):
    for bad in _bad_json(tmp_path).values():
        _check(["preset", "import", str(bad)], capsys, tmp_path / "never")
        line = _check(["midi", "mappings", "--map", str(bad)], capsys, tmp_path / "never")
        assert line.count(str(bad)) == 1, line  # the file named once, not "F: F: ..."


def test_bench_refuses_unusable_model_files_in_one_line(tmp_path, capsys):
    """A discrete export (no ONNX graph to race), random bytes and a broken zip under .ts."""
    discrete = Path(__file__).resolve().parents[1] / "fixtures/rave/rave_discrete_tiny_streaming.ts"
    junk = tmp_path / "junk.ts"
    junk.write_bytes(np.random.default_rng(5).integers(0, 256, 3000, dtype=np.uint8).tobytes())
    broken_zip = tmp_path / "broken.ts"
    broken_zip.write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    for model in (discrete, junk, broken_zip):
        for bench in ("rave", "drums"):
            _check(["bench", bench, str(model), "--seconds", "0.1", "--rounds", "1"], capsys,
                   tmp_path / "never")


@pytest.mark.parametrize("argv", [
    ["render", "IN", "IN"],  # the output is the input
    ["render", "IN", "DIR"],  # the output is a folder
    ["render", "IN", "out.mp3"],  # an extension nothing writes
    ["render", "IN", "out.flac", "--float"],
    ["mix", "IN", "-o", "IN"],
    ["transcribe", "IN", "-o", "IN"],  # MIDI over the audio it reads
    ["transcribe", "IN", "-o", "notes.txt"],
])
def test_outputs_that_must_not_be_written_are_refused_before_any_work(argv, tmp_path, capsys):
    good = _good(tmp_path)
    (tmp_path / "dir").mkdir()
    before = good.read_bytes()
    names = {"IN": str(good), "DIR": str(tmp_path / "dir")}
    argv = [names.get(a, str(tmp_path / a) if "." in a and a[0] != "-" else a) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("musicmill: error: ") and len(err.strip().splitlines()) == 1
    assert good.read_bytes() == before  # the input is intact


def test_nan_in_a_stem_is_replaced_reported_and_every_stem_kept(tmp_path, capsys):
    rng = np.random.default_rng(3)
    a = (0.1 * rng.standard_normal((SR, 2))).astype(np.float32)
    b = (0.1 * rng.standard_normal((SR, 2))).astype(np.float32)
    b[1000] = np.nan
    b[2000, 1] = np.inf
    sf.write(tmp_path / "a.wav", a, SR, subtype="FLOAT")
    sf.write(tmp_path / "b.wav", b, SR, subtype="FLOAT")
    out = tmp_path / "mix.wav"
    assert main(["mix", str(tmp_path / "a.wav"), str(tmp_path / "b.wav"), "-o", str(out),
                 "--json", "--float"]) == 0
    captured = capsys.readouterr()
    assert "b.wav: 3 non-finite samples (NaN or infinity) replaced" in captured.err
    report = json.loads(captured.out)
    assert [s["nonfinite_replaced"] for s in report["stems"]] == [0, 3]
    y, _ = sf.read(out, dtype="float32")
    assert np.all(np.isfinite(y))
    tail = y[SR // 2:]  # long after the bad samples, both stems still sound
    assert np.sqrt(np.mean(tail ** 2)) > 0.05


def test_a_typo_gets_one_short_line_with_a_suggestion(tmp_path, capsys):
    good = _good(tmp_path)
    for argv, hint in ((["rendr", str(good)], "did you mean 'render'"),
                       (["render", str(good), str(tmp_path / "o.wav"), "--set",
                         "master_gian_db=1"], "did you mean 'master_gain_db'"),
                       (["render", str(good), str(tmp_path / "o.wav"), "--preset", "Calmm"],
                        "did you mean 'Calm'"),
                       (["render", str(good), str(tmp_path / "o.wav"), "--style", "clubb"],
                        "did you mean 'club'")):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert hint in err and len(err.splitlines()) == 1 and len(err) < 200, err


def test_every_command_applies_the_duration_policy(tmp_path, capsys):
    """31 minutes are refused without --force by every command that reads audio (from the
    header, before decoding anything)."""
    rate = 8000
    long = tmp_path / "long.flac"
    with sf.SoundFile(long, "w", rate, 1, format="FLAC") as f:
        chunk = np.zeros(rate * 60, np.float32)
        for _ in range(31):
            f.write(chunk)
    good = _good(tmp_path)
    out = tmp_path / "out.wav"
    for argv in _audio_commands(long, good, out):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        flag = "--allow-long" if argv[0] == "samples" else "--force"  # its --force replaces
        assert f"31.0 min is over the 30 min limit; pass {flag}" in err, (argv, err)


def _bursts(path: Path, nan: int = 0) -> Path:
    """One second of three decaying tones (hits, notes and slices for every command), with
    ``nan`` samples NaN."""
    t = np.arange(SR) / SR
    x = np.zeros(SR, np.float32)
    for k, start in enumerate((0.05, 0.4, 0.7)):
        n = t[int(start * SR):] - start
        x[int(start * SR):] += 0.5 * np.sin(2 * np.pi * (220 + 110 * k) * n) * np.exp(-12 * n)
    x[SR - nan:] = np.nan
    sf.write(path, x, SR, subtype="FLOAT")
    return path


def test_the_duration_policy_warns_and_its_option_lets_a_long_file_through(
        tmp_path, capsys, monkeypatch):
    """With the limits shrunk to a fraction of a second, every reader of audio (inputs,
    style files, references) refuses a 1 s file naming its option, and with that option
    reads it with the warning: the policy and its way past are the same everywhere."""
    import dsp.io.audio

    monkeypatch.setattr(dsp.io.audio, "WARN_MINUTES", 0.001)
    monkeypatch.setattr(dsp.io.audio, "REFUSE_MINUTES", 0.005)
    long, good = _bursts(tmp_path / "long.wav"), _good(tmp_path)
    out = str(tmp_path / "out.wav")
    cases = [(["render", str(long), out, "--insert", "none"], "--force"),
             (["mix", str(good), str(long), "-o", out], "--force"),
             (["loudness", str(long)], "--force"),
             (["compare", str(good), str(long)], "--force"),
             (["transcribe", str(long)], "--force"),
             (["beatbox", "detect", str(long)], "--force"),
             (["samples", "build", str(long), "-o", str(tmp_path / "bank")], "--allow-long"),
             (["demo", "--input", str(long), "-o", str(tmp_path / "demo")], "--force"),
             (["render", str(good), out, "--insert", "none", "--style", str(long)], "--force"),
             (["mix", str(good), "-o", out, "--style", str(long)], "--force"),
             (["render", str(good), out, "--reference", str(long)], "--force")]
    for argv, flag in cases:
        line = _check(argv, capsys, tmp_path / "never")
        assert f"over the 0.005 min limit; pass {flag} to use it anyway" in line, argv
        assert main([*argv, flag]) == 0, argv
        assert f"warning: {long} is 0.0 min long" in capsys.readouterr().err, argv
    # run reads style and reference files before it starts, and the trigger-latency bench
    # its hits before it starts JACK: refused the same way
    line = _check(["run", "--headless", "--style", str(long)], capsys, tmp_path / "never")
    assert "pass --force" in line
    line = _check(["bench", "trigger-latency", "--hits", str(long)], capsys,
                  tmp_path / "never")
    assert "pass --force" in line


def test_json_reports_count_the_non_finite_samples_replaced(tmp_path, capsys):
    bad = _bursts(tmp_path / "nan.wav", nan=3)
    for argv in (["beatbox", "detect", str(bad), "--json"],
                 ["samples", "build", str(bad), "-o", str(tmp_path / "bank"), "--json"]):
        assert main(argv) == 0, argv
        captured = capsys.readouterr()
        assert json.loads(captured.out)["nonfinite_replaced"] == 3, argv
        assert "3 non-finite samples (NaN or infinity) replaced" in captured.err


@pytest.mark.parametrize("argv, needs", [
    (["run", "--midi-map", "map.json"], "--midi-map needs --midi-in"),
    (["run", "--midi-wait"], "--midi-wait needs --midi-in"),
    (["run", "--clock-out"], "--clock-out needs --midi-out"),
    (["run", "--send-notes"], "--send-notes needs --midi-out"),
    (["run", "--midi-in", "virtual", "--midi-map", "missing.json"], "no such mapping file"),
    (["run", "--record", "take.mp3"], "output must be .wav or .flac"),
    (["run", "--insert", "reverb", "--rave-backend", "onnx"], "--rave-backend needs a model "
     "insert"),
    (["render", "in.wav", "out.wav", "--insert", "none", "--rave-backend", "onnx"],
     "--rave-backend needs a model insert (--insert drums or rave)"),
    (["render", "in.wav", "out.wav", "--insert", "none", "--model", "m.ts"],
     "--model needs a model insert"),
    (["transcribe", "in.wav", "--floor-db", "-40"], "--floor-db needs --transcriber yin"),
    (["transcribe", "in.wav", "--retrigger-db", "3"], "--retrigger-db needs --transcriber yin"),
    (["transcribe", "in.wav", "--clips", "2"], "--clips needs --evaluate"),
    (["transcribe", "in.wav", "--instruments", "voice"], "--instruments needs --evaluate"),
    (["transcribe", "in.wav", "--no-peer"], "--no-peer needs --evaluate"),
    (["transcribe", "in.wav", "--phrases", "3"], "--phrases needs --evaluate"),
    (["transcribe", "--evaluate", "--phrases", "3", "--clips", "2"], "leave out --instruments"),
    (["transcribe", "in.wav", "--transcriber", "yin", "--bend-range", "12"],
     "--bend-range needs -o NOTES.mid"),
    (["transcribe", "in.wav", "-o", "notes.mid", "--bend-range", "12"],
     "--bend-range needs --transcriber yin"),
])
def test_options_that_need_another_are_refused_before_any_work(argv, needs, tmp_path,
                                                                monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # relative names: nothing there, nothing may be written
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert needs in err and len(err.splitlines()) == 1, err
    assert not any(tmp_path.iterdir())
