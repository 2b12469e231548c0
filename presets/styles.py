"""Mix styles: the auto-mix targets (loudness, brightness, width) a style holds.

A style is the three ``automix_*`` targets with ``automix_amount`` at 1. The loudness
targets follow published norms (EBU R128 broadcast at -23 LUFS; the -14 LUFS that
streaming services normalise to); brightness and width are our choices for each
character. ``--style`` also takes an audio file, whose own loudness, brightness and width
(measured as the auto-mix measures them) become the targets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dsp.errors import InputError, did_you_mean
from presets.registry import INDEX, REGISTRY

if TYPE_CHECKING:
    import numpy as np


class StyleError(InputError, ValueError):
    """A style that is neither a known name nor an audio file with a style to measure."""


@dataclass(frozen=True)
class Style:
    loudness_lufs: float
    brightness_db: float  # share of the energy above 2 kHz
    width_db: float  # side-to-mid energy ratio
    description: str

    def params(self) -> dict[str, float]:
        """The registry values that make the master bus hold this style."""
        values = {"automix_amount": 1.0, "automix_loudness_lufs": self.loudness_lufs,
                  "automix_brightness_db": self.brightness_db,
                  "automix_width_db": self.width_db}
        # a measured reference can lie outside what the controls reach: clamp to the ranges
        return {k: min(max(v, REGISTRY[INDEX[k]].min), REGISTRY[INDEX[k]].max)
                for k, v in values.items()}


STYLES: dict[str, Style] = {
    "streaming": Style(-14.0, -12.0, -10.0, "streaming-service loudness, neutral tone"),
    "broadcast": Style(-23.0, -14.0, -14.0, "EBU R128 programme loudness, narrower image"),
    "club": Style(-10.0, -10.0, -16.0, "loud and bright, close to mono for club systems"),
    "warm": Style(-16.0, -18.0, -10.0, "darker top end, moderate level"),
    "wide": Style(-14.0, -12.0, -6.0, "streaming loudness with a wide image"),
}


def measure_style(x: np.ndarray, rate_hz: int) -> Style:
    """Loudness, brightness and width of ``x (2, n)`` as the auto-mix measures them
    (gated, over the whole signal); StyleError for a silent clip or a rate too low."""
    from dsp import automix
    from dsp.analysis.mix_readings import whole_readings

    if rate_hz <= automix.MIN_RATE_HZ:
        raise StyleError(f"{rate_hz} Hz: a style is measured above {automix.MIN_RATE_HZ:g} Hz "
                         "(the auto-mix's 2 kHz split)")
    r = whole_readings(x, rate_hz)
    if not math.isfinite(r["loudness_lufs"]):
        raise StyleError("the reference is silent: no style to measure")
    return Style(r["loudness_lufs"], r["brightness_db"], r["width_db"], "measured")


def resolve_style(name_or_path: str, force: bool = False) -> dict[str, float]:
    """The parameter values of a named style, or of the style measured from an audio file;
    StyleError naming the styles when it is neither. ``force``: read a file over the
    duration limit (the command's ``--force``)."""
    style = STYLES.get(name_or_path.lower())
    if style is not None:
        return style.params()
    path = Path(name_or_path)
    if not path.exists():
        raise StyleError(f"unknown style {name_or_path!r}{did_you_mean(name_or_path, STYLES)}: "
                         f"name one of {', '.join(STYLES)}, or an audio file to take it from")
    from dsp.analysis.mix_readings import as_stereo
    from dsp.io.audio import read_audio

    audio = read_audio(path, force)
    rate = audio.rate_hz
    try:
        stereo = as_stereo(audio.samples)
    except ValueError as exc:
        raise StyleError(f"{path}: {exc}") from None
    try:
        return measure_style(stereo, rate).params()
    except StyleError as exc:
        raise StyleError(f"{path}: {exc}") from None
