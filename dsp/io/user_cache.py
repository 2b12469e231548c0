"""The user's cache folder for what MusicMill derives once and keeps (compiled kernels,
exported graphs): ``$XDG_CACHE_HOME/musicmill`` (``~/.cache/musicmill`` by default)."""

from __future__ import annotations

import os
from pathlib import Path


def user_cache_dir(*parts: str) -> Path:
    """``$XDG_CACHE_HOME/musicmill/<parts...>`` (not created here)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base, "musicmill", *parts)
