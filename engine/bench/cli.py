"""Everyday cost of the command line: wall time and peak memory of whole commands.

Each command runs as its own process (as a user would start it), several times; the median
wall time and the largest peak resident set are reported. The peers run in the same way in
the same session: a bare interpreter start (the floor every command pays) and, for
``loudness``, the same measurement written directly against pyebur128 (libebur128).

The peak is the process's own ``VmHWM``, read at its exit: ``getrusage`` would also count
the pages the child shared with this (larger) process between fork and exec.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

SAMPLE_RATE_HZ = 48000
AUDIO_S = 10.0

_PYEBUR128 = """
import sys
import numpy as np, pyebur128 as eb, soundfile as sf
x, rate = sf.read(sys.argv[1], dtype="float64", always_2d=True)
mode = eb.MeasurementMode.MODE_I | eb.MeasurementMode.MODE_LRA | eb.MeasurementMode.MODE_TRUE_PEAK
st = eb.R128State(x.shape[1], rate, mode)
st.add_frames(np.ascontiguousarray(x).reshape(-1), x.shape[0])
print(eb.get_loudness_global(st), eb.get_loudness_range(st))
"""


# Runs a module or a script in a fresh interpreter and writes its VmHWM (kB) at exit.
_WRAPPER = """
import atexit, os, runpy, sys
def _peak():
    with open("/proc/self/status") as f:
        kb = next(line.split()[1] for line in f if line.startswith("VmHWM:"))
    with open(os.environ["MUSICMILL_PEAK_FILE"], "w") as out:
        out.write(kb)
atexit.register(_peak)
kind, target = sys.argv[1], sys.argv[2]
sys.argv = [target] + sys.argv[3:]
if kind == "-m":
    runpy.run_module(target, run_name="__main__", alter_sys=True)
elif kind == "-c":
    exec(compile(target, "<peer>", "exec"), {"__name__": "__main__"})
"""


def _measure(kind: str, target: str, args: list[str], runs: int,
             warm: bool = True) -> dict[str, float]:
    """Median wall time (s) and largest peak RSS (MB) of ``python KIND TARGET ARGS`` (``-m
    module`` or ``-c code``) over ``runs`` starts.

    Bytecode is written as an installed package has it (a shell that sets
    ``PYTHONDONTWRITEBYTECODE`` would otherwise have every start compile our ~100
    modules, 0.15 s here), and with ``warm`` one untimed start writes it first."""
    times, peaks = [], []
    with tempfile.TemporaryDirectory() as tmp:
        peak_file = Path(tmp) / "peak"
        env = dict(os.environ, MUSICMILL_PEAK_FILE=str(peak_file))
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for k in range(runs + int(warm)):
            start = time.perf_counter()
            done = subprocess.run([sys.executable, "-c", _WRAPPER, kind, target, *args],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, env=env, check=False)
            elapsed_s = time.perf_counter() - start
            if done.returncode != 0:
                err = done.stderr.decode(errors="replace").strip()
                raise RuntimeError(f"{target} {' '.join(args)} exited {done.returncode}: "
                                   f"{err[-300:]}")
            if k or not warm:
                times.append(elapsed_s)
                peaks.append(int(peak_file.read_text()) / 1024.0)
    return {"wall_s": statistics.median(times), "wall_s_max": max(times),
            "peak_rss_mb": max(peaks), "runs": runs}


def _test_audio(folder: Path) -> Path:
    """10 s of a beat over noise, stereo, 48 kHz: something every command has work to do on."""
    rng = np.random.default_rng(0)
    n = int(AUDIO_S * SAMPLE_RATE_HZ)
    t = np.arange(n) / SAMPLE_RATE_HZ
    beat = np.exp(-30.0 * (t % 0.5)) * np.sin(2 * np.pi * 80.0 * t)
    x = 0.3 * beat[:, None] + 0.02 * rng.standard_normal((n, 2))
    path = folder / "ten_seconds.wav"
    sf.write(path, x.astype(np.float32), SAMPLE_RATE_HZ, subtype="FLOAT")
    return path


def bench_cli(runs: int = 5, live_seconds: float = 5.0, include_run: bool = True) -> dict:
    """Time and memory of ``--help``, ``loudness``, ``render`` (10 s, default model) and
    ``run --seconds N --headless``, beside the peers."""
    result: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        audio = str(_test_audio(Path(tmp)))
        result["python_start"] = _measure("-c", "pass", [], runs)
        result["help"] = _measure("-m", "engine.cli", ["--help"], runs)
        result["loudness"] = _measure("-m", "engine.cli", ["loudness", audio], runs)
        result["pyebur128_loudness"] = _measure("-c", _PYEBUR128, [audio], runs)
        out = str(Path(tmp) / "out.wav")
        result["render"] = _measure("-m", "engine.cli", ["render", audio, out],
                                    max(1, runs // 2))
        if include_run:
            result["run"] = _measure("-m", "engine.cli",
                                     ["run", "--headless", "--seconds", str(live_seconds)], 1,
                                     warm=False)  # render's start wrote what it imports
    result["ratios"] = {
        "help_vs_python_start": result["help"]["wall_s"] / result["python_start"]["wall_s"],
        "loudness_vs_pyebur128": (result["loudness"]["wall_s"]
                                  / result["pyebur128_loudness"]["wall_s"]),
    }
    return result
