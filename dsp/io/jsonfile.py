"""JSON in and out: bounded reads with one-line errors, numbers JSON can hold."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from dsp.errors import InputError

# A preset or mapping file is a few kB; these bounds leave room for any real one and stop
# a crafted file before the parser recurses or eats the memory.
MAX_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 32


class JsonFileError(InputError, ValueError):
    """A JSON file that cannot be read: missing, too big, too deep or not JSON."""


def json_number(value: float, digits: int | None = None) -> float | None:
    """``value`` for a JSON document: None where it is not finite (JSON has no -inf or NaN),
    rounded to ``digits`` when given."""
    value = float(value)
    if not math.isfinite(value):
        return None
    return round(value, digits) if digits is not None else value


def json_safe(data: Any) -> Any:
    """``data`` with every non-finite float inside it replaced by None."""
    if isinstance(data, float):
        return json_number(data)
    if isinstance(data, dict):
        return {k: json_safe(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [json_safe(v) for v in data]
    return data


def nesting_depth(text: str) -> int:
    """How deeply ``[`` and ``{`` nest in ``text`` (brackets inside strings skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def parse_json(text: str, label: str, max_depth: int = MAX_DEPTH) -> Any:
    """``text`` parsed; JsonFileError naming ``label`` (a path) for bad or too deep JSON."""
    if nesting_depth(text) > max_depth:
        raise JsonFileError(f"{label}: JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise JsonFileError(f"{label}: not valid JSON (line {exc.lineno}, column {exc.colno}: "
                            f"{exc.msg})") from None


def read_json(path: Path | str, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON document in ``path``; JsonFileError (one line, naming the file) if it is
    missing, a folder, over ``max_bytes``, not UTF-8, not JSON or nested too deep."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise JsonFileError(f"{path}: is a directory")
        if size > max_bytes:
            raise JsonFileError(f"{path}: {size} bytes is over the {max_bytes}-byte limit")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise JsonFileError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise JsonFileError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise JsonFileError(f"{path}: {exc.strerror or exc}") from None
    return parse_json(text, str(path), max_depth)
