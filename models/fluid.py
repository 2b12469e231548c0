"""Rendering MIDI through a General MIDI soundfont with fluidsynth, for the generated
training and held-out material (auto-mix songs, transcriber takes).

Renders are dry (fluidsynth's reverb and chorus off) and offline (``-F``: as fast as the
machine goes). Training renders use FluidR3 (Debian's ``fluid-soundfont-gm``;
``fluid-soundfont-gs`` adds only GS sound effects); held-out material uses TimGM6mb
(``timgm6mb-soundfont``), never trained on.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

from dsp.errors import InputError

SOUNDFONT_DIR = Path("/usr/share/sounds/sf2")


class CorpusError(InputError):
    """fluidsynth or a soundfont is missing."""


def soundfont(name: str) -> Path:
    path = SOUNDFONT_DIR / name
    if not path.exists():
        raise CorpusError(f"{path} not found: install fluid-soundfont-gm, fluid-soundfont-gs "
                          "and timgm6mb-soundfont")
    return path


def render(mid: Path, sf2: Path, rate_hz: int, wav: Path, gain: float = 0.5) -> np.ndarray:
    """``mid`` rendered to ``wav`` (a scratch file) and read back: (frames, 2) float32."""
    import soundfile

    exe = shutil.which("fluidsynth")
    if exe is None:
        raise CorpusError("fluidsynth not found: install Debian's fluidsynth")
    subprocess.run([exe, "-ni", "-R", "0", "-C", "0", "-g", str(gain), "-r", str(rate_hz),
                    "-F", str(wav), str(sf2), str(mid)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    audio, _ = soundfile.read(wav, dtype="float32", always_2d=True)
    return audio
