"""``musicmill bench rave``: JSON keys and the missing-model error (no timing asserts)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli import main
from engine.commands import bench

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures/rave/rave_v2_tiny_causal_streaming.ts"


def test_bench_rave_json(capsys):
    if not FIXTURE.is_file():
        pytest.fail(f"RAVE fixture missing: {FIXTURE}")
    assert bench.DEFAULT_RAVE == FIXTURE
    assert main(["bench", "rave", "--seconds", "1", "--rounds", "3", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    for key in ("torchscript_rtf", "onnx_rtf", "speedup"):
        assert result[key] > 0, result
    assert result["model"] == str(FIXTURE)
    assert result["rounds"] == 3 and len(result["onnx_rtf_rounds"]) == 3
    for key in ("torchscript", "onnx"):
        # The 99th-percentile block is never faster than the median one.
        block_ms = 1e3 * result["block"] / 48000
        assert result[f"{key}_p99_ms"] >= block_ms / result[f"{key}_rtf"] * 0.999, result
        assert result[f"{key}_rtf_mean"] > 0, result
    assert result["speedup"] == pytest.approx(result["onnx_rtf"] / result["torchscript_rtf"])


def test_bench_rave_refuses_zero_rounds(capsys):
    assert main(["bench", "rave", str(FIXTURE), "--rounds", "0"]) == 2
    assert "--rounds" in capsys.readouterr().err


def test_bench_rave_text(capsys):
    assert main(["bench", "rave", str(FIXTURE), "--seconds", "1", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert "TorchScript" in out and "ONNX speedup" in out and "per round" in out


def test_bench_rave_needs_a_model_without_the_fixture(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(bench, "DEFAULT_RAVE", tmp_path / "absent.ts")
    assert main(["bench", "rave", "--seconds", "1"]) == 2
    assert "needs MODEL" in capsys.readouterr().err
