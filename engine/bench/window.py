"""``musicmill bench window``: what the window costs and whether the audio keeps time while
it is worked.

A child ``musicmill run`` (the shipped drum model on the worker, the window on the main
thread) plays for a set time under JACK; "worked" means a hand on the mouse from the moment
the window is on screen: the pointer circling over the window, the XY pad dragged around
and a stage fader dragged up and down, over and over (XTest events, which the window cannot
tell from a real mouse). The run's own stats give the real-time counters, the window's
frame rate and the CPU its drawing took (its thread and the software renderer's).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from engine.bench.xmouse import XMouse, write_png

PAD_RGB = (30, 34, 44)  # the XY pad's fill, as gui/xy_pad.py draws it (PAD_FILL)
PAD_MIN_PX = 100  # a region of that colour at least this wide and tall is the pad
FADER_PITCH_PX = 66  # stage faders are 58 px wide, 8 apart; the last one ends 8 px before
FADER_HEIGHT_PX = 170  # ... the pad, with its top level with the pad's (gui/stage_macros.py)
MOVE_PERIOD_S = 0.016  # a pointer event about every frame of a 60 Hz mouse
WINDOW_WAIT_S = 120.0  # start-up (imports, the model, the window) on a loaded machine
# where a window with no remembered settings opens (gui/view_settings.py): left, top, w, h
WINDOW_RECT = (40, 40, 1180, 780)


def find_pad(rgb: np.ndarray) -> tuple[int, int, int, int] | None:
    """The XY pad's rectangle on screen ``(left, top, right, bottom)``, or None."""
    mask = np.all(rgb == np.array(PAD_RGB, np.uint8), axis=2)
    rows, cols = np.flatnonzero(mask.sum(axis=1) >= PAD_MIN_PX), np.flatnonzero(
        mask.sum(axis=0) >= PAD_MIN_PX)
    if rows.size == 0 or cols.size == 0:
        return None
    left, top, right, bottom = int(cols[0]), int(rows[0]), int(cols[-1]), int(rows[-1])
    if right - left < PAD_MIN_PX or bottom - top < PAD_MIN_PX:
        return None
    return left, top, right, bottom


class Hand:
    """Works the window on ``display`` from a thread until ``stop`` is set."""

    def __init__(self, display: str, stop: threading.Event, screenshot: Path | None = None
                 ) -> None:
        """``screenshot``: a PNG of the window written after the first round of gestures."""
        self.display, self.stop, self.screenshot = display, stop, screenshot
        self.pad: tuple[int, int, int, int] | None = None
        self.drags = 0
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name="bench-hand", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self) -> None:
        self._thread.join(timeout=10.0)

    def _run(self) -> None:
        mouse = XMouse(self.display)
        try:
            self._wait_for_pad(mouse)
            while self.pad is not None and not self.stop.is_set():
                self._gestures(mouse, *self.pad)
                if self.screenshot is not None and not self.stop.is_set():
                    left, top, w, h = WINDOW_RECT
                    write_png(self.screenshot, mouse.screenshot()[top: top + h, left: left + w])
                    self.screenshot = None
        except Exception as exc:  # noqa: BLE001 -- reported in the result, not a crash
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            mouse.press(False)
            mouse.close()

    def _wait_for_pad(self, mouse: XMouse) -> None:
        deadline = time.monotonic() + WINDOW_WAIT_S
        while not self.stop.is_set() and time.monotonic() < deadline:
            self.pad = find_pad(mouse.screenshot())
            if self.pad is not None:
                return
            time.sleep(0.05)

    def _gestures(self, mouse: XMouse, left: int, top: int, right: int, bottom: int) -> None:
        cx, cy, r = (left + right) / 2, (top + bottom) / 2, (right - left) * 0.4
        # the pointer circling over the window (hovering sliders, the pad, the tabs)
        self._trace(mouse, lambda t: (cx - 200 + 300 * math.cos(t), cy + 150 * math.sin(t)),
                    1.5)
        # the pad dragged round: both of its parameters move
        mouse.move(cx + r, cy)
        mouse.press(True)
        self._trace(mouse, lambda t: (cx + r * math.cos(t), cy + r * math.sin(2 * t)), 2.0)
        mouse.press(False)
        # the stage fader beside the pad dragged down and up
        fx = left - FADER_PITCH_PX / 2 - 4  # the middle of the last fader, 8 px + 58 px left
        span = FADER_HEIGHT_PX - 20
        mouse.move(fx, top + 10)
        mouse.press(True)
        self._trace(mouse, lambda t: (fx, top + 10 + span * (1 - math.cos(t)) / 2), 1.5)
        mouse.press(False)
        self.drags += 2

    def _trace(self, mouse: XMouse, path, seconds: float) -> None:
        """Move along ``path(phase)`` (one turn per second) for ``seconds``."""
        t0 = time.monotonic()
        while not self.stop.is_set() and (t := time.monotonic() - t0) < seconds:
            mouse.move(*path(2 * math.pi * t))
            time.sleep(MOVE_PERIOD_S)


class _Clicks:
    """For the screenshot: ``jack_metro`` clicks (the beatbox trigger hears them as hits)
    into the run's inputs once its ports are up, so the meters and drum lights show."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.name = f"mm_shot_{os.getpid()}"
        self.proc = subprocess.Popen(["jack_metro", "-n", self.name, "-b", "240", "-f", "220",
                                      "-D", "40"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self._thread = threading.Thread(target=self._connect, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _connect(self) -> None:
        from engine import jack

        ours = [f"musicmill:in_{k}" for k in range(2)]
        while not self.stop.is_set() and not set(ours) <= jack.connections().keys():
            time.sleep(0.2)
        for port in ours:
            subprocess.run(["jack_connect", f"{self.name}:240_bpm", port], capture_output=True)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self._thread.join(timeout=5)


def window_run(seconds: float, worked: bool, display: str, out_dir: Path,
               screenshot: Path | None = None) -> dict:
    """One ``musicmill run`` of ``seconds`` with its window on ``display`` (the JACK server
    the environment names), worked or not: its stats, plus what the hand did (and, worked,
    a PNG of the window at ``screenshot``)."""
    stats_path = out_dir / ("worked.json" if worked else "untouched.json")
    data_dir = out_dir / ("data-worked" if worked else "data-untouched")
    # a fresh data folder: the window opens at its default size and place, so the hand
    # finds it whole on the screen, and no remembered setting of the user's is changed
    env = {**os.environ, "DISPLAY": display, "MUSICMILL_DATA_DIR": str(data_dir)}
    stop = threading.Event()
    hand = Hand(display, stop, screenshot) if worked else None
    # clicks need jack_metro (jackd2's example clients); without it the picture is silent
    clicks = (_Clicks(stop) if screenshot is not None and worked and shutil.which("jack_metro")
              else None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "run", "--seconds", f"{seconds:g}",
         "--stats-json", str(stats_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    if hand is not None:
        hand.start()
    if clicks is not None:
        clicks.start()
    try:
        _, err = proc.communicate(timeout=seconds + 300)
    finally:
        stop.set()
        if hand is not None:
            hand.join()
        if clicks is not None:
            clicks.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"`musicmill run` exited {proc.returncode}: {err.strip()[-500:]}")
    stats = json.loads(stats_path.read_text())
    if hand is not None:
        stats["hand"] = {"pad": hand.pad, "drags": hand.drags, "error": hand.error}
    return stats


def summary(stats: dict) -> dict:
    """The figures the benchmark reports from one run's stats."""
    gui = stats.get("gui", {})
    return {"frames_per_s": gui.get("frames_per_s"), "cpu_fraction": gui.get("cpu_fraction"),
            "busy_fraction": gui.get("busy_fraction"), "blocks": stats["blocks"],
            "over_budget_cpu_blocks": stats["over_budget_cpu_blocks"],
            "over_budget_blocks": stats["over_budget_blocks"],
            "late_blocks": stats["late_blocks"],
            "worker_underruns": stats["worker_underruns"],
            "written": gui.get("written", []), "hand": stats.get("hand")}


def bench_window(seconds: float = 14.0, screenshot: Path | None = None) -> dict:
    """An untouched and a worked run on ``$DISPLAY`` under JACK at 128 frames / 48 kHz (the
    running server, else a dummy one of ours); ``screenshot``: a PNG of the worked window
    (the screen must hold the whole window: 1220 x 820 pixels or more)."""
    from engine import jack

    display = os.environ.get("DISPLAY")
    if not display:
        raise RuntimeError("no display: set DISPLAY (e.g. start `Xvfb :77` and DISPLAY=:77)")
    with jack.dummy_server(48000, 128), tempfile.TemporaryDirectory() as tmp:
        return {"seconds": seconds, "display": display,
                "untouched": summary(window_run(seconds, False, display, Path(tmp))),
                "worked": summary(window_run(seconds, True, display, Path(tmp), screenshot))}
