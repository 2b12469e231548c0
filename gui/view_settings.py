"""How the window looks on this machine, remembered between runs: its size and place,
large text and high contrast (``<data dir>/window.json``, written when the window closes).

A missing or unreadable file means the defaults; values out of reason are clamped, so a
file from a larger screen never opens the window off this one.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from dsp.io.atomic import atomic_path
from dsp.io.jsonfile import JsonFileError, read_json

LARGE_TEXT_SCALE = 1.4
MIN_W, MIN_H, MAX_W, MAX_H = 640, 480, 7680, 4320


@dataclass
class ViewSettings:
    width: int = 1180
    height: int = 780
    x: int = 40
    y: int = 40
    large_text: bool = False
    high_contrast: bool = False

    @property
    def font_scale(self) -> float:
        return LARGE_TEXT_SCALE if self.large_text else 1.0


def settings_path() -> Path:
    from presets.store import data_dir

    return data_dir() / "window.json"


def load(path: Path | None = None) -> ViewSettings:
    """The remembered settings, or the defaults when there are none (or they are broken)."""
    try:
        doc = read_json(path or settings_path(), max_bytes=65536)
    except JsonFileError:
        return ViewSettings()
    if not isinstance(doc, dict):
        return ViewSettings()
    base = ViewSettings()

    def number(key: str, lo: int, hi: int) -> int:
        v = doc.get(key, getattr(base, key))
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and v == v
        return int(min(hi, max(lo, v))) if ok else getattr(base, key)

    return ViewSettings(width=number("width", MIN_W, MAX_W),
                        height=number("height", MIN_H, MAX_H),
                        x=number("x", 0, MAX_W - MIN_W), y=number("y", 0, MAX_H - MIN_H),
                        large_text=doc.get("large_text") is True,
                        high_contrast=doc.get("high_contrast") is True)


def save(settings: ViewSettings, path: Path | None = None) -> None:
    """Write the settings (atomically; a failure to write is not worth a crash)."""
    path = path or settings_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(asdict(settings), indent=2) + "\n", encoding="utf-8")
    except OSError:
        pass
