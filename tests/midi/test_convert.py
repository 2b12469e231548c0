"""midi.convert: curves and registry normalisation never leave [0, 1] / the range."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from midi.convert import clamp01, from_normalized, to_normalized
from presets.curves import CURVES, shape, unshape
from presets.registry import REGISTRY, Param

any_float = st.floats(allow_nan=True, allow_infinity=True)
unit = st.floats(0.0, 1.0)


@st.composite
def params(draw) -> Param:
    """Registry parameters and synthetic ones (any range, curve, discreteness)."""
    if draw(st.booleans()):
        return draw(st.sampled_from(REGISTRY))
    lo = draw(st.floats(-1e6, 1e6))
    hi = draw(st.floats(-1e6, 1e6))
    lo, hi = min(lo, hi), max(lo, hi)
    discrete = draw(st.booleans())
    if discrete:
        lo, hi = math.floor(lo), math.ceil(hi)
    curve = draw(st.sampled_from(CURVES))
    if curve == "log":  # the registry requires a positive minimum for log curves
        lo, hi = abs(lo) + 1e-3, abs(lo) + 1e-3 + (hi - lo)
        if discrete:
            lo, hi = math.ceil(lo), math.ceil(hi)
    return Param("x", "x", "u", lo, hi, lo, curve=curve, discrete=discrete)


@given(st.sampled_from(CURVES), any_float)
def test_shapes_stay_in_unit_interval(curve, x):
    assert 0.0 <= shape(curve, x) <= 1.0
    assert 0.0 <= unshape(curve, x) <= 1.0


@pytest.mark.parametrize("curve", CURVES)
def test_shapes_keep_their_end_points(curve):
    assert shape(curve, 0.0) == 0.0
    assert shape(curve, 1.0) == 1.0


@given(st.sampled_from(CURVES), unit)
def test_shape_round_trip(curve, x):
    assert unshape(curve, shape(curve, x)) == pytest.approx(x, abs=1e-12)


def test_log_rises_fast_and_exp_slow():
    assert shape("log", 0.25) > 0.25 > shape("exp", 0.25)


@given(params(), any_float)
def test_from_normalized_never_leaves_the_range(p, n):
    value = from_normalized(p, n)
    assert p.min <= value <= p.max
    if p.discrete:
        assert value == round(value)


@given(params(), any_float)
def test_to_normalized_stays_in_unit_interval(p, value):
    assert 0.0 <= to_normalized(p, value) <= 1.0


@given(params().filter(lambda p: not p.discrete and p.max - p.min > 1e-3), unit)
def test_normalized_round_trip(p, n):
    tolerance = 1e-9
    if p.curve == "exp":
        # The value is min + range * n**2 and n comes back as a square root: one rounding
        # of the value (half an ulp of the larger end) becomes sqrt(ulp / range) in n, about
        # 1e-8 near n = 0 (hypothesis found n = 1e-8 on [-0.375, 0] returning 1.2e-8).
        ulp = math.ulp(max(abs(p.min), abs(p.max)))
        tolerance += math.sqrt(2.0 * ulp / (p.max - p.min))
    assert to_normalized(p, from_normalized(p, n)) == pytest.approx(n, abs=tolerance)


def test_log_parameters_are_geometric():
    p = Param("f", "f", "Hz", 20.0, 20000.0, 1000.0, curve="log")
    assert from_normalized(p, 0.5) == pytest.approx(math.sqrt(20.0 * 20000.0))
    assert from_normalized(p, 0.0) == 20.0 and from_normalized(p, 1.0) == 20000.0


def test_clamp01_reads_nan_as_zero():
    assert clamp01(float("nan")) == 0.0
    assert clamp01(-1.0) == 0.0 and clamp01(2.0) == 1.0
