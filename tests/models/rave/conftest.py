"""Shared RAVE fixtures: the genuine acids-rave 2.3.1 tiny exports in ../shared."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch

from models.rave.loader import RaveModel, load_rave

FIXTURES = Path(__file__).resolve().parents[3].parent / "shared/fixtures/rave"
# Small exports kept in the repository (tests/fixtures/rave/make_fixtures.py made them).
LOCAL_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures/rave"
V1 = "rave_v1_tiny_streaming.ts"
STEREO = "rave_v2_tiny_stereo_streaming.ts"
V2_SMALL = "rave_v2_small_tiny_streaming.ts"
DISCRETE = "rave_discrete_tiny_streaming.ts"


def fixture_path(name: str) -> Path:
    """Path of a fixture export, from the repository or else shared/; fails (not skips)
    when it is in neither."""
    local = LOCAL_FIXTURES / name
    if local.is_file():
        return local
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
