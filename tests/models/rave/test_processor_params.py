"""The rave_* registry parameters drive RaveProcessor through bind() (engine array view)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.engine import Engine
from models.rave.processor import PARAM_ATTRS, RaveProcessor
from presets.registry import INDEX, REGISTRY, param


def _defaults() -> np.ndarray:
    return np.array([p.default for p in REGISTRY], dtype=np.float64)


def _noise(frames: int, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((2, frames)) * 0.1).astype(np.float32)


def _run(proc: RaveProcessor, x: np.ndarray) -> np.ndarray:
    n = proc.block_frames
    return np.concatenate([proc.process(x[:, i:i + n]) for i in range(0, x.shape[1], n)], 1)


def test_registry_has_the_rave_parameters():
    expect = {"rave_dry_wet": (0.0, 1.0, 1.0), "rave_input_gain_db": (-24.0, 12.0, 0.0),
              "rave_output_gain_db": (-24.0, 12.0, 0.0), "rave_energy": (0.3, 2.0, 1.0),
              "rave_chaos": (0.0, 1.0, 0.0), "rave_texture": (0.0, 1.0, 0.0),
              "rave_match": (0.0, 1.0, 0.0), "rave_source": (0.0, 1.0, 0.0),
              "rave_tempo": (0.5, 2.0, 1.0), "rave_style": (0.0, 1.0, 0.0)}
    for pid, (lo, hi, default) in expect.items():
        p = param(pid)
        assert (p.min, p.max, p.default, p.smoothing_ms) == (lo, hi, default, 20.0)
    assert param("rave_energy").curve == param("rave_tempo").curve == "log"
    gen = param("rave_generator")
    assert (gen.min, gen.max, gen.discrete) == (0, 3, True)
    align = param("rave_align_dry")
    assert (align.default, align.discrete) == (1, True)
    assert {pid for pid, _ in PARAM_ATTRS} == set(expect) | {"rave_generator", "rave_align_dry"}
    for d in (1, 16):
        assert (param(f"rave_bias_{d}").min, param(f"rave_bias_{d}").max) == (-3.0, 3.0)
        assert param(f"rave_scale_{d}").default == 1.0
    assert "rave_bias_17" not in INDEX


def test_bound_bias_and_scale_reach_their_dimensions(causal):
    proc = RaveProcessor(causal, engine_rate_hz=44100, seed=1)
    values = _defaults()
    values[INDEX["rave_bias_3"]] = 1.25
    values[INDEX["rave_scale_16"]] = 0.5
    values[INDEX["rave_bias_1"]] = -9.0  # modulation overshoot: clamped to -3
    proc.bind(values)
    assert causal.latent_dims == 16
    expect_bias = np.zeros(16, np.float32)
    expect_bias[[0, 2]] = (-3.0, 1.25)
    np.testing.assert_array_equal(proc.bias, expect_bias)
    assert proc.scale[15] == 0.5 and np.all(proc.scale[:15] == 1.0)


def test_bind_pulls_values_and_clamps(causal):
    proc = RaveProcessor(causal, engine_rate_hz=44100, seed=1)
    values = _defaults()
    proc.bind(values)
    assert (proc.dry_wet, proc.energy, proc.match_amount) == (1.0, 1.0, 0.0)
    values[INDEX["rave_energy"]] = 1.5
    values[INDEX["rave_chaos"]] = 0.25
    values[INDEX["rave_input_gain_db"]] = 40.0  # modulation overshoot: clamped
    proc.process(np.zeros((2, proc.block_frames), np.float32))
    assert (proc.energy, proc.chaos, proc.input_gain_db) == (1.5, 0.25, 12.0)
    proc.bind(None)
    values[INDEX["rave_energy"]] = 0.5
    proc.process(np.zeros((2, proc.block_frames), np.float32))
    assert proc.energy == 1.5  # unbound: attributes stay as last read


def test_bind_rejects_a_wrong_shape(causal):
    proc = RaveProcessor(causal, engine_rate_hz=44100)
    with pytest.raises(ValueError, match="parameter array"):
        proc.bind(np.zeros(3))


def test_bound_controls_equal_attribute_controls(causal):
    settings = {"rave_energy": 1.6, "rave_chaos": 0.3, "rave_texture": 0.5,
                "rave_dry_wet": 0.7, "rave_input_gain_db": 3.0, "rave_output_gain_db": -6.0}
    values = _defaults()
    for pid, v in settings.items():
        values[INDEX[pid]] = v
    bound = RaveProcessor(causal, engine_rate_hz=48000, seed=4)
    bound.bind(values)
    plain = RaveProcessor(causal, engine_rate_hz=48000, seed=4)
    attrs = dict(PARAM_ATTRS)
    for pid, v in settings.items():
        setattr(plain, attrs[pid], v)
    x = _noise(plain.block_frames * 5)
    # the processors share one stateful TorchScript model: each run starts from a reset
    bound.reset()
    out_bound = _run(bound, x)
    plain.reset()
    out_plain = _run(plain, x)
    np.testing.assert_array_equal(out_bound, out_plain)
    neutral = RaveProcessor(causal, engine_rate_hz=48000, seed=4)  # resets the model
    assert np.abs(_run(neutral, x) - out_plain).max() > 1e-4  # the settings did something


def test_dry_wet_zero_from_the_array_is_the_delayed_dry(causal):
    proc = RaveProcessor(causal, engine_rate_hz=44100, seed=0)
    values = _defaults()
    values[INDEX["rave_dry_wet"]] = 0.0
    proc.bind(values)
    x = _noise(proc.block_frames * 4)
    out = _run(proc, x)
    d = proc.delay_frames
    np.testing.assert_allclose(out[:, d:], x[:, :x.shape[1] - d], atol=1e-7)


def test_engine_effective_array_drives_a_bound_processor(causal):
    """What the engine hands over (``Engine.effective``) carries rave_* values to the model."""
    proc = RaveProcessor(causal, engine_rate_hz=48000, seed=0)
    eng = Engine(48000, processor=proc, input_strip=False, master_bus=False)
    eng.params.set("rave_energy", 1.8)
    eng.params.set("rave_dry_wet", 0.5)
    chunk = 1000  # any size: the engine steps the worker at its own block ends
    x = np.zeros((chunk, 2), np.float32)
    out = np.zeros((chunk, 2), np.float32)
    for _ in range(4 * proc.block_frames // chunk + 1):
        eng.process(x, out)
    # Engine.__init__ bound the processor: no call of ours hands it the array
    assert proc.energy == pytest.approx(1.8) and proc.dry_wet == pytest.approx(0.5)


def test_an_lfo_on_a_latent_bias_evolves_the_model_live(causal):
    """Evolution: the engine's LFO routed to rave_bias_2 moves that dimension's bias block
    by block, through the effective parameter array the processor reads."""
    from engine.session.setup import build_engine

    proc = RaveProcessor(causal, engine_rate_hz=48000, seed=0)
    engine = build_engine(48000, 2, 2, proc, params={"lfo1_depth": 1.0, "lfo1_rate_hz": 2.0})
    engine.modulation.route_lfo(1, "rave_bias_2", 1.0)
    seen = []
    pull = proc.pull_params

    def spy() -> None:
        pull()
        seen.append(proc.bias.copy())

    proc.pull_params = spy
    x = np.zeros((48000, 2), np.float32)
    y = np.zeros_like(x)
    for i in range(0, x.shape[0], 128):
        engine.process(x[i:i + 128], y[i:i + 128])
    bias = np.array(seen)
    assert len(seen) >= 18  # one read per model block, ~21 in a second
    assert bias[:, 1].max() - bias[:, 1].min() > 2.0  # a 2 Hz LFO over the -3..3 range
    assert np.all(bias[:, [0, 2]] == 0.0)  # only the routed dimension moves


def test_the_last_decoded_latent_frame_is_kept_for_the_window(causal):
    proc = RaveProcessor(causal, engine_rate_hz=44100, seed=1)
    assert proc.last_latent is None
    proc.process(np.zeros((2, proc.block_frames), np.float32))
    assert proc.last_latent.shape == (causal.latent_dims,)
    assert np.all(np.isfinite(proc.last_latent))
