"""``musicmill bench mix`` end to end on a small stand-in for the held-out songs (our synth
stems: CI has no soundfont), so the table it prints is the one the code computes."""

from __future__ import annotations

import pytest

from engine.bench import mix as bench
from engine.cli import main
from models.automix import synth_stems


@pytest.fixture()
def small_songs(monkeypatch):
    monkeypatch.setattr(bench, "SECONDS", 3.0)
    monkeypatch.setattr(bench, "heldout_song", lambda k: [
        x for _, x in synth_stems.band(8, seed=40 + k, seconds=3.0)])


def test_bench_mix_reports_ours_and_the_rule_based_mix(small_songs, capsys):
    assert main(["bench", "mix", "--songs", "1"]) == 0
    text = capsys.readouterr().out
    assert "rule_based" in text and "predictor_alone" in text and "speed: ours" in text
    r = bench.bench_mix(1)
    for style in ("rock_punk", "rnb_ballad", "country_pop"):
        ours = r["styles"][style]["ours"]
        assert ours["lufs_error"]["max_abs"] <= 0.5
        assert ours["ms_ratio_error"]["max_abs"] <= 0.05
        # the rule-based mix holds loudness only: its width is nowhere near the style's
        assert r["styles"][style]["rule_based"]["ms_ratio_error"]["max_abs"] > 0.2
    assert r["speed_x_realtime"]["ours"] > 0 and r["peak_mb_above_start"]["ours"] > 10
