"""Keep Numba's on-disk cache per version of our source.

Numba checks only a cached function's own file when deciding whether its cache is stale,
not the files of the jitted functions it calls. After a kernel changes, a cached caller
(the audio callback inlines every kernel) would run the old kernel against a new state
layout. So the cache lives in a directory named after a hash of every jitted source file:
any change to any of them starts a fresh cache. Caches unused for a week are removed;
younger ones stay, because another checkout (or a running process) may still use them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import time
from pathlib import Path

from dsp.io.user_cache import user_cache_dir

_ROOT = Path(__file__).resolve().parent.parent
# jitted code lives in these, and bakes registry slots (presets) in as constants
_JIT_PACKAGES = ("dsp", "engine", "models", "presets")
STALE_AFTER_S = 7 * 24 * 3600


def source_hash() -> str:
    """A short hash of every Python file in the packages that hold jitted code."""
    h = hashlib.sha1()
    for pkg in _JIT_PACKAGES:
        for path in sorted((_ROOT / pkg).rglob("*.py")):
            h.update(str(path.relative_to(_ROOT)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:12]


def _base() -> Path:
    return user_cache_dir("numba")


def configure() -> Path | None:
    """Point Numba's cache at this source version's directory (unless the user chose one)."""
    chosen = os.environ.get("NUMBA_CACHE_DIR")
    if chosen and not chosen.startswith(str(_base())):
        return None
    base = _base()
    current = base / source_hash()
    try:
        current.mkdir(parents=True, exist_ok=True)
        os.utime(current)  # mark it used, for the pruning below
        now = time.time()
        for old in base.iterdir():
            if old != current and old.is_dir() and now - old.stat().st_mtime > STALE_AFTER_S:
                shutil.rmtree(old, ignore_errors=True)
    except OSError:
        return None  # a read-only home: Numba falls back to compiling without a cache
    # Numba reads the variable when it is first imported; commands that never jit (--help)
    # do not pay for importing it here.
    os.environ["NUMBA_CACHE_DIR"] = str(current)
    if "numba" in sys.modules:
        sys.modules["numba"].config.CACHE_DIR = str(current)
    return current


CACHE_DIR = configure()
