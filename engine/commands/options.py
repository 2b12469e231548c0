"""Command-line options shared by several commands (kept light: ``--help`` imports this)."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.inserts import DEFAULT_INSERT, INSERT_NAMES, RAVE_BACKENDS
from presets.styles import STYLES

DEFAULT_PRESET = "Balanced"  # what run and render start from


def add_style_arg(p: argparse.ArgumentParser) -> None:
    """``--style``, shared by run, render and mix."""
    p.add_argument("--style", metavar="NAME|FILE",
                   help=f"auto-mix targets: {', '.join(STYLES)}, or an audio file to "
                   "match (sets automix_amount=1; --set overrides)")


def add_denoise_arg(p: argparse.ArgumentParser) -> None:
    """``--denoise``, shared by run and render."""
    p.add_argument("--denoise", action="store_true",
                   help="spectral noise reduction in the input strip (adds 8 ms; "
                   "denoise_amount sets how much, denoise_learn learns the room)")


def add_set_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--set", action="append", metavar="PARAM=VALUE", dest="assignments",
                   default=[], help="set a parameter (repeatable), e.g. --set master_gain_db=-6")


def add_insert_args(p: argparse.ArgumentParser) -> None:
    """The worker-insert options shared by ``run`` and ``render``."""
    p.add_argument("--insert", choices=INSERT_NAMES, default=DEFAULT_INSERT,
                   help=f"worker insert (default {DEFAULT_INSERT}: the shipped neural drum "
                   "model)")
    p.add_argument("--model", type=Path,
                   help="RAVE .ts export for --insert rave; drum-model .ts for --insert drums")
    p.add_argument("--rave-backend", choices=RAVE_BACKENDS, default="auto",
                   help="model runtime: TorchScript or ONNX Runtime (auto: ONNX for the "
                   "drum model, TorchScript for RAVE exports)")
    p.add_argument("--reference", type=Path, action="append", default=[], metavar="FILE",
                   help="style reference audio for the model insert (repeat for more; "
                   "rave_style blends them, rave_generator=3 plays the blend)")
    p.add_argument("--match", type=Path, metavar="FILE",
                   help="reference audio whose latent statistics rave_match pulls toward")


def add_plugin_args(p: argparse.ArgumentParser) -> None:
    """``--plugin`` and ``--lenient``, shared by run and render."""
    p.add_argument("--plugin", action="append", default=[], metavar="SLOT:URI|PATH",
                   dest="plugins",
                   help="load a plugin into a chain slot (repeatable, in order): voice or "
                   "master (LV2, in the audio callback) or worker (LV2 or .vst3); e.g. "
                   "--plugin master:http://gareus.org/oss/lv2/balance")
    p.add_argument("--lenient", action="store_true",
                   help="drop a preset's plugin that is not installed (with a warning) "
                   "instead of refusing the preset")
