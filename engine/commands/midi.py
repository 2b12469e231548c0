"""``musicmill midi ports|monitor``: list MIDI ports, print incoming messages."""

from __future__ import annotations

import argparse
import json
import time

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


def _backend_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", choices=BACKEND_CHOICES, default="auto",
                   help="jack, alsa, or auto (jack when a JACK server runs, else alsa)")


def resolve_backend_flag(flag: str) -> str:
    """``auto`` -> ``jack`` when a JACK server answers, else ``alsa``."""
    if flag != "auto":
        return flag
    from engine import jack

    return "jack" if jack.server_running() else "alsa"


def run(args: argparse.Namespace) -> int:
    from midi.ports import PortError

    backend = resolve_backend_flag(args.backend)
    try:
        if args.midi_command == "ports":
            return _ports(backend, args.json)
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
