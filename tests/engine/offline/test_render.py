import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.cli import main
from engine.offline.render import render_array

SR = 44100


def _write(path, x, sr=SR, subtype="FLOAT"):
    sf.write(path, x, sr, subtype=subtype)
    return path


def _signal(n=SR, channels=2, seed=1):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SR
    tone = 0.3 * np.sin(2 * np.pi * 220 * t)[:, None]
    return (tone + 0.05 * rng.standard_normal((n, channels))).astype(np.float32)


@pytest.mark.parametrize("insert", ["none", "passthrough", "reverb"])
def test_output_does_not_depend_on_block_size(insert):
    x = _signal(SR // 2)
    params = {"stem_worker_gain_db": -3.0, "stem_worker_pan": 0.4}
    ref, _ = render_array(x, SR, params, blocksize=4096, insert=insert)
    for block in (1, 7, 128):
        y, _ = render_array(x, SR, params, blocksize=block, insert=insert)
        np.testing.assert_allclose(y, ref, atol=1e-6, err_msg=f"blocksize {block}")
    assert np.abs(ref).max() > 0.1


def test_render_keeps_rate_channels_and_writes_24_bit(tmp_path):
    src = _write(tmp_path / "in.wav", _signal(SR // 4, channels=1))
    dst = tmp_path / "out.wav"
    assert main(["render", str(src), str(dst), "--preset", "Calm", "--insert", "none"]) == 0
    info = sf.info(dst)
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (SR, 1, "PCM_24", SR // 4)


def test_set_changes_the_level_by_exactly_that_much(tmp_path):
    x = _signal(SR // 4)
    src = _write(tmp_path / "in.flac", x, subtype="PCM_24")
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    assert main(["render", str(src), str(a), "--preset", "Init", "--insert", "none",
                 "--float"]) == 0
    assert main(["render", str(src), str(b), "--preset", "Init", "--insert", "none", "--float",
                 "--set", "master_gain_db=-6"]) == 0
    ya, _ = sf.read(a)
    yb, _ = sf.read(b)
    ratio_db = 20 * np.log10(np.sqrt(np.mean(yb ** 2)) / np.sqrt(np.mean(ya ** 2)))
    assert ratio_db == pytest.approx(-6.0, abs=0.01)


def test_init_and_no_insert_return_the_input_unchanged_and_in_time(tmp_path):
    x = 0.5 * _signal(SR // 2)  # below the limiter's -1 dBTP ceiling
    src = _write(tmp_path / "in.wav", x)
    dst = tmp_path / "out.wav"
    assert main(["render", str(src), str(dst), "--preset", "Init", "--insert", "none",
                 "--float"]) == 0
    y, _ = sf.read(dst, dtype="float32")
    np.testing.assert_allclose(y, x, atol=1e-6)


def test_renders_repeat_to_the_byte_and_any_block_size_gives_the_same_output(tmp_path):
    x = _signal(SR)
    src = _write(tmp_path / "in.wav", x)
    outs = []
    for name, block in (("a", "128"), ("b", "128"), ("c", "7"), ("d", "1000")):
        dst = tmp_path / f"{name}.wav"
        assert main(["render", str(src), str(dst), "--float", "--blocksize", block]) == 0
        outs.append(dst)
    assert outs[0].read_bytes() == outs[1].read_bytes()
    ref = sf.read(outs[0], dtype="float32")[0]
    for path in outs[2:]:
        np.testing.assert_allclose(sf.read(path, dtype="float32")[0], ref, atol=1e-5)


def _bad_inputs(tmp_path):
    good = _write(tmp_path / "good.wav", _signal(SR // 10))
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio\n" * 20)
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes(good.read_bytes()[:30])
    return good, [
        ([str(tmp_path / "missing.wav")], "no such file"),
        ([str(empty)], "file is empty"),
        ([str(text)], "not a readable audio file"),
        ([str(truncated)], "not a readable audio file"),
        ([str(good), "--preset", "Loud"], "unknown preset 'Loud'"),
        ([str(good), "--set", "warp_factor=9"], "unknown parameter 'warp_factor'"),
        ([str(good), "--set", "master_gain_db=40"], "master_gain_db=40 is out of range"),
        ([str(good), "--set", "master_gain_db=loud"], "is not a number"),
        ([str(good), "--blocksize", "0"], "--blocksize 0"),
    ]


def test_bad_input_is_a_one_line_error_exit_2_and_no_output(tmp_path, capsys):
    good, cases = _bad_inputs(tmp_path)
    for args, message in cases:
        dst = tmp_path / "out.wav"
        code = main(["render", args[0], str(dst), *args[1:]])
        err = capsys.readouterr().err
        assert code == 2, args
        assert message in err, (args, err)
        assert err.count("\n") == 1, err
        assert not dst.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_more_than_two_channels_is_refused(tmp_path, capsys):
    src = _write(tmp_path / "quad.wav", _signal(1000, channels=4))
    assert main(["render", str(src), str(tmp_path / "o.wav")]) == 2
    assert "only mono and stereo" in capsys.readouterr().err


def test_the_console_command_exits_2_on_a_missing_file(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "render",
                           str(tmp_path / "nope.wav"), str(tmp_path / "o.wav")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "nope.wav: no such file" in proc.stderr


def test_long_input_is_refused_without_force(tmp_path, capsys):
    # 31 minutes at a low rate keeps the file small; the limit is about duration
    rate = 1000
    src = tmp_path / "long.wav"
    sf.write(src, np.zeros(31 * 60 * rate, dtype=np.int16), rate, subtype="PCM_16")
    dst = tmp_path / "o.wav"
    assert main(["render", str(src), str(dst), "--insert", "none"]) == 2
    assert "over the 30 min limit" in capsys.readouterr().err
    assert not dst.exists()
    assert main(["render", str(src), str(dst), "--insert", "none", "--force"]) == 0
    assert "is 31.0 min long" in capsys.readouterr().err
    assert sf.info(dst).frames == 31 * 60 * rate


@pytest.mark.parametrize("suffix", [".ogg", ".mp3"])
def test_compressed_inputs_render_at_their_own_rate(tmp_path, suffix):
    src = tmp_path / f"in{suffix}"
    sf.write(src, _signal(SR // 2), SR)
    dst = tmp_path / "out.flac"
    assert main(["render", str(src), str(dst), "--insert", "none"]) == 0
    info = sf.info(dst)
    assert (info.samplerate, info.channels) == (SR, 2)
    assert info.frames == sf.info(src).frames


RAVE_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rave"


def test_render_through_a_rave_export_on_the_worker(tmp_path):
    model = RAVE_FIXTURES / "rave_v2_tiny_causal_streaming.ts"
    assert model.exists(), f"RAVE fixtures missing: {RAVE_FIXTURES}"
    x = _signal(SR)
    y, engine = render_array(x, SR, {"stem_dry_gain_db": -80.0}, insert="rave",
                             model_path=model)
    snap = engine.snapshot()
    assert snap["worker"]["processor"] == "RaveProcessor"
    assert snap["worker"]["errors"] == 0 and snap["worker_underruns"] == 0
    # untrained weights make noise, but it comes out of the model, after its latency
    latency = snap["latency"]["worker_ring_frames"]
    assert np.isfinite(y).all() and np.abs(y).max() <= 1.0
    assert np.abs(y[:latency]).max() == 0.0
    assert np.sqrt(np.mean(y[latency:] ** 2)) > 1e-4


def test_render_cli_runs_rave_on_onnx_runtime(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # graphs exported here
    src = _write(tmp_path / "in.wav", _signal(SR // 2))
    dst = tmp_path / "out.wav"
    model = RAVE_FIXTURES / "rave_v2_tiny_causal_streaming.ts"
    assert main(["render", str(src), str(dst), "--insert", "rave", "--model", str(model),
                 "--rave-backend", "onnx", "--set", "stem_dry_gain_db=-80"]) == 0
    assert any((tmp_path / "cache").rglob("model.decode.onnx"))
    y, _ = sf.read(dst, dtype="float32")
    assert np.isfinite(y).all() and np.sqrt(np.mean(y[SR // 4:] ** 2)) > 1e-4


def test_rave_insert_needs_a_valid_model(tmp_path, capsys):
    src = _write(tmp_path / "in.wav", _signal(SR // 10))
    dst = tmp_path / "out.wav"
    assert main(["render", str(src), str(dst), "--insert", "rave"]) == 2
    assert "needs --model" in capsys.readouterr().err
    assert main(["render", str(src), str(dst), "--insert", "rave", "--model", str(src)]) == 2
    assert "not a TorchScript export" in capsys.readouterr().err
    assert not dst.exists()
