import numpy as np
import pytest

from models.rave import latent

Z = np.array([[1.0, -2.0, 0.5, 0.0],
              [0.0, 1.0, 2.0, -1.0],
              [3.0, 3.0, -3.0, 1.0]], dtype=np.float32)


def test_energy_scales_magnitude_and_checks_range():
    np.testing.assert_array_equal(latent.energy(Z, 2.0), Z * 2)
    np.testing.assert_array_equal(latent.energy(Z, 1.0), Z)
    with pytest.raises(ValueError, match="energy"):
        latent.energy(Z, 0.1)


def test_chaos_adds_seeded_noise():
    out = latent.chaos(Z, 0.5, np.random.default_rng(4))
    noise = np.random.default_rng(4).standard_normal(Z.shape).astype(np.float32)
    np.testing.assert_allclose(out, Z + 0.5 * noise, rtol=0, atol=1e-7)
    np.testing.assert_array_equal(latent.chaos(Z, 0.0, np.random.default_rng(4)), Z)


def test_texture_pattern_is_smooth_bounded_and_spares_the_first_dims():
    p = latent.texture_pattern(16, seed=3)
    assert p.shape == (16,)
    assert p[0] == 0 and p[1] == 0
    assert np.max(np.abs(p)) == pytest.approx(1.0)
    np.testing.assert_array_equal(p, latent.texture_pattern(16, seed=3))


def test_texture_scales_rows_by_the_pattern():
    pattern = np.array([0.0, 0.0, -0.5], np.float32)
    out = latent.texture(Z, 0.4, pattern)
    np.testing.assert_allclose(out[:2], Z[:2])
    np.testing.assert_allclose(out[2], [2.4, 2.4, -2.4, 0.8], rtol=1e-6)


def test_bias_scale_reset_and_random():
    bias, scale = latent.neutral_bias_scale(3)
    np.testing.assert_array_equal(latent.bias_scale(Z, bias, scale), Z)
    out = latent.bias_scale(Z, np.array([1, 0, -1], np.float32), np.array([2, 1, 0], np.float32))
    np.testing.assert_array_equal(out, [[3, -3, 2, 1], [0, 1, 2, -1], [-1, -1, -1, -1]])
    b1, s1 = latent.random_bias_scale(3, seed=9, bias_spread=1.0, scale_spread=0.5)
    b2, s2 = latent.random_bias_scale(3, seed=9, bias_spread=1.0, scale_spread=0.5)
    np.testing.assert_array_equal(b1, b2)
    np.testing.assert_array_equal(s1, s2)
    assert np.all(np.abs(b1) <= 1.0) and np.all((s1 >= 0.5) & (s1 <= 1.5))
    with pytest.raises(ValueError):
        latent.bias_scale(Z, np.zeros(2), np.ones(2))


def test_tempo_interpolates_the_time_axis():
    z = np.array([[0.0, 1.0, 2.0, 3.0]], np.float32)
    np.testing.assert_array_equal(latent.tempo(z, 2.0), [[0.0, 2.0]])
    np.testing.assert_array_equal(latent.tempo(z, 0.5),
                                  [[0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.0]])
    np.testing.assert_array_equal(latent.tempo(z, 1.0), z)
    with pytest.raises(ValueError, match="tempo"):
        latent.tempo(z, 3.0)


def test_style_blend_weights_and_crops():
    a = np.ones((2, 3), np.float32)
    b = np.full((2, 5), 4.0, np.float32)
    out = latent.style_blend([a, b], [3, 1])
    np.testing.assert_allclose(out, np.full((2, 3), 1.75))
    with pytest.raises(ValueError):
        latent.style_blend([a, b], [0, 0])


def test_match_pulls_statistics_toward_the_reference():
    mean, std = latent.latent_stats(Z)
    ref_mean = np.array([1.0, 0.0, -1.0], np.float32)
    ref_std = np.array([2.0, 1.0, 0.5], np.float32)
    full = latent.match(Z, mean, std, ref_mean, ref_std, 1.0)
    m2, s2 = latent.latent_stats(full)
    np.testing.assert_allclose(m2, ref_mean, atol=1e-6)
    np.testing.assert_allclose(s2, ref_std, rtol=1e-5)
    half = latent.match(Z, mean, std, ref_mean, ref_std, 0.5)
    np.testing.assert_allclose(half, (Z + full) / 2, atol=1e-6)
    np.testing.assert_array_equal(latent.match(Z, mean, std, ref_mean, ref_std, 0.0), Z)
    # exact value: row 0 mean -0.125, std of [1, -2, .5, 0]
    expected = (1.0 - mean[0]) / std[0] * 2.0 + 1.0
    assert full[0, 0] == pytest.approx(expected, rel=1e-6)
