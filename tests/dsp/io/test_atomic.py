"""atomic_path: complete files only, with the mode any other new file would get."""

from __future__ import annotations

import os

import pytest

from dsp.io.atomic import atomic_path


def test_the_finished_file_has_the_umask_mode_and_no_temp_is_left(tmp_path):
    umask = os.umask(0o027)
    try:
        with atomic_path(tmp_path / "out.txt") as tmp:
            tmp.write_text("done")
    finally:
        os.umask(umask)
    path = tmp_path / "out.txt"
    assert path.read_text() == "done"
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_a_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "out.txt") as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []
