"""MIDI clock: tempo from incoming 24 ppqn ticks, tap tempo, and a clock sender.

Tempo estimation fits a straight line (least squares) to the arrival times of the last
``window_ticks`` ticks against their tick numbers: the slope is the tick period. Arrival
jitter (USB frames, JACK periods, thread wake-ups) is zero-mean around that line, so the
fit averages it out where a last-interval estimate would swing by the full jitter.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

PPQN = 24  # MIDI clock ticks per quarter note
CLOCK, START, CONTINUE, STOP = 0xF8, 0xFA, 0xFB, 0xFC
MIN_BPM, MAX_BPM = 40.0, 200.0


def clamp_bpm(bpm: float, lo: float = MIN_BPM, hi: float = MAX_BPM) -> float:
    """``bpm`` limited to [lo, hi] (beats per minute)."""
    return min(max(bpm, lo), hi)


def fit_period(times_s: Sequence[float]) -> float | None:
    """Least-squares slope of ``times_s`` against 0, 1, 2 ...: the mean period in seconds.

    None with fewer than two points or a non-increasing fit.
    """
    n = len(times_s)
    if n < 2:
        return None
    mean_i = (n - 1) / 2.0
    mean_t = sum(times_s) / n
    num = sum((i - mean_i) * (t - mean_t) for i, t in enumerate(times_s))
    den = n * (n * n - 1) / 12.0  # sum of (i - mean_i)**2 in closed form
    slope = num / den
    return slope if slope > 0.0 else None


class ClockIn:
    """Follows an external MIDI clock (feed it 0xF8/0xFA/0xFB/0xFC with arrival times).

    ``bpm`` is None until ``min_ticks`` ticks arrived since the last reset, and is then
    clamped to [min_bpm, max_bpm]. A gap longer than ``gap_s`` (the clock stopped or the
    cable was pulled) restarts the fit, so an old tempo does not bias the new one.
    """

    def __init__(self, window_ticks: int = 48, min_ticks: int = 12, gap_s: float = 0.25,
                 min_bpm: float = MIN_BPM, max_bpm: float = MAX_BPM,
                 on_transport: Callable[[str], None] | None = None) -> None:
        if window_ticks < 2 or min_ticks < 2:
            raise ValueError("window_ticks and min_ticks must be at least 2")
        self.min_ticks = min_ticks
        self.gap_ns = int(gap_s * 1e9)
        self.min_bpm, self.max_bpm = min_bpm, max_bpm
        self.on_transport = on_transport
        self._times: deque[int] = deque(maxlen=window_ticks)
        self.running = False
        self.position_ticks = 0  # ticks since the last Start (song position)

    def feed(self, status: int, t_ns: int) -> None:
        """One system real-time byte that arrived at ``t_ns`` (perf_counter_ns)."""
        if status == CLOCK:
            self.tick(t_ns)
        elif status == START:
            self.running = True
            self.position_ticks = 0
            self._transport("start")
        elif status == CONTINUE:
            self.running = True
            self._transport("continue")
        elif status == STOP:
            self.running = False
            self._transport("stop")

    def tick(self, t_ns: int) -> None:
        """A clock tick at ``t_ns`` (nanoseconds, any monotonic origin)."""
        times = self._times
        if times and t_ns - times[-1] > self.gap_ns:
            times.clear()
        times.append(t_ns)
        if self.running:
            self.position_ticks += 1

    @property
    def bpm(self) -> float | None:
        """Tempo in beats per minute, or None while there are too few ticks."""
        times = list(self._times)  # a copy: the MIDI thread appends concurrently
        if len(times) < self.min_ticks:
            return None
        t0 = times[0]
        period_s = fit_period([(t - t0) * 1e-9 for t in times])
        if period_s is None:
            return None
        return clamp_bpm(60.0 / (period_s * PPQN), self.min_bpm, self.max_bpm)

    def reset(self) -> None:
        """Forget the ticks seen so far."""
        self._times.clear()

    def _transport(self, what: str) -> None:
        if self.on_transport is not None:
            try:
                self.on_transport(what)
            except Exception:
                log.exception("clock on_transport callback failed")


class TapTempo:
    """Tempo from taps (beats): a least-squares fit over the last ``max_taps`` taps.

    A pause longer than ``reset_after_s`` starts a new tempo.
    """

    def __init__(self, max_taps: int = 8, reset_after_s: float = 2.0,
                 min_bpm: float = MIN_BPM, max_bpm: float = MAX_BPM) -> None:
        self.reset_after_s = reset_after_s
        self.min_bpm, self.max_bpm = min_bpm, max_bpm
        self._taps: deque[float] = deque(maxlen=max(2, max_taps))

    def tap(self, t_s: float | None = None) -> float | None:
        """Register a tap at ``t_s`` seconds (default: now); returns the tempo or None."""
        t_s = time.perf_counter() if t_s is None else t_s
        if self._taps and t_s - self._taps[-1] > self.reset_after_s:
            self._taps.clear()
        self._taps.append(t_s)
        return self.bpm

    @property
    def bpm(self) -> float | None:
        """Tempo in beats per minute after at least two taps, else None."""
        taps = list(self._taps)
        if len(taps) < 2:
            return None
        period_s = fit_period([t - taps[0] for t in taps])
        if period_s is None:
            return None
        return clamp_bpm(60.0 / period_s, self.min_bpm, self.max_bpm)

    def reset(self) -> None:
        """Forget the taps."""
        self._taps.clear()


class ClockOut:
    """Sends MIDI clock (0xF8 at 24 ppqn) on its own thread, with start/stop/continue.

    ``send`` takes the raw bytes of one message (e.g. ``OutputPort.send``). Ticks are
    scheduled on absolute deadlines, so sleep jitter never accumulates into tempo drift;
    if the thread falls more than a tick behind it skips ahead instead of bursting.
    With ``tick_while_stopped`` the clock also runs while stopped (some devices show the
    tempo only then).
    """

    def __init__(self, send: Callable[[Sequence[int]], None], bpm: float = 120.0, *,
                 tick_while_stopped: bool = False) -> None:
        self._send = send
        self._bpm = clamp_bpm(float(bpm))
        self.tick_while_stopped = tick_while_stopped
        self.running = False
        self.ticks_sent = 0
        self.skips = 0  # times the thread fell more than a tick behind and skipped ahead
        self._wake = threading.Event()
        self._closed = False
        self._reset_phase = True
        self._thread = threading.Thread(target=self._loop, name="midi-clock-out", daemon=True)
        self._thread.start()

    @property
    def bpm(self) -> float:
        """Tempo in beats per minute (clamped to 40-200)."""
        return self._bpm

    @bpm.setter
    def bpm(self, value: float) -> None:
        self._bpm = clamp_bpm(float(value))

    def start(self) -> None:
        """Send Start (0xFA) and tick from the top of the bar."""
        self._send([START])
        self.running = True
        self._reset_phase = True
        self._wake.set()

    def continue_(self) -> None:
        """Send Continue (0xFB) and resume ticking."""
        self._send([CONTINUE])
        self.running = True
        self._reset_phase = True
        self._wake.set()

    def stop(self) -> None:
        """Send Stop (0xFC); ticks stop unless ``tick_while_stopped``."""
        self.running = False
        self._send([STOP])

    def close(self) -> None:
        """End the thread (sends nothing more)."""
        self._closed = True
        self._wake.set()
        self._thread.join(timeout=2.0)

    def __enter__(self) -> ClockOut:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _loop(self) -> None:
        next_t = time.perf_counter()
        while not self._closed:
            if not (self.running or self.tick_while_stopped):
                self._wake.wait(0.1)
                self._wake.clear()
                self._reset_phase = True
                continue
            now = time.perf_counter()
            if self._reset_phase:
                self._reset_phase = False
                next_t = now
            if now < next_t:
                time.sleep(next_t - now)
                continue
            try:
                self._send([CLOCK])
                self.ticks_sent += 1
            except Exception:  # a vanished port must not kill the clock thread
                log.exception("MIDI clock send failed")
            period = 60.0 / (self._bpm * PPQN)
            next_t += period
            if time.perf_counter() - next_t > period:
                next_t = time.perf_counter()  # fell behind: skip, never burst
                self.skips += 1
