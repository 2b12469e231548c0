"""The base of every error that means "bad input from the user", on every floor.

Each package raises its own subclass (``dsp.io.audio.AudioFileError``,
``presets.schema.PresetError``, ``models.errors.ModelError``, ``engine.errors.UsageError``);
the command line turns any of them into one line and exit code 2.
"""

import difflib
from collections.abc import Iterable


class InputError(Exception):
    """A file, a name or a value the user gave cannot be used; the message says which."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or "" when none is close:
    the tail of a one-line error about an unknown name."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
