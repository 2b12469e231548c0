"""Factory presets: valid, complete, ordered from calm to chaotic, and never clipping."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

from engine.engine import Engine
from engine.session.presets import apply_preset
from presets.factory_presets import (
    FACTORY_NAMES,
    PERFORMANCE_NAMES,
    factory_params,
    load_factory,
)
from presets.registry import LFO_SHAPES, MACROS, N_LFOS, REGISTRY
from presets.schema import Preset, parse, to_doc

SR = 48000
RANDOM_SHAPES = {LFO_SHAPES.index("sample_hold"), LFO_SHAPES.index("smooth_random")}


def _all() -> list[Preset]:
    """The performance presets, calm to chaotic (Init is the neutral start, apart)."""
    return [load_factory(n) for n in PERFORMANCE_NAMES]


@pytest.mark.parametrize("name", FACTORY_NAMES)
def test_factory_files_are_complete_strict_schema_v1(name):
    text = resources.files("presets").joinpath("factory", f"{name}.json").read_text("utf-8")
    doc = json.loads(text)
    preset, warnings = parse(text, f"factory/{name}.json")
    assert warnings == []
    assert doc["schema_version"] == 1 and doc["name"] == name
    assert list(doc["params"]) == [p.id for p in REGISTRY]  # every parameter, saved order
    assert to_doc(preset) == doc  # the file is exactly what saving it would write
    assert preset.description


def test_load_factory_is_case_insensitive_and_lists_names_when_unknown():
    assert load_factory("cALm").name == "Calm"
    with pytest.raises(KeyError, match="unknown preset 'Loud'; factory presets: Calm"):
        load_factory("Loud")
    values = factory_params("Calm")
    assert list(values) == [p.id for p in REGISTRY]
    assert all(isinstance(v, float) for v in values.values())


@pytest.mark.parametrize("name", PERFORMANCE_NAMES)
def test_every_macro_does_something_and_the_limiter_guards_minus_one_dbtp(name):
    preset = load_factory(name)
    assert {m.macro for m in preset.macros} == set(MACROS)
    assert preset.params["limiter_ceiling_dbtp"] == -1.0
    assert preset.params["master_gain_db"] <= 0.0
    assert preset.lfo_routes
    by_macro = {m: {a.target for a in preset.macros if a.macro == m} for m in MACROS}
    assert {"input_gain_db", "comp_ratio", "comp_makeup_db"} <= by_macro["energy"]
    assert any(t.startswith("bus_comp") for t in by_macro["energy"])
    assert {"eq_mid_freq_hz", "eq_high_gain_db", "eq_low_gain_db"} <= by_macro["texture"]
    assert all(t.startswith("lfo") for t in by_macro["chaos"])
    # each macro assignment agrees with the stored base value at the preset's macro position
    # for the linear ones, so clearing a macro never jumps
    for a in preset.macros:
        if preset.params[f"macro_{a.macro}"] == 0.0:
            assert preset.params[a.target] == pytest.approx(a.low, abs=1e-3), a


def _total_depth(p: Preset) -> float:
    return sum(p.params[f"lfo{k}_depth"] for k in range(1, N_LFOS + 1))


def test_presets_rise_in_energy_and_chaos():
    presets = _all()
    for key in (lambda p: p.params["macro_energy"], lambda p: p.params["macro_chaos"],
                _total_depth, lambda p: p.params["input_gain_db"],
                lambda p: p.params["tempo_bpm"]):
        values = [key(p) for p in presets]
        assert values == sorted(values) and len(set(values)) == len(values), values


def test_chaotic_is_maximum_randomness():
    chaotic = load_factory("Chaotic")
    assert chaotic.params["macro_chaos"] == 1.0
    for k in range(1, N_LFOS + 1):
        assert int(chaotic.params[f"lfo{k}_shape"]) in RANDOM_SHAPES
        assert chaotic.params[f"lfo{k}_depth"] >= 0.5
    calm = load_factory("Calm")
    assert all(int(calm.params[f"lfo{k}_shape"]) not in RANDOM_SHAPES
               for k in range(1, N_LFOS + 1))


def _voice_like(seconds: float) -> np.ndarray:
    """A hot harmonic signal with a syllable envelope: peaks near -1 dBFS."""
    t = np.arange(int(seconds * SR)) / SR
    env = (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)) ** 2
    x = sum(np.sin(2 * np.pi * 180 * k * t + k) / k for k in range(1, 8)) * env
    x = 0.89 * x / np.abs(x).max()
    return np.stack([x, x[::-1]], axis=1).astype(np.float32)


@pytest.mark.parametrize("name", FACTORY_NAMES)
def test_no_factory_preset_clips(name):
    e = Engine(SR, 2, 2, None)
    apply_preset(e, load_factory(name))
    x = _voice_like(1.0)
    y = np.zeros_like(x)
    for start in range(0, x.shape[0], 128):
        e.process(x[start: start + 128], y[start: start + 128])
    ceiling = 10 ** (-1.0 / 20)
    assert np.abs(y).max() <= ceiling * 1.001
    assert np.abs(y[SR // 2:]).max() > 0.05  # and it is not silent
    assert e.snapshot()["safety_limited_blocks"] == 0  # the master limiter did the work
