"""``musicmill beatbox detect|train|info``: the beatbox trigger path, offline."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("beatbox", help="beatbox trigger: detect hits in a file, train, info")
    bsub = p.add_subparsers(dest="beatbox_command", required=True, metavar="ACTION")
    det = bsub.add_parser("detect", help="list the hits the live trigger finds in a file")
    det.add_argument("input", type=Path, help="WAV, FLAC, OGG or MP3")
    det.add_argument("--threshold-db", type=float, default=-45.0,
                     help="detection floor, dBFS (default -45)")
    det.add_argument("--json", action="store_true")
    det.set_defaults(func=run_detect)
    tr = bsub.add_parser("train", help="generate the corpus and train the classifier")
    tr.add_argument("--hits", type=int, default=3000, help="training hits (default 3000)")
    tr.add_argument("--heldout", type=int, default=600, help="held-out hits (default 600)")
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--out", type=Path, default=None,
                    help="weights file (default: the shipped models/beatbox/classifier.npz)")
    tr.set_defaults(func=run_train)
    info = bsub.add_parser("info", help="the shipped classifier's training record")
    info.add_argument("--json", action="store_true")
    info.set_defaults(func=run_info)


def run_detect(args: argparse.Namespace) -> int:
    from dsp import beatbox
    from dsp.io.audio import read_audio
    from models.beatbox.classifier import load_weights

    x, rate = read_audio(args.input)
    events, _ = beatbox.detect(x, rate, load_weights(), threshold_db=args.threshold_db)
    hits = []
    for e, label, released in zip(*beatbox.resolve_hits(events), strict=True):
        hit = {"onset_s": round(e[beatbox.EV_ONSET] / rate, 4),
               "drum_s": round(e[-1] / rate, 4),
               "class": "hat" if label == beatbox.HAT_PENDING else beatbox.CLASSES[label],
               "velocity": round(float(e[beatbox.EV_VELOCITY]), 3)}
        if released >= 0:  # a hat: its length decided closed or open
            hit["length_s"] = round((released - e[beatbox.EV_ONSET]) / rate, 4)
        hits.append(hit)
    if args.json:
        print(json.dumps({"sample_rate_hz": rate, "hits": hits}, indent=2))
        return 0
    for h in hits:
        print(f"{h['onset_s']:9.3f} s  {h['class']:<10}  velocity {h['velocity']:.2f}")
    print(f"{len(hits)} hits", file=sys.stderr)
    return 0


def run_train(args: argparse.Namespace) -> int:
    from engine.errors import UsageError
    from models.beatbox.classifier import WEIGHTS_PATH
    from models.beatbox.train import train

    if args.hits < 50 or args.heldout < 50:
        raise UsageError("--hits and --heldout need at least 50 hits each")
    out = args.out or WEIGHTS_PATH
    if not out.parent.is_dir():
        raise UsageError(f"{out.parent}: no such directory")
    command = (f"musicmill beatbox train --hits {args.hits} --heldout {args.heldout} "
               f"--seed {args.seed}" + (f" --out {args.out}" if args.out else ""))
    record = train(out, args.hits, args.heldout, args.seed, command)
    print(json.dumps(record, indent=2))
    return 0


def run_info(args: argparse.Namespace) -> int:
    from models.beatbox.classifier import load_record

    record = load_record()
    if args.json:
        print(json.dumps(record, indent=2))
        return 0
    held = record["heldout"]
    print(f"trained with: {record['command']}")
    print(f"held-out: accuracy {held['accuracy']:.3f}, recall {held['recall']:.3f}, "
          f"onset F {held['onset_f']:.3f}, {held['false_hits']} false hits "
          f"of {held['hits']} hits")
    return 0
