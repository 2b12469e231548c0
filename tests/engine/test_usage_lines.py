"""Every option of every command is in the README's usage lines, and every option there
exists: the README and ``--help`` tell the same story."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from engine.cli import build_parser

README = Path(__file__).resolve().parents[2] / "README.md"


def _usage_block() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Commands")
    block = text[start:].split("```sh", 1)[1].split("```", 1)[0]
    return block


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    """(command path, each option's spellings) for every leaf command."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        options = [tuple(a.option_strings) for a in parser._actions
                   if a.option_strings and "--help" not in a.option_strings]
        yield prefix, options
        return
    for name, sub in subs[0].choices.items():
        yield from _commands(sub, (*prefix, name))


def _usage_entries() -> dict[tuple[str, ...], set[str]]:
    """Options the README lists per command (continuation lines belong to the line above)."""
    entries: dict[tuple[str, ...], set[str]] = {}
    current: tuple[str, ...] | None = None
    for line in _usage_block().splitlines():
        if line.startswith("musicmill "):
            words = [w for w in line.split() if re.fullmatch(r"[a-z][a-z-]*", w)]
            current = tuple(words[1:3])
            entries.setdefault(current, set())
        if current is not None:
            entries[current] |= set(re.findall(r"(?<![\w-])--?[a-z][a-z0-9-]*", line))
    return entries


def _listed(entries: dict, path: tuple[str, ...]) -> set[str] | None:
    for key in (path, path[:1]):
        if key in entries:
            return entries[key]
    # "preset list|show NAME|save ..." lists a group's actions in one entry
    return next((opts for key, opts in entries.items() if key[:1] == path[:1]), None)


def test_every_option_is_in_the_readme_and_every_listed_option_exists():
    entries = _usage_entries()
    missing, unknown = [], []
    known_everywhere: dict[str, set[str]] = {}
    for path, options in _commands(build_parser()):
        listed = _listed(entries, path)
        assert listed is not None, f"{' '.join(path)} has no usage line in the README"
        missing += [f"{' '.join(path)} {spellings[-1]}" for spellings in options
                    if not set(spellings) & listed]
        known_everywhere.setdefault(path[0], set()).update(s for o in options for s in o)
    for key, listed in entries.items():
        for option in sorted(listed - known_everywhere.get(key[0], set())):
            unknown.append(f"{' '.join(key)} {option}")
    assert not missing, "options missing from the README's usage lines: " + ", ".join(missing)
    assert not unknown, "README usage lines list options that do not exist: " + ", ".join(
        unknown)
