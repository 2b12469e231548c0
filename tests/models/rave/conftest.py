"""Shared RAVE fixtures: the genuine acids-rave 2.3.1 tiny exports in ../shared."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch

from models.rave.loader import RaveModel, load_rave

FIXTURES = Path(__file__).resolve().parents[3].parent / "shared/fixtures/rave"


def fixture_path(name: str) -> Path:
    """Path of a fixture export; fails (not skips) when shared/ is missing."""
    path = FIXTURES / name
    if not path.is_file():
        pytest.fail(f"RAVE fixture {path} missing: clone the shared/ fixtures beside the repo")
    return path


@pytest.fixture(autouse=True)
def _one_thread():
    # The engine's worker runs torch on one thread; the tests time and compare the same way.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def streaming() -> RaveModel:
    return load_rave(fixture_path("rave_v2_tiny_streaming.ts"))


@pytest.fixture(scope="session")
def causal() -> RaveModel:
    return load_rave(fixture_path("rave_v2_tiny_causal_streaming.ts"))


@pytest.fixture(scope="session")
def plain() -> RaveModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_rave(fixture_path("rave_v2_tiny.ts"))
