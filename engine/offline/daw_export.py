"""Write a styled mix as a Reaper project: ``--export DIR``.

``DIR/mix.RPP`` (Reaper's plain-text project) has one track per stem whose item plays
``stems/NN_name.wav``: the stem after its channel strip's filters, compressor, saturation
and width (the mix's own strip output, not a second pass), before its pan and gain, which
the track's fader and pan carry (``VOLPAN``).
``DIR/mix.wav`` is the finished mix (the master chain included), ``DIR/params.json`` every
stem's strip and the master's settings, so the mix can be rebuilt or tweaked in a DAW.
Reaper pans with its own law (the project default, -3 dB at the centre here is not
assumed): the fader values are exact, pans are the same -1…1 positions.
The folder is written under a temporary name and renamed at the end, so nothing half
written is left behind.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np

from dsp import channel_strip
from dsp.io.audio import write_audio
from dsp.units import db_to_gain
from engine.errors import UsageError

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _track(name: str, wav: str, gain_db: float, pan: float, seconds: float) -> list[str]:
    return ["  <TRACK", f'    NAME "{name}"',
            f"    VOLPAN {db_to_gain(gain_db):.6f} {pan:.4f} -1 -1 1",
            "    <ITEM", "      POSITION 0", f"      LENGTH {seconds:.6f}",
            f'      NAME "{name}"', "      <SOURCE WAVE", f'        FILE "{wav}"', "      >",
            "    >", "  >"]


def rpp_text(names: list[str], wavs: list[str], strips: np.ndarray, rate_hz: int,
             seconds: float) -> str:
    lines = ['<REAPER_PROJECT 0.1 "6.0" 0', f"  SAMPLERATE {rate_hz} 0 0"]
    gi, pi = channel_strip.INDEX["gain_db"], channel_strip.INDEX["pan"]
    for name, wav, p in zip(names, wavs, strips, strict=True):
        lines += _track(Path(name).stem, wav, float(p[gi]), float(p[pi]), seconds)
    lines.append(">")
    return "\n".join(lines) + "\n"


def check_folder(dst: Path) -> None:
    """UsageError unless ``dst`` is a new folder in an existing one (checked before any
    work, and again when writing)."""
    if dst.exists():
        raise UsageError(f"{dst}: already exists; --export writes a new folder")
    if not dst.parent.is_dir():
        raise UsageError(f"{dst.parent}: no such folder")


def export(dst: Path, names: list[str], unplaced: list[np.ndarray], strips: np.ndarray,
           mix: np.ndarray, rate_hz: int, report: dict) -> None:
    """Write the project folder ``dst`` (which must not exist yet); ``unplaced``: each
    stem's strip output before width, pan and gain (``StyledMix.unplaced``)."""
    check_folder(dst)
    tmp = dst.with_name(f".{dst.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        (tmp / "stems").mkdir(parents=True)
        wavs = []
        for k, (name, stem, p) in enumerate(zip(names, unplaced, strips, strict=True)):
            width_only = channel_strip.defaults()
            width_only[channel_strip.INDEX["width"]] = p[channel_strip.INDEX["width"]]
            wav = f"stems/{k + 1:02d}_{_SAFE.sub('_', Path(name).stem)[:40] or 'stem'}.wav"
            write_audio(tmp / wav, channel_strip.place(stem, width_only).T, rate_hz, "FLOAT")
            wavs.append(wav)
        write_audio(tmp / "mix.wav", mix.T, rate_hz, "FLOAT")
        (tmp / "mix.RPP").write_text(rpp_text(names, wavs, strips, rate_hz,
                                              mix.shape[1] / rate_hz), encoding="utf-8")
        (tmp / "params.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        tmp.rename(dst)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
