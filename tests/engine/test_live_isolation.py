"""Live, under JACK: silence in is silence out through a start and a model swap, and the
tests' server never meets another JACK server running on the machine."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine import jack

SILENT = 10 ** (-80 / 20)  # -80 dBFS
DRUMS = Path(__file__).resolve().parents[2] / "models/drum_ae/drums.ts"


def test_silence_in_is_silence_out_live_through_a_start_and_a_model_swap(jack_server, tmp_path):
    """The JACK dummy driver's capture ports are digital silence: `musicmill run` with the
    default preset and the shipped drum model, then a fresh drum model swapped in while it
    plays (a user's RAVE export swapped in: tests/engine/offline/test_silence.py); the
    recorded output never rises above -80 dBFS."""
    take, stats = tmp_path / "take.wav", tmp_path / "stats.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "run", "--headless", "--seconds", "8",
         "--record", str(take), "--stats-json", str(stats)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 90  # a cold Numba cache compiles the callback first
    while not stats.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert stats.exists(), proc.poll()
    time.sleep(1.0)
    proc.stdin.write(f"model {DRUMS}\n")
    proc.stdin.flush()
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err
    assert out.splitlines()[0].startswith(f"playing {DRUMS.name}"), out
    y, sr = sf.read(take, dtype="float32")
    assert sr == 48000 and len(y) > 5 * sr  # the whole run, the swap included
    assert np.abs(y).max() <= SILENT, 20 * np.log10(np.abs(y).max())


@pytest.fixture
def another_server(monkeypatch):
    """A JACK server under the default name (as a performer's own would run), started for
    the test unless one is running already; the environment keeps pointing at ours."""
    ours = os.environ["JACK_DEFAULT_SERVER"]
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "default")
    proc = None if jack.server_running() else jack.start_dummy(48000, 256)
    monkeypatch.setenv("JACK_DEFAULT_SERVER", ours)
    yield "default"
    if proc is not None:
        monkeypatch.setattr(jack, "release_portaudio", lambda: None)  # not ours to close
        jack.stop_server(proc)


def _ports(server: str) -> list[str]:
    env = {**os.environ, "JACK_DEFAULT_SERVER": server, "JACK_NO_START_SERVER": "1"}
    done = subprocess.run(["jack_lsp"], capture_output=True, text=True, env=env, timeout=10)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_a_run_meets_only_its_own_server_when_another_is_running(jack_server, another_server,
                                                                  tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "run", "--headless", "--seconds", "20",
         "--insert", "none", "--jack-name", "mm_isolated"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while "mm_isolated:out_0" not in _ports(os.environ["JACK_DEFAULT_SERVER"]):
            assert proc.poll() is None and time.monotonic() < deadline, proc.poll()
            time.sleep(0.2)
        theirs = _ports(another_server)
        assert not any(p.startswith("mm_isolated:") for p in theirs), theirs
        assert "system:playback_1" in theirs  # it is up, and untouched by us
    finally:
        proc.terminate()
        proc.wait(timeout=30)
