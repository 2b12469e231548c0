"""The real-time host: callback, rings, parameters, graph, worker, render, CLI."""

from dsp import jit_cache  # noqa: F401  (Numba's cache per source version, before any jit)
