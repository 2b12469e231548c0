"""Shared fixtures: every preset test gets its own empty data folder."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    """Point MUSICMILL_DATA_DIR at a fresh folder, so no test touches the real user data."""
    path = tmp_path / "data"
    monkeypatch.setenv("MUSICMILL_DATA_DIR", str(path))
    return path
