"""The one exception the CLI turns into a clear one-line message and exit code 2."""


class UsageError(Exception):
    """Bad input from the user: a file, a name or a value. The message says which."""
