"""The training multitracks, rendered once into a cache (``.npz`` per song, float16)."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from models.automix import corpus

CACHE_RATE_HZ = 24000
SONG_S = 6.0


def _song_file(cache: Path, seed: int) -> Path:
    return cache / f"song{seed:05d}.npz"


def _render_one(args: tuple[Path, int, str]) -> int:
    cache, seed, sf2_name = args
    path = _song_file(cache, seed)
    if path.exists():
        return seed
    stems = corpus.song(seed, corpus.soundfont(sf2_name), CACHE_RATE_HZ, SONG_S)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, audio=np.stack([s.audio for s in stems]).astype(np.float16),
             roles=np.array([s.role for s in stems]))
    tmp.rename(path)
    return seed


def build(cache: Path, seeds: range, soundfonts: tuple[str, ...], workers: int = 2) -> None:
    """Render every song of ``seeds`` not yet in ``cache`` (resumable), alternating the
    soundfonts by seed."""
    cache.mkdir(parents=True, exist_ok=True)
    jobs = [(cache, s, soundfonts[s % len(soundfonts)]) for s in seeds]
    with ProcessPoolExecutor(workers) as pool:
        for done, _ in enumerate(pool.map(_render_one, jobs), 1):
            if done % 25 == 0:
                print(f"rendered {done}/{len(jobs)} songs", flush=True)


def load(cache: Path, seeds: range) -> list[np.ndarray]:
    """Each song's stems as float16 ``(stems, 2, frames)``."""
    return [np.load(_song_file(cache, s))["audio"] for s in seeds]
