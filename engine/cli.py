"""``musicmill``: the composition root. Each subcommand lives in engine/commands/."""

from __future__ import annotations

import argparse
import importlib
import sys

from dsp.errors import InputError

COMMANDS = ("devices", "run", "render", "loudness", "compare", "preset", "midi", "rave", "beatbox",
            "drum_model", "samples", "transcribe", "mix", "demo", "bench")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="musicmill", description="Live neural-audio performance engine.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"engine.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InputError as exc:  # bad input on any floor: one line, exit 2
        print(f"musicmill: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
