"""RAVE fixtures: genuine acids-rave 2.3.1 tiny exports, carried in tests/fixtures/rave."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch

from models.rave.loader import RaveModel, load_rave

# The three tiny v2 exports acids-rave made, and the others make_fixtures.py there made.
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures/rave"
V1 = "rave_v1_tiny_streaming.ts"
STEREO = "rave_v2_tiny_stereo_streaming.ts"
V2_SMALL = "rave_v2_small_tiny_streaming.ts"
DISCRETE = "rave_discrete_tiny_streaming.ts"


def fixture_path(name: str) -> Path:
    """Path of a fixture export; fails (not skips) when it is missing."""
    path = FIXTURES / name
    if not path.is_file():
        pytest.fail(f"RAVE fixture {path} missing")
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


@pytest.fixture(scope="session")
def v1() -> RaveModel:
    return load_rave(fixture_path(V1))


@pytest.fixture(scope="session")
def stereo() -> RaveModel:
    return load_rave(fixture_path(STEREO))


@pytest.fixture(scope="session")
def v2_small() -> RaveModel:
    return load_rave(fixture_path(V2_SMALL))


@pytest.fixture(scope="session")
def discrete() -> RaveModel:
    return load_rave(fixture_path(DISCRETE))
