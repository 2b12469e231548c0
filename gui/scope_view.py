"""The Scope tab: the output's (and the input's) waveform and spectrum.

The callback copies the output and the raw input into the scope ring while the window is
open (``Engine.enable_scope``); ten times a second this view drains it into the last
``WINDOW_FRAMES`` frames it keeps, draws the newest ``SCOPE_FRAMES`` as waveforms
(decimated to ``SCOPE_POINTS`` points, peak-preserving) and a Hann-windowed spectrum of
the window in dBFS over a log frequency axis. The callback never waits for any of it: a
full ring drops frames.
"""

from __future__ import annotations

import dearpygui.dearpygui as dpg
import numpy as np

from gui.controller import Controller

WINDOW_FRAMES = 4096
SCOPE_FRAMES = 2048
SCOPE_POINTS = 512
FLOOR_DB = -100.0


def decimate_peaks(x: np.ndarray, points: int) -> np.ndarray:
    """``x`` cut into ``points`` runs, each shown by its sample of largest magnitude (a
    click or a transient stays visible however far the trace is decimated)."""
    runs = x[: len(x) // points * points].reshape(points, -1)
    return runs[np.arange(points), np.abs(runs).argmax(axis=1)]


def spectrum_db(x: np.ndarray, sample_rate_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies (Hz, DC left out) and levels (dBFS of a full-scale sine, floored)."""
    window = np.hanning(len(x))
    mag = np.abs(np.fft.rfft(x * window)) * 2.0 / window.sum()
    freqs = np.fft.rfftfreq(len(x), 1.0 / sample_rate_hz)
    return freqs[1:], np.maximum(FLOOR_DB, 20.0 * np.log10(np.maximum(mag[1:], 1e-12)))


class ScopeView:
    """Builds the Scope tab and keeps the last frames of the scope ring."""

    def __init__(self, controller: Controller) -> None:
        self.c = controller
        self.frames = np.zeros((4, WINDOW_FRAMES), dtype=np.float32)

    def build(self) -> None:
        t_ms = 1e3 * np.arange(SCOPE_POINTS) * (SCOPE_FRAMES / SCOPE_POINTS) \
            / self.c.sample_rate_hz
        with dpg.plot(label="waveform", height=220, width=-1, tag="scope:wave_plot"):
            dpg.add_plot_legend()
            dpg.add_plot_axis(dpg.mvXAxis, label="ms")
            with dpg.plot_axis(dpg.mvYAxis, tag="scope:wave_y"):
                dpg.set_axis_limits("scope:wave_y", -1.0, 1.0)
                for tag, label in (("scope:out", "output"), ("scope:in", "input")):
                    dpg.add_line_series(list(t_ms), [0.0] * SCOPE_POINTS, label=label,
                                        tag=tag)
        with dpg.plot(label="spectrum", height=220, width=-1, tag="scope:spec_plot"):
            dpg.add_plot_legend()
            dpg.add_plot_axis(dpg.mvXAxis, label="Hz", scale=dpg.mvPlotScale_Log10,
                              tag="scope:spec_x")
            with dpg.plot_axis(dpg.mvYAxis, label="dBFS", tag="scope:spec_y"):
                dpg.set_axis_limits("scope:spec_y", FLOOR_DB, 0.0)
                for tag, label in (("scope:out_spec", "output"), ("scope:in_spec", "input")):
                    dpg.add_line_series([20.0, 20000.0], [FLOOR_DB, FLOOR_DB], label=label,
                                        tag=tag)

    def take(self) -> int:
        """Drain the scope ring into the kept window; returns frames taken."""
        new = self.c.read_scope()
        k = new.shape[1]
        if k >= WINDOW_FRAMES:
            self.frames[:] = new[:, -WINDOW_FRAMES:]
        elif k:
            self.frames = np.concatenate([self.frames[:, k:], new], axis=1)
        return k

    def refresh(self) -> None:
        self.take()
        rate = self.c.sample_rate_hz
        t_ms = list(1e3 * np.arange(SCOPE_POINTS) * (SCOPE_FRAMES / SCOPE_POINTS) / rate)
        out = 0.5 * (self.frames[0] + self.frames[1])
        inp = 0.5 * (self.frames[2] + self.frames[3])
        for tag, x in (("scope:out", out), ("scope:in", inp)):
            dpg.set_value(tag, [t_ms, list(decimate_peaks(x[-SCOPE_FRAMES:], SCOPE_POINTS))])
        for tag, x in (("scope:out_spec", out), ("scope:in_spec", inp)):
            freqs, db = spectrum_db(x, rate)
            dpg.set_value(tag, [list(freqs), list(db)])
