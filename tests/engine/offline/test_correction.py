"""The correction's tone estimate: the centroid and M/S ratio the master's tone stage would
give, read from the mix's spectra through the filters' responses, against the figures
measured on the tone stage's real output."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from dsp import mastering
from dsp.analysis import mix_figures
from engine.offline.correction import _ToneFigures

RATE = 48000


def _mix() -> np.ndarray:
    """4 s of stereo: a pink-ish wide noise bed, a low hum in the middle, bursts."""
    rng = np.random.default_rng(7)
    n = 4 * RATE
    noise = signal.lfilter([1.0], [1.0, -0.95], rng.standard_normal((2, n)), axis=1)
    t = np.arange(n) / RATE
    hum = 0.5 * np.sin(2 * np.pi * 110 * t) * (1 + np.sin(2 * np.pi * 0.5 * t))
    bursts = rng.standard_normal(n) * ((t % 0.5) < 0.05)
    x = 0.02 * noise + hum + 0.2 * bursts
    return (0.3 * x / np.abs(x).max()).astype(np.float32)


@pytest.mark.parametrize("tilt_db, side_db, low_cut_hz, high_cut_hz", [
    (0.0, 0.0, mastering.LOW_CUT_OFF_HZ, mastering.HIGH_CUT_OFF_HZ),
    (9.0, 4.0, mastering.LOW_CUT_OFF_HZ, mastering.HIGH_CUT_OFF_HZ),
    (-24.0, -12.0, mastering.LOW_CUT_OFF_HZ, 2500.0),
    (24.0, 0.0, 400.0, mastering.HIGH_CUT_OFF_HZ),
])
def test_the_tone_estimate_reads_what_the_tone_stage_measures(tilt_db, side_db, low_cut_hz,
                                                              high_cut_hz):
    x = _mix()
    p = mastering.defaults()
    for name, value in (("tilt_db", tilt_db), ("side_db", side_db), ("low_cut_hz", low_cut_hz),
                        ("high_cut_hz", high_cut_hz), ("gain_db", 6.0)):
        p[mastering.INDEX[name]] = value
    y = mastering.tone(x, RATE, p)
    estimate = _ToneFigures(x, RATE)(p)
    measured_hz = mix_figures.centroid_hz(y, RATE)
    # the filters ring for less than a frame: a few hertz (here up to 3 in 400-4000)
    assert estimate["centroid_hz"] == pytest.approx(measured_hz, rel=0.005)
    assert estimate["ms_ratio"] == pytest.approx(mix_figures.ms_ratio(y), rel=0.01)
    untouched = mix_figures.centroid_hz(x, RATE)  # and the settings do move it
    assert tilt_db == 0.0 or abs(measured_hz - untouched) > 100.0


@pytest.mark.parametrize("style", ["rock_punk", "rnb_ballad"])
def test_bright_material_at_96_khz_reaches_the_centroid(style):
    """At 96 kHz a band's noise reaches 48 kHz: the high-cut at its highest setting (22 kHz)
    and off are far apart (1320 against 2233 Hz here, the target between), so the tilt
    must aim with the cut kept at its highest."""
    from engine.offline.styled_mix import mix_styled
    from models.automix import synth_stems
    from presets import mix_styles

    stems = [x for _, x in synth_stems.band(6, 3, 8.0, 96000)]
    report = mix_styled(stems, 96000, mix_styles.load(style)).report
    assert abs(report["centroid_error_hz"]) <= 75.0  # half the tolerance, as aimed
    assert abs(report["lufs_error"]) <= 0.25
    assert report["within_tolerance"]


@pytest.mark.parametrize("level_db", [-35.0, -20.0])
def test_a_quiet_sum_is_brought_up_to_the_target(level_db):
    """The gain may need far more than a few dB (its range reaches +40): the limiter's
    model steps it there, and calls the gain spent only where the limiter would take it."""
    from engine.offline.correction import correct
    from presets import mix_styles

    from ...dsp.test_limiter import music_like

    style = mix_styles.load("rnb_ballad")
    bused = music_like(5, seconds=6.0, gain_db=level_db)
    y, fix = correct(bused, 48000, style, mastering.defaults())
    assert fix.figures["lufs"] == pytest.approx(style.lufs, abs=0.25)
    assert mix_figures.lufs(y, 48000) == pytest.approx(fix.figures["lufs"], abs=1e-9)
    assert fix.params[mastering.INDEX["gain_db"]] > -level_db - 20.0  # a big step up
