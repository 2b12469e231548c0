"""The models' own error: a model file or setting that cannot be used.

A subclass of ``dsp.errors.InputError``, so the command line reports it in one line with
exit code 2, and the engine's console answers it without stopping the show.
"""

from dsp.errors import InputError


class ModelError(InputError):
    """A model file that is missing, not an export we can run, or a setting it refuses."""
