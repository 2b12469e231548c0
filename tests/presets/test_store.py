"""User preset store: round trip, listing, names, read-only factory, atomic saves."""

from __future__ import annotations

import json
import os

import pytest

from presets import store as store_module
from presets.factory_presets import FACTORY_NAMES, load_factory
from presets.registry import REGISTRY
from presets.schema import (
    APP_VERSION,
    LfoRoute,
    MacroAssignment,
    Preset,
    PresetError,
    to_doc,
)
from presets.store import PresetStore, user_preset_dir


def _rich(name: str = "My Set") -> Preset:
    """A preset using every part of the schema."""
    params = load_factory("Intense").full_params()
    params["master_gain_db"] = -4.25
    return Preset(
        name=name, description="late night, ünïcödé", params=params,
        macros=[MacroAssignment("energy", "comp_ratio", 1.5, 6.0, "log"),
                MacroAssignment("user_2", "eq_mid_freq_hz", 300.0, 3000.0, "exp")],
        lfo_routes=[LfoRoute(2, "master_width", -0.25), LfoRoute(4, "macro_chaos", 1.0)],
        midi={"schema_version": 1, "mappings": [{"cc": 7, "target": "master_gain_db"}]},
        pattern_memory={"verse": [[0.1, -2.5e-7, 3.0]], "drop": [[1.0, 2.0, 3.0]] * 4},
        model="drums-v2")


@pytest.fixture
def store():
    return PresetStore()


def test_the_store_lives_under_the_data_dir(data_dir, store):
    assert user_preset_dir() == data_dir / "presets"
    assert store.directory == data_dir / "presets"
    path = store.save(_rich())
    assert path == data_dir / "presets" / "My Set.json"


def test_save_then_load_is_exact(store):
    preset = _rich()
    store.save(preset)
    loaded = store.load("My Set")
    assert to_doc(loaded) == {**to_doc(preset), "app_version": APP_VERSION}
    assert loaded.params == preset.params
    # and the file holds every registry parameter
    doc = json.loads((store.directory / "My Set.json").read_text(encoding="utf-8"))
    assert list(doc["params"]) == [p.id for p in REGISTRY]


def test_names_are_case_insensitive_and_keep_one_file(store):
    store.save(_rich("Foo"))
    assert store.load("foo").name == "Foo"
    store.save(_rich("foo"))
    files = sorted(p.name for p in store.directory.iterdir())
    assert files == ["foo.json"]


def test_list_marks_factory_and_user_presets(store):
    store.save(_rich("b-side"))
    store.save(_rich("Alpha"))
    (store.directory / "Broken.json").write_text("{", encoding="utf-8")
    (store.directory / ".Alpha.x1.part.json").write_text("{", encoding="utf-8")  # a crash
    rows = store.list_presets()
    assert [(r.name, r.factory) for r in rows] == [
        *((n, True) for n in FACTORY_NAMES), ("Alpha", False), ("b-side", False),
        ("Broken", False)]
    assert rows[-1].error and "not valid JSON" in rows[-1].error
    assert rows[-2].description == "late night, ünïcödé"


def test_factory_presets_are_read_only(store):
    for action in (lambda: store.save(_rich("Calm")), lambda: store.save(_rich("calm")),
                   lambda: store.delete("Calm"), lambda: store.rename("Calm", "Mine"),
                   lambda: store.rename("x", "Chaotic")):
        with pytest.raises(PresetError, match="factory preset and read-only"):
            action()
    # a user copy under another name is fine
    copy = load_factory("Calm")
    store.save(copy, "My Calm")
    assert to_doc(store.load("My Calm"))["params"] == to_doc(copy)["params"]
    assert store.load("CALM").description == copy.description


@pytest.mark.parametrize("name", ["", "../evil", "a/b", "a\\b", ".x", "x" * 100, "tab\there"])
def test_bad_names_are_refused_before_anything_is_written(store, name):
    with pytest.raises(PresetError, match="invalid preset name"):
        store.save(_rich(), name)
    assert not store.directory.exists() or list(store.directory.iterdir()) == []


def test_rename_and_delete(store):
    store.save(_rich("Old"))
    store.save(_rich("Other"))
    with pytest.raises(PresetError, match="already exists"):
        store.rename("Old", "other")
    store.rename("Old", "New")
    assert store.load("New").name == "New"
    assert json.loads((store.directory / "New.json").read_text())["name"] == "New"
    with pytest.raises(PresetError, match="unknown preset 'Old'"):
        store.load("Old")
    store.rename("New", "NEW")  # a change of case only
    assert sorted(p.name for p in store.directory.iterdir()) == ["NEW.json", "Other.json"]
    store.delete("new")
    assert [r.name for r in store.list_presets() if not r.factory] == ["Other"]
    with pytest.raises(PresetError, match="no user preset named 'New'"):
        store.delete("New")
    with pytest.raises(PresetError, match="no user preset named 'Gone'"):
        store.rename("Gone", "Back")


def test_export_and_import(store, tmp_path):
    store.save(_rich())
    out = store.export("My Set", tmp_path)
    assert out == tmp_path / "My Set.json"
    with pytest.raises(PresetError, match="already exists"):
        store.export("My Set", out)
    store.export("Chaotic", out, force=True)  # factory presets export too
    assert json.loads(out.read_text())["name"] == "Chaotic"

    store.export("My Set", out, force=True)
    with pytest.raises(PresetError, match="already exists"):
        store.import_file(out)
    with pytest.raises(PresetError, match="factory preset and read-only"):
        store.import_file(out, name="Balanced", force=True)
    preset, warnings = store.import_file(out, name="Copy")
    assert warnings == []
    assert to_doc(preset) == {**to_doc(store.load("My Set")), "name": "Copy"}
    store.import_file(out, force=True)  # replaces My Set


def test_import_validates(store, tmp_path):
    bad = tmp_path / "Bad.json"
    doc = to_doc(_rich("Bad"))
    doc["params"]["master_gain_db"] = 40
    doc["colour"] = "red"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(PresetError, match=r"Bad.json: unknown key 'colour'"):
        store.import_file(bad)
    assert not (store.directory / "Bad.json").exists()
    preset, warnings = store.import_file(bad, lenient=True)
    assert len(warnings) == 2
    assert preset.params["master_gain_db"] == 0.0  # the default
    assert store.load("Bad").params["input_gain_db"] == _rich().params["input_gain_db"]
    with pytest.raises(PresetError, match="no such file"):
        store.import_file(tmp_path / "missing.json")
    (tmp_path / "empty.json").write_text("")
    with pytest.raises(PresetError, match="file is empty"):
        store.import_file(tmp_path / "empty.json")


def test_a_user_file_that_breaks_later_names_itself(store):
    store.save(_rich("Foo"))
    path = store.directory / "Foo.json"
    path.write_text(path.read_text().replace('"master_width": ', '"master_width": 9, "x": '))
    with pytest.raises(PresetError, match=r"^user/Foo.json: "):
        store.load("Foo")
    preset, warnings = store.load_lenient("Foo")
    assert preset.name == "Foo" and warnings


def _failing_fsync(fd):
    raise OSError(28, "No space left on device")


def test_a_failed_save_keeps_the_old_file(store, monkeypatch):
    path = store.save(_rich("Keep"))
    before = path.read_bytes()
    changed = _rich("Keep")
    changed.params["master_gain_db"] = -20.0
    # the new text is fully written to the temp file, then the disk "fills up"
    monkeypatch.setattr(store_module.os, "fsync", _failing_fsync)
    with pytest.raises(OSError, match="No space left"):
        store.save(changed)
    assert path.read_bytes() == before
    assert sorted(p.name for p in store.directory.iterdir()) == ["Keep.json"]  # no temp left
    monkeypatch.undo()
    assert store.load("Keep").params["master_gain_db"] == -4.25


def test_a_crash_between_write_and_rename_keeps_the_old_file(store, monkeypatch):
    path = store.save(_rich("Keep"))
    before = path.read_bytes()
    real_replace = os.replace

    def crash(src, dst):
        raise KeyboardInterrupt  # as if the process died right before the rename

    monkeypatch.setattr(os, "replace", crash)
    changed = _rich("Keep")
    changed.params["master_gain_db"] = -20.0
    with pytest.raises(KeyboardInterrupt):
        store.save(changed)
    monkeypatch.setattr(os, "replace", real_replace)
    assert path.read_bytes() == before
    assert [r.name for r in store.list_presets() if not r.factory] == ["Keep"]


def test_an_unserialisable_preset_writes_nothing(store):
    path = store.save(_rich("Keep"))
    before = path.read_bytes()
    broken = _rich("Keep")
    broken.pattern_memory["x"] = [[float("nan")]]
    with pytest.raises(ValueError):
        store.save(broken)
    assert path.read_bytes() == before
