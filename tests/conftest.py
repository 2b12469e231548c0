"""Shared fixtures: a JACK dummy server for the real-time tests."""

from __future__ import annotations

import warnings

import numba
import pytest

from engine import jack


@pytest.fixture(scope="session")
def jack_server():
    """A running JACK server (48 kHz, 128 frames): reuse one, or start the dummy driver."""
    if jack.server_running():
        yield None
        return
    try:
        proc = jack.start_dummy(48000, 128)
    except RuntimeError as exc:
        pytest.fail(f"real-time tests need JACK: {exc}")
    jack.rescan_portaudio()
    yield proc
    jack.stop_server(proc)


@pytest.fixture
def assert_no_nrt_alloc():
    """A checker: fail if a jitted function (callees included) can allocate through NRT.

    inspect_llvm() returns an empty module for code loaded from numba's on-disk cache, so
    the check also runs on a fresh, uncached compile whose IR includes every jitted callee.
    """

    def check(fn, *args) -> None:
        fn(*args)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Inspection disabled for cached code"
            assert "NRT_MemInfo_alloc" not in fn.inspect_llvm(fn.signatures[0])
        fresh = numba.njit(nogil=True)(fn.py_func)
        fresh(*args)
        ir = fresh.inspect_llvm(fresh.signatures[0])
        assert "define" in ir
        assert "NRT_MemInfo_alloc" not in ir

    return check
