"""Real-time DSP kernels (Numba), callable from the audio callback.

Conventions shared by every module here (see docs/ARCHITECTURE.md):

- Audio is planar float32, shape ``(n_channels, n_frames)``; kernels may run in place
  (``x is y``).
- Every kernel has ``prepare(...) -> state`` (allocates, Python level), a jitted
  ``process(state, ..., x, y)`` that never allocates, and a jitted ``reset(state)``.
- State is plain numpy arrays (float64 for recursive filters) so the callback can hold it.
- Jitted functions are ``@njit(nogil=True, cache=True)``.
- Parameters carry their unit in the name: ``cutoff_hz``, ``threshold_db``, ``attack_ms``.
"""

from dsp import jit_cache  # noqa: E402,F401  (before any kernel module is compiled)
