"""Offline audio analysis: spectral features and original-vs-rendered similarity.

Lives in the engine because it is file-level, offline work next to render and resample; the
CLI (``musicmill compare``) and model quality reports both call :func:`compare_arrays` /
:func:`compare_files`.
"""

from engine.analysis.similarity import (
    COMPONENTS,
    DEFAULT_WEIGHTS,
    compare_arrays,
    compare_files,
    parse_weights,
)

__all__ = ["COMPONENTS", "DEFAULT_WEIGHTS", "compare_arrays", "compare_files", "parse_weights"]
