"""The user's cache folder for what MusicMill derives once and keeps (compiled kernels,
exported graphs): ``$XDG_CACHE_HOME/musicmill`` (``~/.cache/musicmill`` by default)."""

from __future__ import annotations

import os
from pathlib import Path


def user_cache_dir(*parts: str) -> Path:
    """``$XDG_CACHE_HOME/musicmill/<parts...>`` (not created here)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base, "musicmill", *parts)


CACHE_BUDGET_BYTES = 1 << 30  # per kind of entry (exported graphs): 1 GiB


def touch(entry: Path) -> None:
    """Mark a cache entry (a folder) as just used: pruning removes the least recently used
    first. A cache that cannot be written costs nothing but that order."""
    try:
        os.utime(entry)
    except OSError:
        pass


def prune(folder: Path, budget_bytes: int | None = None, keep: Path | None = None
          ) -> list[Path]:
    """Remove the least recently used entries (subfolders) of ``folder`` until the rest fit
    in ``budget_bytes`` (default ``CACHE_BUDGET_BYTES``); never ``keep`` (the entry just
    made) nor the newest one. Returns what was removed. Every model a performer loads adds
    an entry; without this the cache would only grow."""
    import shutil

    budget = CACHE_BUDGET_BYTES if budget_bytes is None else budget_bytes
    try:
        entries = [p for p in folder.iterdir() if p.is_dir()]
        sized = sorted(((p.stat().st_mtime, _size(p), p) for p in entries), reverse=True)
    except OSError:
        return []
    total, removed = 0, []
    for k, (_, size, entry) in enumerate(sized):
        total += size
        if total > budget and k > 0 and entry != keep:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
            total -= size
    return removed


def _size(entry: Path) -> int:
    return sum(f.stat().st_size for f in entry.rglob("*") if f.is_file())
