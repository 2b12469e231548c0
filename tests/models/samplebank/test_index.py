"""The bank format (models.samplebank.index): write, read back, validate, replace atomically."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import soundfile as sf

from dsp.errors import InputError
from models.samplebank import index as bank_index
from models.samplebank.index import (
    BankError,
    BankIndex,
    Slice,
    bank_name,
    load_slices,
    read_index,
    strudel_map,
    write_bank,
)

SR = 48000


def make_slice(i, cls="kick", pitch_hz=None, n=480):
    return Slice(file=f"slices/{i:04d}.wav", source="in.wav", start_s=0.5 * i,
                 duration_s=n / SR, pitch_hz=pitch_hz,
                 midi_note=None if pitch_hz is None else 57.0, peak_dbfs=-6.0, rms_db=-12.5,
                 loudness_lufs=None, centroid_hz=321.5, class_=cls)


@pytest.fixture
def small_bank(tmp_path):
    """A bank of three slices written by write_bank: (dir, index, audio)."""
    rng = np.random.default_rng(0)
    slices = (make_slice(0), make_slice(1, "tonal", 220.0, 960), make_slice(2, "hat"))
    audio = [(0.1 * rng.standard_normal(round(s.duration_s * SR))).astype(np.float32)
             for s in slices]
    index = BankIndex(slices=slices)
    write_bank(tmp_path / "My Kit-2", index, audio)
    return tmp_path / "My Kit-2", index, audio


def rewrite(bank, change):
    """Load index.json, let change() edit the dict, write it back."""
    path = bank / "index.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_round_trip(small_bank):
    bank, index, audio = small_bank
    assert read_index(bank) == index
    loaded, arrays = load_slices(bank)
    assert loaded == index
    for a, b in zip(arrays, audio, strict=True):
        assert a.dtype == np.float32 and a.ndim == 1
        np.testing.assert_array_equal(a, b)
    data = json.loads((bank / "index.json").read_text())
    assert list(data) == ["format", "version", "sample_rate_hz", "slices"]
    assert (data["format"], data["version"], data["sample_rate_hz"]) == ("musicmill-bank", 1, SR)
    assert list(data["slices"][1]) == ["file", "source", "start_s", "duration_s", "pitch_hz",
                                       "midi_note", "peak_dbfs", "rms_db", "loudness_lufs",
                                       "centroid_hz", "class"]
    assert data["slices"][1]["class"] == "tonal" and data["slices"][0]["pitch_hz"] is None


def test_strudel_json(small_bank):
    bank, index, _ = small_bank
    data = json.loads((bank / "strudel.json").read_text())
    assert data == {"_base": "./", "my_kit_2_kick": ["slices/0000.wav"],
                    "my_kit_2_tonal": ["slices/0001.wav"], "my_kit_2_hat": ["slices/0002.wav"]}
    assert strudel_map(index, "x") == {"_base": "./", "x_kick": ["slices/0000.wav"],
                                       "x_tonal": ["slices/0001.wav"],
                                       "x_hat": ["slices/0002.wav"]}


@pytest.mark.parametrize(("folder", "name"), [("Drums", "drums"), ("My Kit-2", "my_kit_2"),
                                             ("808s & Co.", "808s___co_")])
def test_bank_name(tmp_path, folder, name):
    assert bank_name(tmp_path / folder) == name


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.update(format="other"), r"format: expected 'musicmill-bank'"),
    (lambda d: d.update(version=2), r"version: 2 is not supported"),
    (lambda d: d.update(version=True), r"version: True is not supported"),
    (lambda d: d.update(sample_rate_hz=0), r"sample_rate_hz: expected a positive integer"),
    (lambda d: d.update(slices={}), r"slices: expected a list"),
    (lambda d: d["slices"][1].pop("centroid_hz"), r"slices\[1\]\.centroid_hz: missing"),
    (lambda d: d["slices"][0].update(peak_dbfs="loud"), r"slices\[0\]\.peak_dbfs: expected a"),
    (lambda d: d["slices"][0].update(rms_db=True), r"slices\[0\]\.rms_db: expected a number"),
    (lambda d: d["slices"][0].update(duration_s=0), r"slices\[0\]\.duration_s: expected a nu"),
    (lambda d: d["slices"][0].update(pitch_hz=None, midi_note=None, peak_dbfs=None),
     r"slices\[0\]\.peak_dbfs: expected a number, got None"),
    (lambda d: d["slices"][2].update({"class": "cowbell"}), r"slices\[2\]\.class: expected one"),
    (lambda d: d["slices"][1].update(midi_note=None), r"slices\[1\]\.midi_note: must be null"),
    (lambda d: d["slices"][0].update(file="../x.wav"), r"slices\[0\]\.file: '\.\./x\.wav' is no"),
    (lambda d: d["slices"][0].update(file="/etc/passwd"), r"slices\[0\]\.file: '/etc/passwd'"),
    (lambda d: d["slices"][0].update(file="slices/9999.wav"), r"slices\[0\]\.file: .*no such f"),
    (lambda d: d["slices"][2].update(file="slices/0000.wav"), r"slices\[2\]\.file: .*listed tw"),
])
def test_invalid_index_names_bank_and_field(small_bank, change, message):
    bank, _, _ = small_bank
    rewrite(bank, change)
    with pytest.raises(BankError, match=message) as info:
        read_index(bank)
    assert str(bank) in str(info.value)
    assert isinstance(info.value, InputError)  # the CLI prints it as one line, exit 2


def test_unknown_keys_are_ignored(small_bank):
    bank, index, _ = small_bank
    rewrite(bank, lambda d: (d.update(comment="x"), d["slices"][0].update(tempo_bpm=120)))
    assert read_index(bank) == index


def test_unreadable_banks(tmp_path):
    with pytest.raises(BankError, match="no such directory"):
        read_index(tmp_path / "missing")
    with pytest.raises(BankError, match=r"no index\.json"):
        read_index(tmp_path)
    (tmp_path / "index.json").write_text("{not json")
    with pytest.raises(BankError, match=r"index\.json: not valid JSON"):
        read_index(tmp_path)


def test_load_slices_checks_the_audio(small_bank):
    bank, index, _ = small_bank
    path = bank / index.slices[0].file
    sf.write(path, np.zeros((480, 2), np.float32), SR, subtype="FLOAT")
    with pytest.raises(BankError, match=r"slices\[0\]\.file 'slices/0000\.wav': has 2 channels"):
        load_slices(bank)
    sf.write(path, np.zeros(480, np.float32), 44100, subtype="FLOAT")
    with pytest.raises(BankError, match="is 44100 Hz, the index says 48000 Hz"):
        load_slices(bank)
    sf.write(path, np.zeros(470, np.float32), SR, subtype="FLOAT")
    with pytest.raises(BankError, match="has 470 frames"):
        load_slices(bank)
    path.write_text("not audio")
    with pytest.raises(BankError, match="not a readable audio file"):
        load_slices(bank)


def test_refuses_a_non_empty_folder_and_keeps_it(small_bank):
    bank, index, audio = small_bank
    before = {p: p.read_bytes() for p in bank.rglob("*") if p.is_file()}
    with pytest.raises(BankError, match="not empty"):
        write_bank(bank, index, audio)
    assert {p: p.read_bytes() for p in bank.rglob("*") if p.is_file()} == before


def test_force_replaces_a_bank_but_never_another_folder(small_bank, tmp_path):
    bank, index, audio = small_bank
    one = BankIndex(slices=index.slices[:1])
    write_bank(bank, one, audio[:1], force=True)
    assert read_index(bank) == one
    assert sorted(p.name for p in (bank / "slices").iterdir()) == ["0000.wav"]
    project = tmp_path / "project"
    project.mkdir()
    (project / "notes.txt").write_text("keep me")
    with pytest.raises(BankError, match="not a sample bank"):
        write_bank(project, one, audio[:1], force=True)
    assert (project / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["My Kit-2", "project"]


def test_empty_folder_is_filled_in_place(tmp_path):
    (tmp_path / "b").mkdir()
    inode = os.stat(tmp_path / "b").st_ino  # kept: it may be the shell's working directory
    write_bank(tmp_path / "b", BankIndex(slices=(make_slice(0),)), [np.zeros(480, np.float32)])
    assert len(read_index(tmp_path / "b").slices) == 1
    assert os.stat(tmp_path / "b").st_ino == inode
    assert entries_of(tmp_path) == ["b"]


def test_new_folder_gets_the_usual_mode(tmp_path):
    write_bank(tmp_path / "b", BankIndex(slices=(make_slice(0),)), [np.zeros(480, np.float32)])
    assert os.stat(tmp_path / "b").st_mode & 0o777 != 0o700  # not mkdtemp's private mode


def test_failure_filling_an_empty_folder_empties_it_again(tmp_path, monkeypatch):
    (tmp_path / "b").mkdir()
    real_rename = os.rename

    def failing_rename(src, dst):
        if str(dst).endswith("index.json"):
            raise OSError(28, "No space left on device")
        return real_rename(src, dst)

    monkeypatch.setattr(bank_index.os, "rename", failing_rename)
    with pytest.raises(BankError, match="b: cannot write the bank"):
        write_bank(tmp_path / "b", BankIndex(slices=(make_slice(0),)),
                   [np.zeros(480, np.float32)])
    assert entries_of(tmp_path) == ["b"] and entries_of(tmp_path / "b") == []


def entries_of(folder):
    return sorted(p.name for p in folder.iterdir())


def test_failure_leaves_nothing_behind(small_bank, tmp_path, monkeypatch):
    bank, index, audio = small_bank
    before = {p: p.read_bytes() for p in bank.rglob("*") if p.is_file()}
    calls = []

    def failing_write(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise OSError("disk full")
        return sf.write(*args, **kwargs)

    monkeypatch.setattr(bank_index.sf, "write", failing_write)
    with pytest.raises(OSError, match="disk full"):
        write_bank(tmp_path / "new", index, audio)
    with pytest.raises(OSError, match="disk full"):
        calls.clear()
        write_bank(bank, index, audio, force=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["My Kit-2"]  # no temp folders
    assert {p: p.read_bytes() for p in bank.rglob("*") if p.is_file()} == before


def test_missing_parent_and_file_target(tmp_path):
    one = BankIndex(slices=(make_slice(0),))
    with pytest.raises(BankError, match="no such directory"):
        write_bank(tmp_path / "a" / "b", one, [np.zeros(480, np.float32)])
    (tmp_path / "f").write_text("x")
    with pytest.raises(BankError, match="exists and is not a directory"):
        write_bank(tmp_path / "f", one, [np.zeros(480, np.float32)], force=True)
