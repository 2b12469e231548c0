"""--preset and --set resolution (engine/session/setup.py)."""

from __future__ import annotations

import numpy as np
import pytest

from dsp.errors import InputError as UsageError
from engine.session.setup import build_engine, resolve_preset
from presets.registry import INDEX


def test_set_wins_over_the_presets_macro_on_that_parameter(capsys):
    preset = resolve_preset("Balanced", ["stem_dry_gain_db=-80", "master_gain_db=-3"])
    assert "replaces macro user_1's control of it" in capsys.readouterr().err
    assert all(m.target != "stem_dry_gain_db" for m in preset.macros)
    assert any(m.target == "input_gain_db" for m in preset.macros)  # others stay
    engine = build_engine(48000, 2, 2, None, preset)
    x = np.zeros((256, 2), np.float32)
    engine.process(x, np.zeros_like(x))
    assert engine.effective[INDEX["stem_dry_gain_db"]] == -80.0
    assert engine.params.target[INDEX["master_gain_db"]] == -3.0


def test_bad_assignments_name_the_problem():
    with pytest.raises(UsageError, match="expected PARAM=VALUE"):
        resolve_preset(None, ["master_gain_db"])
    with pytest.raises(UsageError, match="out of range"):
        resolve_preset(None, ["master_gain_db=99"])
    with pytest.raises(UsageError, match="not a number"):
        resolve_preset(None, ["master_gain_db=loud"])
