"""``musicmill transcribe``: a file's voice to notes (MIDI file or JSON), and the
transcriber's accuracy on the generated held-out phrases."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from engine.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("transcribe",
                       help="transcribe a sung/hummed file to notes (MIDI file, JSON); "
                            "or --evaluate on generated held-out phrases")
    p.add_argument("input", type=Path, nargs="?", help="WAV, FLAC, OGG or MP3 (mono voice)")
    p.add_argument("-o", "--out", type=Path,
                   help="write the notes here: .mid (a standard MIDI file) or .cont (a "
                   "Continuo document: pitch curves kept exactly)")
    p.add_argument("--floor-db", type=float, default=-45.0,
                   help="level (dBFS RMS) a note must reach (default -45)")
    p.add_argument("--retrigger-db", type=float, default=6.0,
                   help="level rise that re-articulates a held pitch (default 6)")
    p.add_argument("--bend-range", type=float, default=2.0, metavar="SEMITONES",
                   help="pitch-bend range written to the MIDI file (default 2)")
    p.add_argument("--json", action="store_true", help="print the notes (or metrics) as JSON")
    p.add_argument("--evaluate", action="store_true",
                   help="score the transcriber on generated held-out phrases instead")
    p.add_argument("--phrases", type=int, default=20, help="phrases for --evaluate (default 20)")
    p.add_argument("--force", action="store_true", help="transcribe a file over 30 minutes")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    kwargs = {"floor_db": args.floor_db, "retrigger_db": args.retrigger_db}
    if not (math.isfinite(args.floor_db) and -100.0 <= args.floor_db <= 0.0):
        raise UsageError(f"--floor-db {args.floor_db}: must be -100..0 dBFS")
    if not (math.isfinite(args.retrigger_db) and 1.0 <= args.retrigger_db <= 40.0):
        raise UsageError(f"--retrigger-db {args.retrigger_db}: must be 1..40 dB")
    if args.evaluate:
        return _evaluate(args, kwargs)
    if args.input is None:
        raise UsageError("give an input file (or --evaluate)")
    if not 0.0 < args.bend_range <= 24.0:
        raise UsageError(f"--bend-range {args.bend_range}: must be in (0, 24] semitones")
    from dsp.io.atomic import check_target
    from dsp.io.audio import read_audio
    from models.continuo.notes import write_midi
    from models.continuo.transcribe import transcribe

    if args.out is not None:
        check_target(args.out, [args.input], (".mid", ".midi", ".cont"))
    decoded = read_audio(args.input, args.force)
    notes = transcribe(decoded.samples, decoded.rate_hz, **kwargs).notes
    if args.out is not None:
        try:
            if args.out.suffix.lower() == ".cont":
                from models.continuo.document import save, voice_document

                save(voice_document(notes), args.out)
            else:
                write_midi(notes, args.out, bend_range_semitones=args.bend_range)
        except OSError as exc:
            raise UsageError(f"{args.out}: cannot write ({exc.strerror})") from None
    rows = [{"start_s": round(n.start_s, 4), "end_s": round(n.end_s, 4),
             "pitch": round(n.pitch, 3), "velocity": round(n.velocity, 3),
             "bends": len(n.bends)} for n in notes]
    if args.json:
        print(json.dumps({"notes": rows, "nonfinite_replaced": decoded.nonfinite}, indent=2))
    else:
        for r in rows:
            print(f"{r['start_s']:8.3f} - {r['end_s']:8.3f} s  pitch {r['pitch']:7.2f}  "
                  f"velocity {r['velocity']:.2f}  bends {r['bends']}")
        print(f"{len(rows)} notes" + (f", written to {args.out}" if args.out else ""))
    return 0


def _evaluate(args: argparse.Namespace, kwargs: dict) -> int:
    from models.continuo.evaluate import evaluate

    if args.phrases < 1:
        raise UsageError("--phrases must be at least 1")
    metrics = evaluate("heldout", args.phrases, **kwargs)
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        for key, value in metrics.items():
            print(f"{key:28s} {value:.3f}" if isinstance(value, float) else f"{key:28s} {value}")
    return 0
