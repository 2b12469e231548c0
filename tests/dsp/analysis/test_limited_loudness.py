"""The limiter's loudness model against the real limiter and meter."""

import numpy as np
import pytest

from dsp import mastering
from dsp.analysis import mix_figures
from dsp.analysis.limited_loudness import Blocks, LimitedLoudness
from dsp.units import db_to_gain

from ..test_limiter import music_like

RATE = 48000


def real_lufs(pre: np.ndarray, gain_db: float) -> float:
    y = mastering.limit((pre * np.float32(db_to_gain(gain_db))).astype(np.float32), RATE)
    return mix_figures.lufs(y, RATE)


def model_of(pre: np.ndarray) -> LimitedLoudness:
    return LimitedLoudness(Blocks.read(pre, RATE), mastering.CEILING_DBTP,
                           mastering.LIMITER_RELEASE_MS, real_lufs(pre, 0.0))


def test_under_the_ceiling_it_is_the_meter_plus_the_gain():
    pre = music_like(0, seconds=4.0, gain_db=-24.0)  # peaks far under the ceiling
    model = model_of(pre)
    assert model.offset == pytest.approx(0.0, abs=0.02)  # it reads as the meter does
    assert model.lufs(6.0) - model.lufs(0.0) == pytest.approx(6.0, abs=1e-9)
    assert model.taken_db(6.0) == pytest.approx(0.0, abs=1e-9)


def test_it_predicts_what_the_limiter_takes():
    pre = music_like(1, seconds=6.0, gain_db=-6.0)
    model = model_of(pre)  # calibrated where it was measured
    for gain_db in (3.0, 6.0, 9.0):
        real = real_lufs(pre, gain_db)
        assert real < real_lufs(pre, 0.0) + gain_db - 1.0  # the limiter takes a lot
        assert model.lufs(gain_db) == pytest.approx(real, abs=0.3)
        assert model.taken_db(gain_db) > model.taken_db(gain_db - 3.0)


@pytest.mark.parametrize("target_lufs", [-12.0, -10.0])
def test_one_step_lands_near_a_loud_target(target_lufs):
    pre = music_like(2, seconds=6.0, gain_db=-3.0)
    step = model_of(pre).step_db(target_lufs, -24.0, 40.0)
    assert step > target_lufs - real_lufs(pre, 0.0) + 2.0  # far more than unlimited
    assert real_lufs(pre, step) == pytest.approx(target_lufs, abs=0.3)


def test_a_quiet_sum_far_under_its_target_gets_the_whole_step():
    pre = music_like(4, seconds=6.0, gain_db=-35.0)  # about -45 LUFS
    model = model_of(pre)
    step = model.step_db(-12.0, -24.0, 40.0)
    assert step is not None and step > 30.0
    assert real_lufs(pre, step) == pytest.approx(-12.0, abs=0.3)


def test_out_of_reach_is_said_and_the_spent_gain_found():
    pre = music_like(3, seconds=6.0, gain_db=6.0)  # limited hard already
    model = model_of(pre)
    assert model.step_db(model.lufs(0.0) + 6.0, -24.0, 12.0) is None
    spent = model.spent_db(-24.0, 12.0)
    assert -24.0 < spent < 12.0
    # past it, a dB more adds under 0.05 LU; before it, more
    assert model.lufs(spent + 1.0) - model.lufs(spent) < 0.05 + 1e-3
    assert model.lufs(spent - 1.0) - model.lufs(spent - 2.0) > 0.05
    faster = model.lufs(0.0)
    model.release_ms = 25.0
    assert model.lufs(0.0) > faster + 0.2  # a faster release is louder
