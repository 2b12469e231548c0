"""``musicmill devices``: PortAudio host APIs and devices."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("devices", help="list audio host APIs and devices")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def list_devices() -> dict:
    import sounddevice as sd

    apis = [{"index": i, "name": a["name"], "devices": list(a["devices"]),
             "default_input": a["default_input_device"],
             "default_output": a["default_output_device"]}
            for i, a in enumerate(sd.query_hostapis())]
    devices = [{"index": d["index"], "name": d["name"], "hostapi": apis[d["hostapi"]]["name"],
                "max_input_channels": d["max_input_channels"],
                "max_output_channels": d["max_output_channels"],
                "default_samplerate": d["default_samplerate"],
                "default_low_output_latency_ms": 1e3 * d["default_low_output_latency"]}
               for d in sd.query_devices()]
    return {"hostapis": apis, "devices": devices}


def run(args: argparse.Namespace) -> int:
    info = list_devices()
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    for api in info["hostapis"]:
        print(f"{api['name']}: {len(api['devices'])} device(s)")
    for d in info["devices"]:
        print(f"  [{d['index']}] {d['name']} ({d['hostapi']}) "
              f"in {d['max_input_channels']} / out {d['max_output_channels']}, "
              f"{d['default_samplerate']:.0f} Hz")
    if not info["devices"]:
        print("no audio devices: `musicmill run` starts a JACK dummy server "
              "when jackd is installed")
    return 0
