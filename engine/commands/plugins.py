"""``musicmill plugins list|info``: the LV2 plugins installed, and one plugin's parameters."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plugins", help="list installed LV2 plugins, or describe one")
    s = p.add_subparsers(dest="plugins_command", required=True, metavar="ACTION")
    lst = s.add_parser("list", help="every installed LV2 plugin (format, uri, name, class, "
                       "audio ins/outs, controls, real-time capable)")
    lst.add_argument("--json", action="store_true", help="one JSON list")
    lst.set_defaults(func=run_list)
    info = s.add_parser("info", help="a plugin's parameters (symbol, name, min, max, default, "
                        "unit, kind)")
    info.add_argument("plugin", metavar="URI|PATH", help="an LV2 URI or .lv2 bundle folder, "
                      "or a .vst3 plugin")
    info.add_argument("--json", action="store_true", help="one JSON object")
    info.set_defaults(func=run_info)


def run_list(args: argparse.Namespace) -> int:
    from engine.plugins import catalog

    rows = [p.summary() for p in catalog.installed()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        rt = "rt" if r["realtime"] else "worker-only"
        print(f"{r['uri']}  {r['name']} [{r['class']}] {r['audio_ins']}in/{r['audio_outs']}out "
              f"{r['controls']} controls {rt}")
    print(f"{len(rows)} LV2 plugins")
    return 0


def describe(name: str) -> dict:
    """What ``plugins info`` prints, as a dict."""
    from engine.plugins import catalog
    from engine.plugins.vst3 import Vst3Plugin, is_vst3_path

    if is_vst3_path(name):
        plugin = Vst3Plugin(name, 48000.0)
        params = [{"symbol": c.symbol, "name": c.name, "min": 0.0, "max": 1.0,
                   "default": c.default, "unit": "", "kind": "linear"}
                  for c in plugin.controls]
        return {"format": "vst3", "path": name, "parameters": params}
    info = catalog.find(name)
    params = [{"symbol": c.symbol, "name": c.name, "min": c.min, "max": c.max,
               "default": c.default, "unit": c.unit, "kind": c.value_kind,
               **({"labels": {label: v for v, label in c.labels}} if c.labels else {})}
              for c in info.controls]
    latency = info.latency_port
    return {**info.summary(), "required_features": list(info.required_features),
            "reports_latency": latency is not None, "parameters": params}


def run_info(args: argparse.Namespace) -> int:
    d = describe(args.plugin)
    if args.json:
        print(json.dumps(d, indent=2))
        return 0
    source = d.get("uri", d.get("path"))
    print(f"{source}  {d.get('name', '')}")
    if d["format"] == "lv2":
        print(f"  {d['audio_ins']} in / {d['audio_outs']} out, real-time capable: "
              f"{'yes' if d['realtime'] else 'no (worker slot only)'}")
    for p in d["parameters"]:
        labels = ", ".join(f"{v:g}={k}" for k, v in p.get("labels", {}).items())
        print(f"  {p['symbol']:<20} {p['name']:<32} {p['min']:g} .. {p['max']:g} "
              f"(default {p['default']:g}) {p['unit']} {p['kind']}"
              + (f" [{labels}]" if labels else ""))
    return 0
