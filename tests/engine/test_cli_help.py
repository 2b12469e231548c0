"""Every option and argument of every command says what it does in ``--help`` (issue 21),
and a reader that goes away early is not answered with a traceback."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def _actions(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ("musicmill",)
             ) -> Iterator[tuple[str, argparse.Action]]:
    """``(command, action)`` for each action, walking every level of subcommands."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _actions(sub, (*prefix, name))
        else:
            yield " ".join(prefix), action


def _undocumented(parser: argparse.ArgumentParser) -> Iterator[str]:
    """``command --option`` (or ``command ARG``) for each action without help text."""
    for command, action in _actions(parser):
        if isinstance(action, argparse._HelpAction):
            continue  # argparse's own -h/--help
        if not action.help or action.help == argparse.SUPPRESS:
            # a suppressed option is hidden on purpose, but then it is not documented either
            name = action.option_strings[-1] if action.option_strings else (
                action.metavar or action.dest)
            yield f"{command} {name}"


def test_every_option_and_argument_has_help_text():
    missing = list(_undocumented(build_parser()))
    assert not missing, f"{len(missing)} without help text: " + ", ".join(missing)


def test_the_walk_reaches_nested_subcommands():
    # the check above proves nothing if the walk stops at the first level
    paths = {command for command, action in _actions(build_parser()) if action.option_strings}
    assert "musicmill midi unlearn" in paths
    assert "musicmill bench engine" in paths


def _into_a_closed_pipe(args: list[str]) -> subprocess.CompletedProcess:
    """``musicmill ARGS`` writing into a pipe whose reader has already gone (``| head -1``
    once head has its line): the first write fails for certain, whatever the output's
    size, where a live reader would make the test depend on timing and buffer sizes."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([sys.executable, "-m", "engine.cli", *args], cwd=ROOT,
                              stdout=write_end, stderr=subprocess.PIPE, text=True,
                              timeout=120, check=False)
    finally:
        os.close(write_end)


@pytest.mark.parametrize("args", [["preset", "list"], ["preset", "show", "Balanced"],
                                  ["--help"]])
def test_a_reader_that_went_away_gets_no_traceback(args):
    # engine.cli promises to stop quietly with exit 0 (and silence the flush at exit);
    # --help is argparse's, which swallows the error itself
    result = _into_a_closed_pipe(args)
    assert "Traceback" not in result.stderr
    assert "BrokenPipe" not in result.stderr
    assert "Exception ignored" not in result.stderr
    assert result.returncode == 0, result.stderr
