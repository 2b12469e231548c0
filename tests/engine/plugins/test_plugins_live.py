"""LV2 plugins live under JACK (128 frames, 48 kHz): chains in the callback within budget,
chains changed while audio runs, and the run command's --plugin and console commands."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf

from engine.engine import Engine
from engine.layout import ST_FRAMES
from engine.offline.render import render_array
from presets.schema import Preset

pytestmark = pytest.mark.jack

BALANCE = "http://gareus.org/oss/lv2/balance"
FIL4 = "http://gareus.org/oss/lv2/fil4#stereo"
FIL4_MONO = "http://gareus.org/oss/lv2/fil4#mono"
ZAMVERB = "urn:zamaudio:ZamVerb"
CHAINS = {"voice": [{"uri": FIL4, "bypass": False, "values": {"gain2": 6.0}}],
          "master": [{"uri": BALANCE, "bypass": False, "values": {"trim": -3.0}},
                     {"uri": FIL4_MONO, "bypass": False,
                      "values": {"HighPass": 1.0, "HPfreq": 100.0}}]}
SOAK_S = 6.0


def test_three_plugins_live_within_budget_and_equal_to_offline(start_with_clicks, tmp_path,
                                                               assert_within_budget):
    """Three LV2 instances (four runs a block: the mono EQ runs twice) across the voice and
    master slots: no callback over its CPU budget, nothing non-finite, the live output
    equal to the offline render of the recorded input; then a plugin added and removed
    while audio runs, again within budget."""
    out_path, in_path = tmp_path / "out.wav", tmp_path / "in.wav"
    engine = Engine(48000, 2, 2, None, blocksize=128)
    engine.rack.replace_all(CHAINS)
    engine.enable_recording(out_path, in_path)
    stream = start_with_clicks(engine)
    try:
        time.sleep(1.0)
        warm = engine.snapshot()
        time.sleep(SOAK_S)
        fixed_frames = int(engine.stats[ST_FRAMES])  # every frame so far ran CHAINS
        engine.rack.add("master", BALANCE, {"trim": 2.0})
        time.sleep(1.0)
        engine.rack.remove("master", 3)
        engine.rack.move("master", 2, 1)
        time.sleep(1.0)
        snap = stream.snapshot()
    finally:
        stream.stop()
    final = engine.snapshot()
    engine.close_plugins()
    assert_within_budget(warm, final, SOAK_S + 2)
    assert snap["late_blocks"] - warm["late_blocks"] <= SOAK_S + 2
    assert final["nonfinite_replaced"] == 0
    assert final["plugins"]["nonfinite_blocks"] == 0
    assert final["callback_p99_ms"] < 0.5 * final["block_budget_ms"]

    y, _ = sf.read(out_path, dtype="float32", always_2d=True)
    x, _ = sf.read(in_path, dtype="float32", always_2d=True)
    assert np.abs(x).max() > 0.1  # the clicks arrived
    expected, _ = render_array(x[:fixed_frames], 48000, None, 128, "none",
                               Preset(name="chains", plugins=CHAINS))
    np.testing.assert_allclose(y[:fixed_frames], expected, atol=1e-6)


def test_run_takes_plugins_and_console_commands(jack_server, tmp_path):
    stats_path = tmp_path / "stats.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "run", "--headless", "--seconds", "10",
         "--insert", "none", "--plugin", f"voice:{FIL4}", "--plugin", f"master:{BALANCE}",
         "--stats-json", str(stats_path), "--jack-name", "mm-plugins"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120  # a cold Numba cache compiles the callback first
    while not stats_path.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert stats_path.exists(), proc.poll()
    for line in (f"plugin add master {FIL4_MONO}", "plugin bypass master 1 on",
                 "set fx_master2_HPfreq 5000", f"plugin add master {ZAMVERB}",
                 "plugin add rack x", "plugin remove voice 1", "plugins"):
        proc.stdin.write(line + "\n")
    proc.stdin.flush()
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err
    answers = out.splitlines()
    assert answers[0].startswith("master 2: " + FIL4_MONO)
    assert answers[1] == "fx_master1_bypass = 1"
    assert answers[2] == "fx_master2_HPfreq = 1250 Hz"  # clamped to the port's range
    assert answers[3].startswith("error: ") and "worker slot" in answers[3]
    assert answers[4].startswith("error: unknown plugin slot 'rack'")
    assert answers[5] == f"voice 1: {FIL4} removed"
    assert answers[6] == f"master 1: {BALANCE} (bypassed); master 2: {FIL4_MONO}"
    stats = json.loads(stats_path.read_text())
    assert stats["plugins"]["faulted_plugins"] == 0
    assert stats["latency"]["plugin_frames"] == {"voice": 0, "worker": 0, "master": 0}
