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
    det.add_argument("--rise-db", type=float, default=None,
                     help="how far a hit must rise over the sound before it, dB (default: "
                          "the engine's beatbox_sensitivity_db default)")
    det.add_argument("--json", action="store_true",
                     help="print the sample rate and the hits as JSON")
    det.add_argument("--force", action="store_true", help="read a file over 30 minutes")
    det.set_defaults(func=run_detect)
    tr = bsub.add_parser("train", help="generate the corpus and train the classifier")
    tr.add_argument("--hits", type=int, default=3000, help="training hits (default 3000)")
    tr.add_argument("--heldout", type=int, default=600, help="held-out hits (default 600)")
    tr.add_argument("--seed", type=int, default=0,
                    help="seed of the generated corpus and of the fit (default 0)")
    tr.add_argument("--phrases", type=int, default=1000,
                    help='spoken training utterances ("boots and cats" and other words; '
                         "0: isolated hits only; default 1000)")
    tr.add_argument("--rise-db", type=float, default=None,
                    help="detector rise to train and evaluate at, dB (default: the engine's "
                         "beatbox_sensitivity_db default); the engine should run at it")
    tr.add_argument("--phrase-weight", type=float, default=None,
                    help="loss weight of a spoken-phrase detection, a corpus hit weighing 1 "
                         "(default: models.beatbox.train.PHRASE_WEIGHT)")
    tr.add_argument("--epochs", type=int, default=None,
                    help="full-batch training epochs (default: models.beatbox.train.EPOCHS)")
    tr.add_argument("--weight-decay", type=float, default=None,
                    help="Adam weight decay (default: models.beatbox.train.WEIGHT_DECAY)")
    tr.add_argument("--train-slow-release-ms", type=float, default=None,
                    help="the detector's slow-envelope fall while collecting the training "
                         "detections, ms (default: the kernel's; scores always use the "
                         "kernel's, as the engine runs)")
    tr.add_argument("--out", type=Path, default=None,
                    help="weights file (default: the shipped models/beatbox/classifier.npz)")
    tr.set_defaults(func=run_train)
    info = bsub.add_parser("info", help="the shipped classifier's training record")
    info.add_argument("--json", action="store_true", help="print the whole record as JSON")
    info.set_defaults(func=run_info)


def run_detect(args: argparse.Namespace) -> int:
    from dsp import beatbox
    from dsp.io.audio import read_audio
    from models.beatbox.classifier import load_weights
    from models.beatbox.train import default_rise_db

    rise_db = default_rise_db() if args.rise_db is None else args.rise_db
    decoded = read_audio(args.input, args.force)
    x, rate = decoded.samples, decoded.rate_hz
    events, _ = beatbox.detect(x, rate, load_weights(), threshold_db=args.threshold_db,
                               ratio_db=rise_db)
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
        print(json.dumps({"sample_rate_hz": rate, "hits": hits,
                          "nonfinite_replaced": decoded.nonfinite}, indent=2))
        return 0
    for h in hits:
        print(f"{h['onset_s']:9.3f} s  {h['class']:<10}  velocity {h['velocity']:.2f}")
    print(f"{len(hits)} hits", file=sys.stderr)
    return 0


def run_train(args: argparse.Namespace) -> int:
    from engine.errors import UsageError
    from models.beatbox import train as training
    from models.beatbox.classifier import WEIGHTS_PATH
    from presets.registry import param

    if args.hits < 50 or args.heldout < 50:
        raise UsageError("--hits and --heldout need at least 50 hits each")
    if args.phrases < 0:
        raise UsageError("--phrases must be >= 0")
    phrase_weight = (training.PHRASE_WEIGHT if args.phrase_weight is None
                     else args.phrase_weight)
    epochs = training.EPOCHS if args.epochs is None else args.epochs
    weight_decay = training.WEIGHT_DECAY if args.weight_decay is None else args.weight_decay
    if not phrase_weight > 0:
        raise UsageError("--phrase-weight must be > 0")
    if epochs < 1:
        raise UsageError("--epochs must be >= 1")
    if not weight_decay >= 0:
        raise UsageError("--weight-decay must be >= 0")
    if args.rise_db is not None:
        try:
            param("beatbox_sensitivity_db").check(args.rise_db)  # the engine's range
        except ValueError as exc:
            raise UsageError(f"--rise-db: {exc}") from None
    rise_db = training.default_rise_db() if args.rise_db is None else args.rise_db
    release = args.train_slow_release_ms
    if release is not None and not 1.0 <= release <= 200.0:
        raise UsageError(f"--train-slow-release-ms {release:g} outside 1..200")
    out = args.out or WEIGHTS_PATH
    if not out.parent.is_dir():
        raise UsageError(f"{out.parent}: no such directory")
    defaults = {"hits": 3000, "heldout": 600, "seed": 0, "phrases": 1000}
    command = "musicmill beatbox train" + "".join(
        f" --{k} {getattr(args, k)}" for k, v in defaults.items() if getattr(args, k) != v)
    # the rise and the fit's settings always: the command must say what it trained at when
    # a default moves
    command += (f" --rise-db {rise_db:g} --phrase-weight {phrase_weight:g} --epochs {epochs}"
                f" --weight-decay {weight_decay:g}")
    command += f" --train-slow-release-ms {release:g}" if release is not None else ""
    command += f" --out {args.out}" if args.out else ""
    record = training.train(out, args.hits, args.heldout, args.seed, command,
                            phrases=args.phrases, rise_db=rise_db,
                            phrase_weight=phrase_weight, epochs=epochs,
                            weight_decay=weight_decay, train_slow_release_ms=release)
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
    if "rise_db" in record:
        print(f"detector rise: {record['rise_db']:g} dB (the engine should run at it)")
    if "slow_release_ms" in record:
        print(f"detector slow envelope: falls over {record['slow_release_ms']:g} ms as scored "
              f"(trained on detections at {record['train_slow_release_ms']:g} ms)")
    print(f"held-out: accuracy {held['accuracy']:.3f}, recall {held['recall']:.3f}, "
          f"onset F {held['onset_f']:.3f}, {held['false_hits']} false hits "
          f"of {held['hits']} hits")
    titles = {"words": '"boots and cats" x8 per held-out voice, clean',
              "augmented": "the same with gain, EQ, room and noise",
              "chant": '"boots and cats boots and cats" x4 per voice, clean'}
    for name, score in record.get("heldout_words", {}).items():
        print(f"{titles.get(name, name)}: {score['right']} of {score['words']} drum words "
              f"right ({score['missed']} with no hit), {score['and_drums']} drums on \"and\"")
        for voice, (right, n) in score["per_voice"].items():
            print(f"  {voice:<26} {right:2d} of {n}")
    return 0
