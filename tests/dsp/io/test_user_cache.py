"""dsp.io.user_cache: the cache of exported graphs keeps within its budget, least recently
used out first."""

from __future__ import annotations

import os

from dsp.io.user_cache import prune, touch, user_cache_dir


def _entry(folder, name: str, size: int, mtime: float):
    entry = folder / name
    (entry / "sub").mkdir(parents=True)
    (entry / "sub" / "graph.onnx").write_bytes(b"x" * size)
    os.utime(entry, (mtime, mtime))
    return entry


def test_the_least_recently_used_go_first_until_the_rest_fit(tmp_path):
    a = _entry(tmp_path, "a", 400, 1000.0)
    b = _entry(tmp_path, "b", 400, 2000.0)
    c = _entry(tmp_path, "c", 400, 3000.0)
    touch(a)  # used just now: the newest
    removed = prune(tmp_path, budget_bytes=900)
    assert removed == [b]
    assert a.exists() and c.exists() and not b.exists()
    assert prune(tmp_path, budget_bytes=900) == []  # within budget: nothing more


def test_the_entry_just_made_and_the_newest_stay_even_over_budget(tmp_path):
    old = _entry(tmp_path, "old", 500, 1000.0)
    new = _entry(tmp_path, "new", 500, 2000.0)
    assert prune(tmp_path, budget_bytes=100, keep=old) == []  # new is the newest, old kept
    assert old.exists() and new.exists()
    assert prune(tmp_path, budget_bytes=100) == [old]


def test_a_missing_cache_is_nothing_to_prune(tmp_path):
    assert prune(tmp_path / "never-made") == []
    touch(tmp_path / "never-made")  # no error either


def test_the_cache_lives_under_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert user_cache_dir("rave-onnx", "abc") == tmp_path / "musicmill" / "rave-onnx" / "abc"
