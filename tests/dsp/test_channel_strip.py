"""The channel strip and mastering chain: levels, filters, pan and width measured."""

from __future__ import annotations

import numpy as np

from dsp import channel_strip as cs
from dsp import mastering

SR = 48000


def _sine(f_hz, level, seconds=1.0):
    t = np.arange(int(seconds * SR)) / SR
    x = (level * np.sin(2 * np.pi * f_hz * t)).astype(np.float32)
    return np.stack([x, x])


def _rms_db(x, skip=SR // 4):
    return 10 * np.log10(np.mean(np.asarray(x, np.float64)[..., skip:] ** 2))


def test_gain_is_exact_for_quiet_signals_and_output_is_aligned():
    x = _sine(1000.0, 0.01)
    p = cs.defaults()
    p[cs.INDEX["gain_db"]] = -6.0
    y = cs.process(x, SR, p)
    assert abs((_rms_db(y) - _rms_db(x)) - (-6.0)) < 0.01
    click = np.zeros((2, 4000), np.float32)
    click[:, 1000] = 0.01
    y = cs.process(click, SR, cs.defaults())
    assert np.argmax(np.abs(y[0])) == 1000  # the oversampling delay is removed


def test_high_pass_and_shelves_act_where_they_should():
    p = cs.defaults()
    p[cs.INDEX["hpf_hz"]] = 200.0
    assert _rms_db(cs.process(_sine(50.0, 0.01), SR, p)) - _rms_db(_sine(50.0, 0.01)) < -20.0
    p = cs.defaults()
    p[cs.INDEX["high_db"]] = 9.0
    gain = _rms_db(cs.process(_sine(12000.0, 0.01), SR, p)) - _rms_db(_sine(12000.0, 0.01))
    assert 8.0 < gain < 9.2


def test_compressor_reduces_loud_material_by_its_ratio():
    p = cs.defaults()
    p[cs.INDEX["comp_threshold_db"]] = -30.0
    p[cs.INDEX["comp_ratio"]] = 4.0
    x = _sine(1000.0, 0.5)  # peaks at -6 dBFS: 24 dB over, 18 dB of reduction
    reduction = _rms_db(x) - _rms_db(cs.process(x, SR, p))
    assert 16.0 < reduction < 19.0


def test_pan_and_width():
    x = _sine(500.0, 0.1)
    p = cs.defaults()
    p[cs.INDEX["pan"]] = -1.0
    y = cs.process(x, SR, p)
    assert np.abs(y[1]).max() < 1e-6 and abs(_rms_db(y[0]) - _rms_db(x[0]) - 3.01) < 0.02
    stereo = np.stack([x[0], -x[1]])  # all side
    p = cs.defaults()
    p[cs.INDEX["width"]] = 0.0
    assert np.abs(cs.process(stereo, SR, p)).max() < 1e-6


def test_mastering_side_gain_scales_the_ms_ratio_exactly():
    rng = np.random.default_rng(0)
    x = (0.05 * rng.standard_normal((2, SR))).astype(np.float32)
    m = mastering.defaults()
    m[mastering.INDEX["side_db"]] = 6.0
    y = mastering.pre_limiter(x, SR, m)

    def ms(v):
        return np.std(v[0] - v[1]) / np.std(v[0] + v[1])

    assert abs(ms(y) / ms(x) - 10 ** (6 / 20)) < 1e-4


def test_limiter_holds_the_ceiling_and_keeps_alignment():
    x = _sine(997.0, 2.0)
    y = mastering.limit(x, SR)
    assert y.shape == x.shape
    assert np.abs(y).max() <= 10 ** (mastering.CEILING_DBTP / 20) + 1e-4


def test_mixing_placed_stems_equals_summing_each_placed_copy():
    rng = np.random.default_rng(4)
    stems = [rng.standard_normal((2, 3000)).astype(np.float32) for _ in range(5)]
    strips = np.stack([cs.clamp(cs.defaults() + rng.uniform(-3, 3, cs.N_PARAMS))
                       for _ in range(5)])
    expected = np.sum([cs.place(s, p) for s, p in zip(stems, strips, strict=True)], axis=0,
                      dtype=np.float32)
    np.testing.assert_array_equal(cs.mix_placed(stems, strips), expected)


def test_the_one_pass_equaliser_equals_four_biquad_passes():
    from dsp import biquad

    rng = np.random.default_rng(7)
    for n in (0, 1, 2, 3, 4, 1000):
        x = (0.3 * rng.standard_normal((2, n))).astype(np.float32)
        p = cs.defaults()
        p[cs.INDEX["hpf_hz"]], p[cs.INDEX["low_db"]] = 120.0, 6.0
        p[cs.INDEX["mid_hz"]], p[cs.INDEX["mid_db"]], p[cs.INDEX["high_db"]] = 900.0, -5.0, 4.0
        ref = x.copy()
        for kind, f, q, g in cs._filters(48000, p):  # what the strip ran before
            biquad.run(biquad.prepare(2, 48000, kind, f, q, g), ref, ref)
        y = x.copy()
        cs._equalise(cs.filter_coefficients(48000, p), y)
        np.testing.assert_array_equal(y, ref)
        if n == 1000:
            assert np.abs(y - x).max() > 0.01  # the filters did act
