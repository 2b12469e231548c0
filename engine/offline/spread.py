"""Spread the stems' pans until the sum is wide enough for the style's M/S ratio.

The master's side gain scales whatever side signal the sum has, but a sum of centred mono
stems has none to scale. So before the master, the stems above ``BASS_CENTROID_HZ`` (bass
and kick stay in the middle, as engineers keep them) are moved apart: alternately left and
right in order of loudness, each by ``spread`` added to its predicted pan, the smallest
spread that brings the sum's M/S ratio to ``SHARE_OF_TARGET`` of the target (the side
gain does the rest, exactly). The M/S ratio of any placement is read from the Gram matrix
of the stems' channels (computed once), so the search costs no passes over the audio.
"""

from __future__ import annotations

import numpy as np

from dsp import channel_strip as cs

BASS_CENTROID_HZ = 300.0
SHARE_OF_TARGET = 0.8
GRAM_STRIDE = 4  # every 4th frame: the spread only needs the ratio within a few percent
_STEPS = 30


def gram(unplaced: list[np.ndarray]) -> np.ndarray:
    """Inner products of every stem channel with every other, over every ``GRAM_STRIDE``th
    frame: ``(2 S, 2 S)`` float64 (the side gain then sets the ratio exactly)."""
    rows = np.concatenate([u[:, ::GRAM_STRIDE] for u in unplaced], axis=0)
    return (rows @ rows.T).astype(np.float64)


def _ms_ratio(g: np.ndarray, strips: np.ndarray) -> float:
    """M/S ratio of the sum of the stems placed by ``strips``, from their Gram matrix."""
    mid = np.zeros(g.shape[0])
    side = np.zeros(g.shape[0])
    for i, p in enumerate(strips):
        ll, rl, lr, rr = cs.place_gains(p[cs.INDEX["width"]], p[cs.INDEX["pan"]],
                                        p[cs.INDEX["gain_db"]])
        mid[2 * i: 2 * i + 2] = 0.5 * (ll + lr), 0.5 * (rl + rr)
        side[2 * i: 2 * i + 2] = 0.5 * (ll - lr), 0.5 * (rl - rr)
    m2 = float(mid @ g @ mid)
    return float(np.sqrt(max(float(side @ g @ side), 0.0) / m2)) if m2 > 0.0 else 0.0


def directions(centroids_hz: np.ndarray, levels_db: np.ndarray) -> np.ndarray:
    """+1 / -1 alternately by loudness for stems above the bass, 0 for the bass."""
    out = np.zeros(len(centroids_hz))
    side = 1.0
    for i in np.argsort(-levels_db):
        if centroids_hz[i] > BASS_CENTROID_HZ:
            out[i] = side
            side = -side
    return out


def spread(unplaced: list[np.ndarray], strips: np.ndarray, target_ms: float,
           way: np.ndarray) -> tuple[np.ndarray, float]:
    """Strips with pans spread (a copy) and the spread used (0 when already wide enough or
    nothing can move)."""
    g = gram(unplaced)
    goal = SHARE_OF_TARGET * target_ms
    if _ms_ratio(g, strips) >= goal or not way.any():
        return strips, 0.0
    pan = cs.INDEX["pan"]

    def moved(s: float) -> np.ndarray:
        out = strips.copy()
        out[:, pan] = np.clip(strips[:, pan] + s * way, -1.0, 1.0)
        return out

    lo, hi = 0.0, 2.0
    if _ms_ratio(g, moved(hi)) < goal:
        return moved(hi), hi
    for _ in range(_STEPS):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if _ms_ratio(g, moved(mid)) < goal else (lo, mid)
    return moved(hi), hi
