"""Write a file under a temporary name and rename it into place when complete."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from dsp.errors import InputError


def _umask() -> int:
    """The process umask, read without setting it (os.umask would race other threads)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022


@contextlib.contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temp path beside ``path``; on success rename it over ``path``, else delete it.

    The temp name keeps the suffix so format-by-extension writers (soundfile) still work.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".part{path.suffix}",
                               dir=path.parent if str(path.parent) else ".")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp makes the file private (0600); the finished file gets the usual mode
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


class OutputPathError(InputError):
    """An output path that must not be written: an input, a folder, a wrong extension."""


def check_target(dst: Path | str, inputs: Sequence[Path | str] = (),
                 suffixes: Sequence[str] = ()) -> Path:
    """``dst`` checked before any work is done: OutputPathError if it is one of ``inputs``,
    a folder, not one of ``suffixes`` (when given) or in a folder that does not exist."""
    dst = Path(dst)
    for src in inputs:
        if dst.exists() and Path(src).exists() and dst.resolve() == Path(src).resolve():
            raise OutputPathError(f"{dst}: is also an input; write the output elsewhere")
    if dst.is_dir():
        raise OutputPathError(f"{dst}: is a directory; give the output file's name")
    if suffixes and dst.suffix.lower() not in suffixes:
        raise OutputPathError(f"{dst}: output must be {' or '.join(suffixes)}")
    if not dst.parent.exists():
        raise OutputPathError(f"{dst.parent}: output directory does not exist")
    return dst
