"""``musicmill render IN OUT``: the live engine, offline, over a file."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.commands.options import (
    DEFAULT_PRESET,
    add_denoise_arg,
    add_insert_args,
    add_plugin_args,
    add_set_arg,
    add_style_arg,
    check_insert_args,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render", help="process an audio file offline through the engine")
    p.add_argument("input", type=Path, help="WAV, FLAC, OGG or MP3")
    p.add_argument("output", type=Path, help=".wav (24-bit, or float with --float) or .flac")
    p.add_argument("--preset", default=DEFAULT_PRESET,
                   help=f"factory (Calm, Balanced, Intense, Chaotic) or user preset (default "
                   f"{DEFAULT_PRESET}, as run plays)")
    add_set_arg(p)
    add_style_arg(p)
    p.add_argument("--blocksize", type=int, default=128, help="frames per block (default 128)")
    p.add_argument("--float", action="store_true", dest="float_output", help="32-bit float WAV")
    add_insert_args(p)
    add_denoise_arg(p)
    add_plugin_args(p)
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the model insert's randomness (default 0: the same command "
                   "writes the same file)")
    p.add_argument("--force", action="store_true", help="render inputs longer than 30 minutes")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.offline.render import render_file
    from engine.session.setup import resolve_preset

    check_insert_args(args)
    preset = resolve_preset(args.preset, args.assignments, args.style, args.force)
    render_file(args.input, args.output, preset, args.blocksize, args.float_output,
                args.force, args.insert, args.model, args.rave_backend,
                references=args.reference, match=args.match, seed=args.seed,
                denoise=args.denoise, plugins=args.plugins, lenient=args.lenient)
    print(f"wrote {args.output}")
    return 0
