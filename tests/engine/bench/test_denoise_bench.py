"""The noise reduction against its peer (noisereduce) on held-out noisy speech: the
issue's target, checked on the same files `musicmill bench denoise` reports."""

from __future__ import annotations

import pytest

from engine.bench.denoise import NOISES, bench_denoise


@pytest.fixture(scope="module")
def result():
    return bench_denoise("heldout", nonstationary=False)


def test_si_sdr_improvement_is_at_least_the_stationary_peer_minus_1_db(result):
    mean = result["means"]["all"]
    assert mean["ours_db"] >= mean["peer_stationary_db"] - 1.0, mean
    assert mean["ours_db"] > 5.0  # a real improvement, not a tie at zero
    for kind in NOISES:
        assert result["means"][kind]["ours_db"] > 3.0, (kind, result["means"][kind])


def test_it_adds_under_10_ms(result):
    assert result["latency_ms"] <= 10.0
