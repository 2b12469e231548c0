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
