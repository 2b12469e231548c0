"""`musicmill bench cli`: each command measured as its own process, as a user starts it."""

from __future__ import annotations

import pytest

from engine.bench.cli import _measure

# exits 1 when the child would not write bytecode, 0 otherwise
_WRITES_BYTECODE = "import sys; sys.exit(int(sys.dont_write_bytecode))"


def test_children_write_bytecode_and_the_warm_up_start_is_not_counted(monkeypatch):
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")  # as some shells and CI images set
    result = _measure("-c", _WRITES_BYTECODE, [], runs=2)
    assert result["runs"] == 2
    assert 0.0 < result["wall_s"] <= result["wall_s_max"]
    assert result["peak_rss_mb"] > 1.0


def test_a_failing_command_is_an_error_not_a_number():
    with pytest.raises(RuntimeError, match="exited 3"):
        _measure("-c", "raise SystemExit(3)", [], runs=1, warm=False)
