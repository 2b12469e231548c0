"""CPU time the window costs: its own (main) thread and the software renderer's threads.

Without a GPU, Mesa's llvmpipe rasterises on threads of its own (``llvmpipe-N``), so the
main thread's time alone understates what drawing takes from the audio and the model, and
wall time overstates it whenever the host preempts us. Read from ``/proc/self/task`` (Linux);
elsewhere None.
"""

from __future__ import annotations

import os
from pathlib import Path

_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.01
_RENDERER_THREADS = ("llvmpipe",)


def drawing_cpu_s() -> float | None:
    """User + system seconds used so far by the main thread and the renderer's threads."""
    tasks = Path("/proc/self/task")
    if not tasks.is_dir():
        return None
    main = str(os.getpid())  # the window runs on the main thread, whose id is the pid
    total = 0
    for task in tasks.iterdir():
        try:
            name = (task / "comm").read_text().strip()
            if task.name != main and not name.startswith(_RENDERER_THREADS):
                continue
            # fields after the parenthesised name: utime and stime are the 12th and 13th
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended while we read
            continue
        total += int(fields[11]) + int(fields[12])
    return total * _TICK_S


class CpuPerBusy:
    """CPU seconds the drawing costs per second the main thread is busy drawing (wall),
    re-read once a second: the renderer's threads add to it, the host's preemption takes
    from it. The pacer budgets frames in CPU with it (1.0 where /proc is not there)."""

    def __init__(self, period_s: float = 1.0) -> None:
        self.period_s = period_s
        self.ratio = 1.0
        self._at_s: float | None = None
        self._cpu_s: float | None = None
        self._busy_s = 0.0

    def update(self, now_s: float, busy_s: float) -> float:
        """``busy_s``: the main thread's drawing wall time so far; the ratio to use now."""
        if self._at_s is not None and now_s - self._at_s < self.period_s:
            return self.ratio
        cpu_s = drawing_cpu_s()
        if cpu_s is not None and self._cpu_s is not None and busy_s - self._busy_s > 1e-3:
            measured = (cpu_s - self._cpu_s) / (busy_s - self._busy_s)
            self.ratio = min(4.0, max(0.25, measured))
        self._at_s, self._cpu_s, self._busy_s = now_s, cpu_s, busy_s
        return self.ratio
