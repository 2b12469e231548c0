"""The shipped drum model: what it is, how well it does, and that `run`/`render` use it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dsp.analysis.similarity import compare_arrays
from engine import cli
from models.drum_ae.network import COMPRESSION, DELAY_SAMPLES, LATENT_DIMS
from models.drum_ae.shipped import SHIPPED_MODEL
from models.rave.loader import load_rave

EXAMPLE = Path(__file__).resolve().parents[3] / "docs/examples/beatbox.wav"
# The targets, asserted on a subset to keep the suite short. Measured on the shipped
# weights (README, "Voice to drums: the neural path"): onset F 0.945 on these four loops
# (0.924 on all eight) and 0.836 on these 24 beatbox hits (0.846 on all 48).
ONSET_F_MIN = 0.9
BEATBOX_F_MIN = 0.8


def test_shipped_model_is_a_small_causal_streaming_export():
    assert SHIPPED_MODEL.stat().st_size < 20 * 2**20
    info = load_rave(SHIPPED_MODEL).info()
    assert info["sample_rate"] == 48000 and info["channels"] == 1
    assert info["compression_ratio"] == COMPRESSION == 256  # 5.3 ms per latent frame
    assert info["latent_dims"] == LATENT_DIMS
    assert info["streaming"] and info["causal"]
    assert info["delay_samples"] == DELAY_SAMPLES


@pytest.fixture(scope="module")
def quality():
    from models.drum_ae.evaluate import evaluate

    return evaluate(loops=4, beatbox_hits=24)


def test_reconstruction_quality_on_heldout_loops(quality):
    # Four of the eight loops `musicmill drum-model evaluate` uses; README has all eight.
    assert quality["onset_f_measure"] >= ONSET_F_MIN
    assert quality["rms_envelope_correlation"] >= 0.9
    assert quality["centroid_rel_error"] <= 0.2
    # Far below the trivial baseline (noise with the input's envelope).
    assert quality["mrstft_distance"] < 0.5 * quality["baseline_mrstft_distance"]


def test_beatbox_rhythm_survives_the_model(quality):
    assert quality["beatbox_onset_f_measure"] >= BEATBOX_F_MIN


def test_default_render_plays_both_paths_and_the_blend_moves_between_them(tmp_path):
    x, sr = sf.read(EXAMPLE, dtype="float32")
    outs = {}
    for blend in ("0", "0.5", "1"):
        dst = tmp_path / f"blend{blend}.wav"
        assert cli.main(["render", str(EXAMPLE), str(dst), "--preset", "Balanced", "--set",
                         f"drum_blend={blend}", "--set", "stem_dry_gain_db=-80"]) == 0
        outs[blend], _ = sf.read(dst, dtype="float32")
    trigger, both, model = outs["0"], outs["0.5"], outs["1"]
    # Each path alone is audible, and both together differ from either.
    for y in (trigger, model):
        assert np.sqrt(np.mean(y**2)) > 0.01
    assert np.abs(both - trigger).max() > 0.05 and np.abs(both - model).max() > 0.05
    # The model keeps the beatbox's rhythm (onsets within 20 ms).
    r = compare_arrays(x, sr, model, sr, onset_window_s=0.02)
    assert r["onset_f_measure"] >= BEATBOX_F_MIN
