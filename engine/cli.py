"""``musicmill``: the composition root. Each subcommand lives in engine/commands/."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from dsp.errors import InputError, did_you_mean

COMMANDS = ("devices", "run", "render", "loudness", "compare", "preset", "midi", "rave", "beatbox",
            "drum_model", "samples", "transcribe", "mix", "mix_model", "continuo_model", "demo",
            "bench", "plugins")
# how each command is typed (drum_model's module registers "drum-model")
COMMAND_NAMES = tuple(name.replace("_", "-") for name in COMMANDS)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="musicmill", description="Live neural-audio performance engine.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"engine.commands.{name}").register(sub)
    return parser


def _unknown_command(argv: list[str]) -> str | None:
    """One line for a mistyped command (argparse would list every command), or None."""
    first = next((a for a in argv if not a.startswith("-")), None)
    if first is None or first in COMMAND_NAMES or argv.index(first) > 0:
        return None
    return f"unknown command {first!r}{did_you_mean(first, COMMAND_NAMES)} (see musicmill --help)"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    wrong = _unknown_command(argv)
    if wrong is not None:
        print(f"musicmill: error: {wrong}", file=sys.stderr)
        return 2
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InputError as exc:  # bad input on any floor: one line, exit 2
        print(f"musicmill: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (``musicmill preset list | head``): stop quietly, and keep
        # Python from complaining again when it flushes stdout at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
