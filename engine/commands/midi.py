"""``musicmill midi ports|monitor``: list MIDI ports, print incoming messages."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from dsp.errors import InputError
from engine.errors import UsageError

BACKEND_CHOICES = ("auto", "jack", "alsa")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("midi", help="MIDI ports and a message monitor")
    midi_sub = p.add_subparsers(dest="midi_command", required=True, metavar="ACTION")

    ports = midi_sub.add_parser("ports", help="list MIDI input and output ports")
    _backend_arg(ports)
    ports.add_argument("--json", action="store_true", help="machine-readable output")
    ports.set_defaults(func=run)

    mon = midi_sub.add_parser("monitor", help="print incoming MIDI messages")
    _backend_arg(mon)
    mon.add_argument("--port", metavar="NAME",
                     help="input to listen to (exact name or unique part of it); "
                          "default: create a virtual input 'monitor' to connect to")
    mon.add_argument("--seconds", type=float, metavar="N",
                     help="stop after N seconds (default: until Ctrl-C)")
    mon.set_defaults(func=run)

    learn = midi_sub.add_parser("learn", help="map the next control you move to a parameter")
    _backend_arg(learn)
    learn.add_argument("target", help="parameter or macro id (see presets/registry.py)")
    learn.add_argument("--map", type=Path, required=True, dest="map_path",
                       help="mapping file to add to (created if missing)")
    learn.add_argument("--port", metavar="NAME", help="input to listen to (default: virtual)")
    learn.add_argument("--timeout", type=float, default=30.0, help="seconds to wait")
    learn.add_argument("--takeover", choices=("none", "pickup", "scale"), default="none",
                       help="when the parameter moved elsewhere: none (the control jumps it, "
                            "the default), pickup (ignored until it reaches the parameter), "
                            "scale (meets it at the end of travel)")
    learn.add_argument("--relative", default="absolute",
                       help="endless encoder mode: absolute, twos_complement, binary_offset, "
                            "signed_bit, signed_bit_2")
    learn.set_defaults(func=run)

    unlearn = midi_sub.add_parser("unlearn", help="remove every mapping to a parameter")
    unlearn.add_argument("target", help="parameter or macro id whose mappings go")
    unlearn.add_argument("--map", type=Path, required=True, dest="map_path",
                         help="mapping file to remove them from")
    unlearn.set_defaults(func=run, backend="auto")

    table = midi_sub.add_parser("mappings", help="show a mapping file as a table")
    table.add_argument("--map", type=Path, required=True, dest="map_path",
                       help="mapping file to show")
    table.add_argument("--json", action="store_true", help="print the mappings as JSON")
    table.set_defaults(func=run, backend="auto")


def _backend_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", choices=BACKEND_CHOICES, default="auto",
                   help="jack, alsa, or auto (jack when a JACK server runs, else alsa)")


def run(args: argparse.Namespace) -> int:
    from midi.ports import PortError

    if args.midi_command in ("unlearn", "mappings"):
        return _edit_table(args)
    backend = _backend(args.backend)
    try:
        if args.midi_command == "ports":
            return _ports(backend, args.json)
        if args.midi_command == "learn":
            return _learn(backend, args)
        return _monitor(backend, args.port, args.seconds)
    except PortError as exc:
        raise UsageError(str(exc)) from None


def _ports(backend: str, as_json: bool) -> int:
    from midi.ports import list_inputs, list_outputs, resolve_backend

    info = {"backend": resolve_backend(backend), "inputs": list_inputs(backend),
            "outputs": list_outputs(backend)}
    if as_json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"backend: {info['backend']}")
    for title, names in (("inputs", info["inputs"]), ("outputs", info["outputs"])):
        print(f"{title}: {len(names)}")
        for name in names:
            print(f"  {name}")
    return 0


def format_message(data: list[int], t_s: float) -> str:
    """One monitor line: seconds since start, then mido's text (or hex if unknown)."""
    from midi.parser import to_message

    msg = to_message(data)
    text = str(msg) if msg is not None else "unknown " + " ".join(f"{b:02X}" for b in data)
    return f"{t_s:10.4f}  {text}"


def _monitor(backend: str, port: str | None, seconds: float | None) -> int:
    from midi.ports import open_input

    if seconds is not None and seconds < 0:
        raise UsageError(f"--seconds {seconds:g} must not be negative")
    if port is None:
        inp = open_input("monitor", backend=backend, virtual=True,
                         client_name="musicmill-monitor", ignore_sysex=False)
        print(f"listening on virtual input {inp.name}: connect a source to it")
    else:
        inp = open_input(port, backend=backend, client_name="musicmill-monitor",
                         ignore_sysex=False)
        print(f"listening on {inp.name}")
    t0 = time.perf_counter()
    deadline = None if seconds is None else t0 + seconds
    count = 0
    with inp:
        try:
            while deadline is None or time.perf_counter() < deadline:
                data = inp.read()
                if data is None:
                    time.sleep(0.001)
                    continue
                count += 1
                print(format_message(data, time.perf_counter() - t0), flush=True)
        except KeyboardInterrupt:
            pass
    print(f"{count} message(s)")
    return 0


def _load_table(path: Path, missing_ok: bool):
    from midi.mapping import MappingTable

    if missing_ok and not path.exists():
        return MappingTable()
    try:
        return MappingTable.load(path)
    except InputError:
        raise  # MappingError and JsonFileError name the file already
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: {exc}") from None


def _edit_table(args: argparse.Namespace) -> int:
    table = _load_table(args.map_path, missing_ok=False)
    if args.midi_command == "unlearn":
        removed = table.remove_target(args.target)
        table.save(args.map_path)
        print(f"removed {removed} mapping(s) to {args.target}")
        return 0
    rows = [m.to_dict() for m in table.list()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for m in rows:
        source = f"{m['kind']} {m.get('number') if m.get('number') is not None else ''}".strip()
        channel = "any" if m.get("channel") is None else m["channel"] + 1
        print(f"{source:>14}  ch {channel!s:>3}  -> {m['target']}  "
              f"[{m['min_frac']:g}..{m['max_frac']:g}] {m['curve']}"
              f"{' inverted' if m['invert'] else ''}  {m['relative']}  takeover {m['takeover']}")
    return 0


def _learn(backend: str, args: argparse.Namespace) -> int:
    from midi.learn import Learner
    from midi.ports import open_input

    table = _load_table(args.map_path, missing_ok=True)
    learner = Learner(table)
    try:
        learner.arm(args.target, args.timeout, takeover=args.takeover, relative=args.relative)
    except (KeyError, ValueError) as exc:
        raise UsageError(str(exc).strip('"')) from None
    if args.port is None:
        inp = open_input("learn", backend=backend, virtual=True, client_name="musicmill-learn")
        print(f"move a control into virtual input {inp.name} (connect a source to it)")
    else:
        inp = open_input(args.port, backend=backend, client_name="musicmill-learn")
        print(f"move a control on {inp.name} for {args.target}")
    with inp:
        while learner.armed is not None:
            data = inp.read()
            now = time.perf_counter_ns()
            if data is None:
                learner.poll(now)
                time.sleep(0.001)
                continue
            learner.feed(data, now)
    result = learner.last_result
    if result is None or result.reason != "learned":
        reason = result.reason if result is not None else "cancelled"
        raise UsageError(f"no control learned for {args.target} ({reason})")
    table.save(args.map_path)
    print(f"learned: {json.dumps(result.mapping.to_dict())} -> {args.map_path}")
    return 0


def _backend(flag: str) -> str:
    from engine import jack

    return jack.midi_backend(flag)
