"""Real-time tests against a JACK server (the dummy driver is clocked like a card)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf

from engine.engine import Engine
from engine.render import render_array
from engine.stream import LiveStream
from engine.worker import BusyPassThrough, PassThrough

pytestmark = pytest.mark.jack

SOAK_S = float(os.environ.get("MUSICMILL_SOAK_S", "20"))
WARMUP_S = 1.0


def _ports() -> set[str]:
    out = subprocess.run(["jack_lsp"], capture_output=True, text=True, check=True).stdout
    return {line.strip() for line in out.splitlines() if line.strip()}


def _wait_for_port(name: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while name not in _ports():
        if time.monotonic() > deadline:
            raise TimeoutError(f"JACK port {name} did not appear")
        time.sleep(0.1)


@pytest.fixture
def metronome(jack_server):
    """A JACK client playing clicks: a known, non-silent signal for our input."""
    name = f"mm_metro_{os.getpid()}"
    proc = subprocess.Popen(["jack_metro", "-n", name, "-b", "300", "-f", "880", "-D", "30"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port = f"{name}:300_bpm"
    _wait_for_port(port)
    yield port
    proc.terminate()
    proc.wait(timeout=10)


def test_soak_no_late_blocks_no_underruns_and_every_sample_recorded(metronome, tmp_path):
    out_path, in_path = tmp_path / "out.wav", tmp_path / "in.wav"
    # the worker burns 1 ms of torch per 256-frame block: a model-like load
    engine = Engine(48000, 2, 2, BusyPassThrough(256, busy_ms=1.0), blocksize=128,
                    params={"stem_dry_gain_db": -6.0})
    engine.enable_recording(out_path, in_path)
    before = _ports()
    stream = LiveStream(engine)
    stream.start()
    try:
        ours = sorted(p for p in _ports() - before if ":in_" in p)
        assert len(ours) == 2, ours
        for port in ours:
            subprocess.run(["jack_connect", metronome, port], check=True)
        time.sleep(WARMUP_S)
        warm = engine.snapshot()
        time.sleep(SOAK_S)
        snap = stream.snapshot()
    finally:
        stream.stop()
    final = engine.snapshot()

    assert snap["blocks"] - warm["blocks"] >= 0.9 * SOAK_S * 48000 / 128
    assert snap["late_blocks"] - warm["late_blocks"] == 0
    assert snap["worker_underruns"] - warm["worker_underruns"] == 0
    assert final["send_dropped_frames"] == 0
    assert final["callback_max_ms"] < final["block_budget_ms"]
    assert final["nonfinite_replaced"] == 0

    # every processed frame is in both recordings
    assert final["record_dropped_frames"] == 0
    y, _ = sf.read(out_path, dtype="float32", always_2d=True)
    x, _ = sf.read(in_path, dtype="float32", always_2d=True)
    assert y.shape[0] == x.shape[0] == final["frames"]
    assert np.abs(x).max() > 0.1  # the clicks did arrive
    # and the live output is exactly what the offline renderer makes of the same input
    expected, _ = render_array(x, 48000, {"stem_dry_gain_db": -6.0}, insert="passthrough")
    np.testing.assert_allclose(y, expected, atol=1e-6)


def test_run_command_writes_stats_json(jack_server, tmp_path):
    stats_path = tmp_path / "stats.json"
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", "run", "--headless", "--seconds", "3",
         "--insert", "passthrough", "--stats-json", str(stats_path)],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(stats_path.read_text())
    for key in ("blocks", "late_blocks", "callback_max_ms", "callback_p99_ms", "block_budget_ms",
                "worker_underruns", "cpu_load", "latency", "late_blocks_after_warmup"):
        assert key in stats, key
    assert stats["blocks"] >= 0.8 * 3 * 48000 / 128
    assert stats["latency"]["worker_ring_frames"] == 512
    assert stats["callback_max_ms"] > 0
    summary = json.loads(proc.stdout)
    assert summary["blocks"] == stats["blocks"]


def test_a_killed_recording_is_still_a_valid_file(jack_server, tmp_path):
    rec = tmp_path / "take.wav"
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "run", "--headless", "--seconds", "60",
         "--insert", "none", "--record", str(rec)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while (not rec.exists() or sf.info(rec).frames < 48000) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    info = sf.info(rec)
    data, rate = sf.read(rec, dtype="float32")
    assert rate == 48000 and info.channels == 2
    # the header was kept current: at least the two seconds we waited for are there
    assert data.shape[0] >= 2 * 48000 * 0.9
    assert data.shape[0] == info.frames


def test_passthrough_worker_keeps_up_live(jack_server):
    engine = Engine(48000, 2, 2, PassThrough(256), blocksize=128)
    with LiveStream(engine):
        time.sleep(2.0)
    snap = engine.snapshot()
    assert snap["worker_underruns"] == 0
    assert snap["worker"]["blocks"] >= 0.8 * 2 * 48000 / 256
