"""``musicmill bench plugins``: what hosting LV2 plugins in our callback costs, against the
same plugins timed by ``lv2bench`` (lilv's own C benchmark, package ``lilv-utils``).

Offline: a chain in the master slot, run by the rack kernel exactly as the callback runs
it (control grid: two 64-frame runs per 128-frame block, control cells filled, output atom
sequences reset, outputs checked finite), timed over many blocks of silence (lv2bench feeds
silence too); lv2bench times each plugin's ``run`` at 128 and at 64 frames. The ratio is
our time per block over the sum of lv2bench's.

Live: the chain in the voice and master slots of an engine under JACK at 128 frames for a
few seconds: blocks over budget and the callback's time.
"""

from __future__ import annotations

import shutil
import subprocess
import time

import numpy as np
from numba import njit

from engine import jack
from engine.engine import Engine
from engine.layout import C_ATOM_CHUNK, C_RACK_BANK, CONTROL_FRAMES, HIST_BIN_NS, STATS_LEN
from engine.plugins import rack_kernel as rk

BALANCE = "http://gareus.org/oss/lv2/balance"
FIL4 = "http://gareus.org/oss/lv2/fil4#stereo"
DEFAULT_CHAIN = (BALANCE, FIL4, "http://gareus.org/oss/lv2/fil4#mono")
BLOCK_FRAMES = 128


@njit(nogil=True, cache=True)
def _run_blocks(banks, bank, x, p, stats, chunk, blocks):
    for _ in range(blocks):
        for _run in range(BLOCK_FRAMES // CONTROL_FRAMES):
            rk.run_slot(banks, bank, rk.SLOT_MASTER, x, CONTROL_FRAMES, p, stats, chunk)


def ours_per_block_us(chain: tuple[str, ...], blocks: int, rounds: int = 5) -> float:
    """Median over ``rounds`` of our time per 128-frame block for ``chain`` (µs)."""
    engine = Engine(48000, 2, 2, None)
    try:
        for uri in chain:
            engine.rack.add("master", uri)
        x = np.zeros((2, CONTROL_FRAMES), np.float32)
        stats = np.zeros(STATS_LEN, np.int64)
        bank = int(engine.config[C_RACK_BANK])
        chunk = int(engine.config[C_ATOM_CHUNK])
        p = engine.params.current
        _run_blocks(engine.rack.banks, bank, x, p, stats, chunk, 10)  # compiled, warm
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            _run_blocks(engine.rack.banks, bank, x, p, stats, chunk, blocks)
            times.append((time.perf_counter() - t0) / blocks * 1e6)
        return float(np.median(times))
    finally:
        engine.close_plugins()


def lv2bench_per_block_us(uri: str, block_frames: int, blocks: int, rounds: int = 5) -> float:
    """Median over ``rounds`` of lv2bench's time per ``block_frames`` run of ``uri`` (µs),
    scaled to a 128-frame block."""
    if shutil.which("lv2bench") is None:
        raise RuntimeError("lv2bench is not installed (apt-get install lilv-utils)")
    frames = blocks * BLOCK_FRAMES
    times = []
    for _ in range(rounds):
        out = subprocess.run(["lv2bench", "-n", str(frames), "-b", str(block_frames), uri],
                             capture_output=True, text=True, check=True).stdout
        line = next(ln for ln in out.splitlines() if ln.strip().endswith(uri))
        times.append(float(line.split()[0]) / blocks * 1e6)
    return float(np.median(times))


def live_chain(seconds: float) -> dict:
    """Three plugins across the voice and master slots, live under JACK at 128 frames."""
    from engine.stream import LiveStream

    engine = Engine(48000, 2, 2, None, blocksize=BLOCK_FRAMES)
    with jack.dummy_server(48000, BLOCK_FRAMES):
        try:
            engine.rack.add("voice", FIL4)
            engine.rack.add("master", BALANCE)
            engine.rack.add("master", FIL4)
            stream = LiveStream(engine)
            stream.start()
            try:
                time.sleep(1.0)
                warm, warm_hist = engine.snapshot(), engine.hist.copy()
                time.sleep(seconds)
                final, hist = stream.snapshot(), engine.hist - warm_hist
            finally:
                stream.stop()
        finally:
            engine.close_plugins()
    return {"seconds": seconds, "blocks": final["blocks"] - warm["blocks"],
            "over_budget_blocks": final["over_budget_blocks"] - warm["over_budget_blocks"],
            "over_budget_cpu_blocks": final["over_budget_cpu_blocks"]
            - warm["over_budget_cpu_blocks"],
            "late_blocks": final["late_blocks"] - warm["late_blocks"],
            # after the warm-up second (the histogram's highest bin since): the first
            # blocks of a stream pay page faults and cold caches once
            "callback_max_ms": (int(np.flatnonzero(hist)[-1]) + 1) * HIST_BIN_NS / 1e6
            if hist.any() else 0.0,
            "callback_max_ms_with_start": final["callback_max_ms"],
            "callback_cpu_max_ms": final["callback_cpu_max_ms"],
            "callback_p99_ms": final["callback_p99_ms"],
            "block_budget_ms": final["block_budget_ms"],
            "plugin_faults": final["plugins"]["nonfinite_blocks"]}


def _mono(uri: str) -> bool:
    from engine.plugins import catalog

    info = catalog.find(uri)
    return len(info.audio(True)) == 1 and len(info.audio(False)) == 1


def bench_plugins(chain: tuple[str, ...] = DEFAULT_CHAIN, blocks: int = 20000,
                  live_seconds: float = 10.0) -> dict:
    ours = ours_per_block_us(chain, blocks)
    # a plugin with one audio input and one output runs as two instances on our stereo
    # slots (left, right); lv2bench runs one, so its time counts once per instance
    instances = {uri: 2 if _mono(uri) else 1 for uri in chain}
    peer128 = {uri: instances[uri] * lv2bench_per_block_us(uri, 128, blocks) for uri in chain}
    peer64 = {uri: instances[uri] * lv2bench_per_block_us(uri, 64, blocks) for uri in chain}
    out = {"chain": list(chain), "block_frames": BLOCK_FRAMES, "blocks": blocks,
           "ours_us_per_block": ours,
           "lv2bench_us_per_block": sum(peer128.values()),
           "lv2bench_64_us_per_block": sum(peer64.values()),
           "lv2bench_by_plugin_us": peer128, "instances": instances,
           "ratio": ours / sum(peer128.values()),
           "ratio_vs_64_frame_runs": ours / sum(peer64.values())}
    if live_seconds > 0:
        out["live"] = live_chain(live_seconds)
    return out
