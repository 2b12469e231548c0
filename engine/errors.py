"""The engine's own error for bad input: a file, a name, a value or an option the user gave."""

from dsp.errors import InputError


class UsageError(InputError):
    """Bad input from the user. The message says which; the CLI prints it with exit code 2."""
