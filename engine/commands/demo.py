"""``musicmill demo [-o DIR]``: render the latent-control demos and say what each shows."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from engine.errors import UsageError

DEFAULT_INPUT = Path(__file__).resolve().parents[2] / "docs" / "examples" / "beatbox.wav"
MAX_INPUT_S = 60.0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="render the latent-control demos (energy, each "
                       "dimension, tempo, evolution)")
    p.add_argument("-o", "--out", type=Path, default=Path("demo"),
                   help="output directory (default ./demo)")
    p.add_argument("--model", type=Path,
                   help="RAVE .ts export (default: the shipped drum model)")
    p.add_argument("--input", type=Path, default=DEFAULT_INPUT,
                   help="audio to encode (default: the shipped beatbox example)")
    p.add_argument("--seconds", type=float, default=8.0,
                   help=f"use at most this much of the input (default 8, up to {MAX_INPUT_S:g})")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--force", action="store_true", help="read an input over 30 minutes")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not 0.1 <= args.seconds <= MAX_INPUT_S:
        raise UsageError(f"--seconds {args.seconds:g}: must be within 0.1..{MAX_INPUT_S:g}")
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"{args.out}: exists and is not a directory")
    import torch

    from dsp.io.audio import read_audio
    from dsp.resample import resample
    from models.drum_ae.shipped import SHIPPED_MODEL
    from models.rave.demo import render_demos
    from models.rave.loader import load_rave

    torch.set_num_threads(1)
    model_path = args.model or SHIPPED_MODEL
    model = load_rave(model_path)
    if model.discrete:
        raise UsageError(f"{model_path}: a discrete export (its latents are codebook "
                         "indices); the demos sweep and scale continuous latents")
    decoded = read_audio(args.input, args.force)
    x, rate = decoded.samples, decoded.rate_hz
    x = resample(x[: int(args.seconds * rate)], rate, model.sample_rate)
    audio = x.mean(axis=1, keepdims=True).T.repeat(model.channels, axis=0)
    if audio.shape[1] < 4 * model.compression_ratio:
        raise UsageError(f"{args.input}: too short for a demo (needs 4 latent frames, "
                         f"{4 * model.compression_ratio} samples at {model.sample_rate} Hz)")
    files = render_demos(model, audio, args.out)
    if args.json:
        print(json.dumps({"model": str(model_path), "input": str(args.input),
                          "out": str(args.out), "files": [asdict(f) for f in files]}))
        return 0
    print(f"{model_path.name} on {args.input.name}, written to {args.out}/:")
    width = max(len(f.name) for f in files)
    for f in files:
        print(f"  {f.name:<{width}}  {f.seconds:5.2f} s  rms {f.rms_dbfs:6.1f} dBFS  "
              f"peak {f.peak_dbfs:6.1f} dBFS  {f.shows}")
    return 0
