"""Typed commands for a running engine (engine/session/console.py)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from engine.inserts import make_insert
from engine.session.console import Console
from engine.session.controls import Controls
from engine.session.setup import build_engine
from models.rave import latent
from presets.registry import INDEX

RAVE = Path(__file__).resolve().parents[2] / "fixtures" / "rave"
SR = 48000


def _console(insert: str = "passthrough", model: Path | None = None) -> Console:
    engine = build_engine(SR, 2, 2, make_insert(insert, SR, model, "torchscript"))
    return Console(Controls(engine, insert, "torchscript"))


def test_set_validates_against_the_registry():
    c = _console()
    assert c.handle("set rave_energy 1.5") == "rave_energy = 1.5 x"
    assert c.controls.engine.params.target[INDEX["rave_energy"]] == 1.5
    assert c.handle("set rave_energy 9").startswith("error: rave_energy=9 is out of range")
    assert c.handle("set no_such 1").startswith("error: unknown parameter 'no_such'")
    assert c.handle("set rave_energy") == "error: usage: set PARAM VALUE"
    assert c.handle("frobnicate") == "error: unknown command 'frobnicate' (try help)"
    assert c.handle("captur 2") == ("error: unknown command 'captur' (did you mean "
                                    "'capture'?) (try help)")
    assert c.handle("Presets load x") == ("error: unknown command 'presets' (did you mean "
                                          "'preset'?) (try help)")
    assert c.handle('set "unclosed') .startswith("error: ")
    assert c.handle("   ") == ""


def test_latent_randomize_and_reset_set_every_controlled_dimension():
    c = _console()
    assert c.handle("latent randomize 7") == "latent controls randomized (seed 7)"
    bias, scale = latent.random_bias_scale(16, 7)
    t = c.controls.engine.params.target
    np.testing.assert_allclose([t[INDEX[f"rave_bias_{d}"]] for d in range(1, 17)], bias,
                               rtol=1e-6)
    np.testing.assert_allclose([t[INDEX[f"rave_scale_{d}"]] for d in range(1, 17)], scale,
                               rtol=1e-6)
    assert c.handle("latent reset") == "latent controls reset"
    assert all(t[INDEX[f"rave_bias_{d}"]] == 0.0 for d in range(1, 17))
    assert all(t[INDEX[f"rave_scale_{d}"]] == 1.0 for d in range(1, 17))


def test_capture_and_model_need_a_model_insert_and_say_so():
    c = _console()
    assert c.handle("capture 2") == "error: no model insert is running (--insert rave or drums)"
    assert c.handle("model x.ts").startswith("error: model swap needs a model insert")


def test_capture_before_and_after_the_voice_ran():
    c = _console("rave", RAVE / "rave_v2_tiny_causal_streaming.ts")
    assert c.handle("capture 2") == "error: nothing encoded yet (the voice path has not run)"
    x = np.zeros((2229 * 3, 2), np.float32)
    y = np.zeros_like(x)
    for i in range(0, x.shape[0], 128):
        c.controls.engine.process(x[i:i + 128], y[i:i + 128])
    assert c.handle("capture 2") == "captured 2 latent frames as the pattern"
    assert c.handle("capture 99") == "error: capture takes 0..16 seconds"


def test_a_stream_of_commands_is_answered_line_by_line(tmp_path):
    stopped = []
    c = _console()
    c.on_quit = lambda: stopped.append(True)
    answers = io.StringIO()
    bad = tmp_path / "missing.ts"
    c.controls.insert = "rave"  # a model insert by name, so the swap reaches the file check
    thread = c.start(io.StringIO(f"set rave_chaos 0.5\nmodel {bad}\nquit\n"), answers)
    thread.join(timeout=30)
    lines = answers.getvalue().splitlines()
    assert lines[0] == "rave_chaos = 0.5"
    assert lines[1].startswith("error: ")  # the passthrough engine has no model to swap
    assert lines[2] == "stopping" and stopped == [True]


def _play(c: Console, frames: int) -> None:
    x = (0.1 * np.random.default_rng(0).standard_normal((frames, 2))).astype(np.float32)
    y = np.zeros_like(x)
    for i in range(0, frames, 128):
        c.controls.engine.process(x[i:i + 128], y[i:i + 128])


def test_preset_save_and_load_carry_the_captured_pattern(tmp_path):
    from presets.store import PresetStore

    c = _console("rave", RAVE / "rave_v2_tiny_causal_streaming.ts")
    c.controls.store = PresetStore(tmp_path)
    _play(c, 2229 * 4)
    c.handle("capture 2")
    pattern = c.controls.engine.worker.processor.pattern
    n = pattern.shape[1]  # what has been encoded so far, under the 2 s asked for
    assert n >= 2
    c.handle("set rave_energy 1.7")
    assert c.handle("preset save Mine") == f"saved Mine with a {n}-frame pattern"
    saved = c.controls.store.load("Mine")
    assert saved.model == "rave_v2_tiny_causal_streaming.ts"
    np.testing.assert_allclose(np.array(saved.pattern_memory["captured"]).T, pattern,
                               rtol=1e-6)
    assert c.handle("preset load Calm") == "loaded Calm"
    assert c.controls.engine.params.target[INDEX["rave_energy"]] == 1.0
    # a fresh engine with the same model gets the values and the pattern back
    d = _console("rave", RAVE / "rave_v2_tiny_causal_streaming.ts")
    d.controls.store = c.controls.store
    assert d.handle("preset load mine 200") == f"loaded Mine with its {n}-frame pattern"
    np.testing.assert_allclose(d.controls.engine.worker.processor.pattern, pattern, rtol=1e-6)
    assert d.handle("preset load nothing").startswith("error: unknown preset 'nothing'")
    assert d.handle("preset save Calm").startswith("error: ")  # factory names are read-only


def test_a_pattern_saved_with_another_model_is_not_loaded(tmp_path):
    from presets.store import PresetStore

    c = _console("rave", RAVE / "rave_v2_tiny_causal_streaming.ts")
    c.controls.store = PresetStore(tmp_path)
    _play(c, 2229 * 3)
    c.handle("capture 1")
    c.handle("preset save Mine")
    d = _console("rave", RAVE / "rave_v2_tiny_streaming.ts")
    d.controls.store = c.controls.store
    assert d.handle("preset load Mine") == ("loaded Mine (its pattern belongs to "
                                            "rave_v2_tiny_causal_streaming.ts: not loaded)")
    assert d.controls.engine.worker.processor.pattern is None


def test_the_console_outlives_a_failing_command_and_set_frees_a_macro(tmp_path):
    c = _console()
    c.controls.engine.modulation.assign_macro("energy", "master_gain_db", -6.0, 0.0)
    assert c.handle("set master_gain_db -3") == ("master_gain_db = -3 dB (its macro "
                                                  "assignment removed)")
    assert c.controls.engine.modulation.macro_assignments() == []

    class Broken:
        def save(self, preset):
            raise OSError(28, "No space left on device")

    c.controls.store = Broken()
    answers = io.StringIO()
    c.start(io.StringIO("preset save Mine\nset rave_chaos 0.5\n"), answers).join(timeout=30)
    lines = answers.getvalue().splitlines()
    assert lines[0] == "error: OSError: [Errno 28] No space left on device"
    assert lines[1] == "rave_chaos = 0.5"
