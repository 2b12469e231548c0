"""gui.panels: every registry parameter in exactly one panel, shown the way it is set."""

from __future__ import annotations

import pytest

from gui.panels import PANELS, format_value, layout, panel_of, widget_for
from presets.registry import (
    LFO_SHAPES,
    REGISTRY,
    SYNC_DIVISIONS,
    Param,
    param,
)


def test_every_parameter_appears_once():
    shown = [w.param.id for widgets in layout().values() for w in widgets]
    assert sorted(shown) == sorted(p.id for p in REGISTRY)
    assert len(shown) == len(set(shown))
    assert list(layout()) == list(PANELS)


def test_panels_take_what_their_names_say():
    assert panel_of(param("macro_energy")) == "Perform"
    assert panel_of(param("drum_blend")) == "Perform"  # not Drums: it is a performance move
    assert panel_of(param("drum_kick_tune_st")) == "Drums"
    assert panel_of(param("rave_bias_3")) == "Latent"
    assert panel_of(param("rave_energy")) == "Model"
    assert panel_of(param("beatbox_threshold_db")) == "Voice"
    assert panel_of(param("limiter_ceiling_dbtp")) == "Mix"
    # the macros lead the Perform panel
    assert [w.param.id for w in layout()["Perform"][:3]] == [
        "macro_energy", "macro_texture", "macro_chaos"]


def test_widget_kinds():
    assert widget_for(param("lfo2_shape")).choices == LFO_SHAPES
    assert widget_for(param("lfo1_sync")).choices[:3] == ("free", "1/1", "1/1.")
    assert len(widget_for(param("lfo1_sync")).choices) == len(SYNC_DIVISIONS)
    assert widget_for(param("beatbox_trigger")).kind == "switch"
    assert widget_for(param("tempo_tap")).kind == "button"
    assert widget_for(param("master_gain_db")).kind == "slider"
    for p in REGISTRY:  # every discrete parameter gets a switch, names or a button
        assert (widget_for(p).kind != "slider") == p.discrete


def test_a_discrete_parameter_without_names_is_refused():
    odd = Param("odd_mode", "Odd", "", 0, 3, 0, discrete=True)
    with pytest.raises(ValueError, match="needs choice names"):
        widget_for(odd)
    with pytest.raises(ValueError, match="no GUI panel"):
        panel_of(odd)


def test_values_read_as_set():
    assert format_value(param("lfo1_shape"), 3.0) == "saw"
    assert format_value(param("rave_generator"), 1.0) == "lfo"
    assert format_value(param("beatbox_trigger"), 1.0) == "on"
    assert format_value(param("master_gain_db"), -80.0) == "-inf dB"
    assert format_value(param("master_gain_db"), -6.25) == "-6.25 dB"
    assert format_value(param("gate_threshold_db"), -90.0) == "-90.0 dB"  # not a fader
    assert format_value(param("tempo_bpm"), 128.0) == "128 BPM"
    assert format_value(param("input_hpf_hz"), 30.0) == "30.0 Hz"
