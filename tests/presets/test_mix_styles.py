"""Genre style files: the shipped three with the specification's targets; a user's file
checked field by field."""

from __future__ import annotations

import pytest

from presets import mix_styles

SPEC = {"rock_punk": (-9.5, 2800.0, 0.6), "rnb_ballad": (-12.0, 1800.0, 0.8),
        "country_pop": (-10.5, 2200.0, 0.7)}


@pytest.mark.parametrize("name", sorted(SPEC))
def test_shipped_styles_hold_the_specified_targets(name):
    s = mix_styles.load(name)
    assert (s.lufs, s.centroid_hz, s.ms_ratio) == SPEC[name]
    assert abs(sum(s.shares) - 1.0) < 1e-9
    assert s.tolerance == {"lufs_db": 0.5, "centroid_hz": 150.0, "ms_ratio": 0.05}


GOOD = """targets: {lufs: -14, centroid_hz: 2000, ms_ratio: 0.5}
frequency_balance: {low: 0.5, mid: 0.4, high: 0.1}
bus_compression: {threshold_db: -20, ratio: 2}
"""


def test_user_file_round_trip_and_default_tolerance(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(GOOD)
    s = mix_styles.load_style_file(path)
    assert (s.name, s.lufs, s.bus_ratio, s.tolerance["lufs_db"]) == ("mine", -14.0, 2.0, 0.5)


@pytest.mark.parametrize("text, field", [
    (GOOD.replace("lufs: -14", "lufs: loud"), "targets.lufs"),
    (GOOD.replace("ratio: 2}", "ratio: 9}"), "bus_compression.ratio"),
    (GOOD.replace("high: 0.1", "high: 0.4"), "frequency_balance"),
    (GOOD + "extra: 1\n", "extra"),
    (GOOD.replace("centroid_hz: 2000, ", ""), "targets.centroid_hz"),
    ("targets: [1, 2", "not YAML"),
])
def test_bad_file_names_the_field(tmp_path, text, field):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(mix_styles.MixStyleError, match=field.replace(".", r"\.")):
        mix_styles.load_style_file(path)


def test_unknown_name_lists_the_styles():
    with pytest.raises(mix_styles.MixStyleError, match="rock_punk"):
        mix_styles.load("rock_punck")
