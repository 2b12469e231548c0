"""Shared fixtures: a JACK dummy server for the real-time tests."""

from __future__ import annotations

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
    proc.terminate()
    proc.wait(timeout=10)
