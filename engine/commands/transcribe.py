"""``musicmill transcribe``: a file's notes (MIDI file, Continuo document or JSON), and the
transcribers' accuracy on generated held-out performances."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from engine.commands.options import refuse_without
from engine.errors import UsageError

INSTRUMENTS = ("voice", "piano", "guitar", "violin", "flute", "auto")
EVAL_INSTRUMENTS = INSTRUMENTS[:-1]
# what an option left out means; None in the parsed arguments tells it was not given
DEFAULTS = {"floor_db": -45.0, "retrigger_db": 6.0, "bend_range": 2.0,
            "instruments": ",".join(EVAL_INSTRUMENTS), "clips": 8, "phrases": 0}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("transcribe",
                       help="transcribe a recording to notes (MIDI file, .cont, JSON); "
                            "or --evaluate on generated held-out performances")
    p.add_argument("input", type=Path, nargs="?",
                   help="WAV, FLAC, OGG or MP3; or a .cont document to write as MPE MIDI")
    p.add_argument("-o", "--out", type=Path,
                   help="write the notes here: .mid (a standard MIDI file: MPE, a channel "
                   "per note, from the neural transcriber) or .cont (a Continuo document: "
                   "pitch curves kept exactly)")
    p.add_argument("--transcriber", choices=("continuo", "yin"), default="continuo",
                   help="continuo: the neural streaming model, any instrument, polyphonic "
                   "(default); yin: the zero-latency voice-only kernel the callback runs")
    p.add_argument("--instrument", default="auto", metavar="NAME",
                   help=f"what plays: {', '.join(INSTRUMENTS)} (default auto)")
    p.add_argument("--floor-db", type=float, default=None,
                   help="yin: level (dBFS RMS) a note must reach (default -45)")
    p.add_argument("--retrigger-db", type=float, default=None,
                   help="yin: level rise that re-articulates a held pitch (default 6)")
    p.add_argument("--bend-range", type=float, default=None, metavar="SEMITONES",
                   help="pitch-bend range written to the MIDI file (default 2)")
    p.add_argument("--json", action="store_true", help="print the notes (or metrics) as JSON")
    p.add_argument("--evaluate", action="store_true",
                   help="score the transcribers on generated held-out performances instead")
    p.add_argument("--instruments", default=None,
                   help="--evaluate: which, comma-separated (default all five)")
    p.add_argument("--clips", type=int, default=None,
                   help="--evaluate: held-out takes per instrument (default 8)")
    p.add_argument("--no-peer", action="store_true",
                   help="--evaluate: leave out Basic Pitch (the peer)")
    p.add_argument("--phrases", type=int, default=None,
                   help="--evaluate: only the yin transcriber on this many sung phrases "
                   "(its own evaluation)")
    p.add_argument("--force", action="store_true", help="transcribe a file over 30 minutes")
    p.set_defaults(func=run)


def _check(args: argparse.Namespace) -> None:
    _check_dependent(args)
    for name, value in DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if not (math.isfinite(args.floor_db) and -100.0 <= args.floor_db <= 0.0):
        raise UsageError(f"--floor-db {args.floor_db}: must be -100..0 dBFS")
    if not (math.isfinite(args.retrigger_db) and 1.0 <= args.retrigger_db <= 40.0):
        raise UsageError(f"--retrigger-db {args.retrigger_db}: must be 1..40 dB")
    if args.instrument not in INSTRUMENTS:
        raise UsageError(f"--instrument {args.instrument!r}: choose one of "
                         f"{', '.join(INSTRUMENTS)}")
    if args.transcriber == "yin" and args.instrument not in ("auto", "voice"):
        raise UsageError(f"--instrument {args.instrument}: the yin transcriber hears one "
                         "voice only (use --transcriber continuo)")


def _check_dependent(args: argparse.Namespace) -> None:
    """Options that act through another one are refused without it (before the defaults
    fill in what was not given)."""
    if not args.evaluate:
        refuse_without("--evaluate", [("--instruments", args.instruments is not None),
                                      ("--clips", args.clips is not None),
                                      ("--no-peer", args.no_peer),
                                      ("--phrases", args.phrases is not None)])
        if args.transcriber != "yin":  # --evaluate scores yin whichever is chosen
            refuse_without("--transcriber yin (or --evaluate)",
                           [("--floor-db", args.floor_db is not None),
                            ("--retrigger-db", args.retrigger_db is not None)])
    elif args.phrases is not None and (args.no_peer or args.instruments is not None
                                       or args.clips is not None):
        raise UsageError("--phrases scores yin on sung phrases alone: leave out "
                         "--instruments, --clips and --no-peer")
    if args.bend_range is None:
        return
    midi = args.out is not None and args.out.suffix.lower() in (".mid", ".midi")
    if args.evaluate or not midi:
        refuse_without("-o NOTES.mid (it is the MIDI file's pitch-bend range)",
                       [("--bend-range", True)])
    if args.transcriber != "yin" or (args.input or Path()).suffix.lower() == ".cont":
        refuse_without("--transcriber yin on a recording (MPE files, from continuo or a "
                       ".cont, bend 48 semitones)", [("--bend-range", True)])


def run(args: argparse.Namespace) -> int:
    _check(args)
    if args.evaluate:
        return _evaluate(args)
    if args.input is None:
        raise UsageError("give an input file (or --evaluate)")
    if not 0.0 < args.bend_range <= 24.0:
        raise UsageError(f"--bend-range {args.bend_range}: must be in (0, 24] semitones")
    from dsp.io.atomic import check_target
    from dsp.io.audio import read_audio

    if args.input.suffix.lower() == ".cont":
        return _convert(args)
    if args.out is not None:
        check_target(args.out, [args.input], (".mid", ".midi", ".cont"))
    decoded = read_audio(args.input, args.force)
    notes = _transcribe(args, decoded.samples, decoded.rate_hz)
    if args.out is not None:
        try:
            _write(args, notes)
        except OSError as exc:
            raise UsageError(f"{args.out}: cannot write ({exc.strerror})") from None
    rows = [{"start_s": round(n.start_s, 4), "end_s": round(n.end_s, 4),
             "pitch": round(n.pitch, 3), "velocity": round(n.velocity, 3),
             "bends": len(n.bends)} for n in notes]
    if args.json:
        print(json.dumps({"transcriber": args.transcriber, "instrument": args.instrument,
                          "notes": rows, "nonfinite_replaced": decoded.nonfinite}, indent=2))
    else:
        for r in rows:
            print(f"{r['start_s']:8.3f} - {r['end_s']:8.3f} s  pitch {r['pitch']:7.2f}  "
                  f"velocity {r['velocity']:.2f}  bends {r['bends']}")
        print(f"{len(rows)} notes" + (f", written to {args.out}" if args.out else ""))
    return 0


def _write(args: argparse.Namespace, notes: list) -> None:
    from models.continuo.document import document_of, save
    from models.continuo.mpe import write_mpe
    from models.continuo.notes import write_midi

    profile = "voice" if args.transcriber == "yin" else args.instrument
    if args.out.suffix.lower() == ".cont":
        save(document_of(notes, profile), args.out)
    elif args.transcriber == "yin":  # one voice: one channel, its bends in --bend-range
        write_midi(notes, args.out, bend_range_semitones=args.bend_range)
    else:  # notes may overlap and bend apart: a channel each
        write_mpe(document_of(notes, profile), args.out)


def _convert(args: argparse.Namespace) -> int:
    """A .cont document to MPE MIDI."""
    from dsp.io.atomic import check_target
    from models.continuo.document import load
    from models.continuo.mpe import write_mpe

    if args.out is None or args.out.suffix.lower() not in (".mid", ".midi"):
        raise UsageError(f"{args.input}: a .cont document converts to MIDI: give -o OUT.mid")
    check_target(args.out, [args.input], (".mid", ".midi"))
    doc = load(args.input)
    try:
        write_mpe(doc, args.out)
    except OSError as exc:
        raise UsageError(f"{args.out}: cannot write ({exc.strerror})") from None
    count = sum(len(s.notes) for s in doc.streams)
    print(f"{count} notes in {len(doc.streams)} streams, written to {args.out} (MPE)")
    return 0


def _transcribe(args: argparse.Namespace, samples, rate_hz: float) -> list:
    if args.transcriber == "yin":
        from models.continuo.transcribe import transcribe

        return transcribe(samples, rate_hz, floor_db=args.floor_db,
                          retrigger_db=args.retrigger_db).notes
    from models.continuo.neural import transcribe_file

    return transcribe_file(samples, rate_hz, args.instrument).notes


def _evaluate(args: argparse.Namespace) -> int:
    yin = {"floor_db": args.floor_db, "retrigger_db": args.retrigger_db}
    if args.phrases:
        from models.continuo.evaluate import evaluate

        if args.phrases < 1:
            raise UsageError("--phrases must be at least 1")
        metrics = evaluate("heldout", args.phrases, **yin)
        if args.json:
            print(json.dumps(metrics, indent=2))
        else:
            for key, value in metrics.items():
                print(f"{key:28s} {value:.3f}" if isinstance(value, float)
                      else f"{key:28s} {value}")
        return 0
    instruments = [s.strip() for s in args.instruments.split(",") if s.strip()]
    bad = [s for s in instruments if s not in EVAL_INSTRUMENTS]
    if bad or not instruments:
        raise UsageError(f"--instruments {args.instruments!r}: choose from "
                         f"{', '.join(EVAL_INSTRUMENTS)}")
    if args.clips < 1:
        raise UsageError("--clips must be at least 1")
    from models.continuo.dataset import CorpusError
    from models.continuo.evaluate import TRANSCRIBERS, evaluate_instruments
    from models.continuo.peer import PeerMissingError

    names = [t for t in TRANSCRIBERS if not (args.no_peer and t == "basic-pitch")]
    try:
        result = evaluate_instruments(instruments, args.clips, names, yin)
    except (CorpusError, PeerMissingError) as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps({"clips": args.clips, "instruments": result}, indent=2))
        return 0
    print(f"{'instrument':10s} {'transcriber':12s} {'note F1':>8s} {'on+off F1':>9s} "
          f"{'cents':>6s} {'lat ms':>7s} {'p90 ms':>7s}")
    for inst, rows in result.items():
        for name, m in rows.items():
            print(f"{inst:10s} {name:12s} {m['onset_f_measure']:8.3f} "
                  f"{m['onset_offset_f_measure']:9.3f} {_num(m['pitch_error_cents_median'])} "
                  f"{_num(m['note_on_latency_ms_median'], 7)} "
                  f"{_num(m['note_on_latency_ms_p90'], 7)}")
    return 0


def _num(value: float | None, width: int = 6) -> str:
    return f"{value:{width}.1f}" if value is not None else f"{'-':>{width}s}"
