"""The Continuo representation: exact .cont round trip, errors that name the field, MPE MIDI
export with a channel per note and import back within the file's steps."""

from __future__ import annotations

import json

import mido
import numpy as np
import pytest

from engine.cli import main
from models.continuo import mpe
from models.continuo.document import ContError, Document, Note, Stream, load, save


def _doc() -> Document:
    lead = Stream("lead", "violin", [
        Note(0.5, 1.5, [(0.5, 60.25), (1.0, 62.0), (1.4, 61.9)], 0.7, [(0.5, 0.5), (1.2, 0.9)],
             "slide"),
        Note(1.6, 2.0, [(1.6, 64.013)], 0.5)])
    keys = Stream("keys", "piano", [Note(0.0, 2.0, [(0.0, 48.0)], 0.6),
                                    Note(0.5, 2.5, [(0.5, 52.0)], 0.6),
                                    Note(0.5, 2.5, [(0.5, 55.0)], 0.6)])
    return Document([lead, keys])


def test_cont_round_trip_is_exact(tmp_path):
    doc = _doc()
    save(doc, tmp_path / "a.cont")
    assert load(tmp_path / "a.cont") == doc
    assert json.loads((tmp_path / "a.cont").read_text())["schema_version"] == 1


def test_curves_interpolate_between_breakpoints():
    n = _doc().streams[0].notes[0]
    assert n.pitch_at(0.75) == pytest.approx(61.125)
    assert n.pitch_at(0.1) == 60.25 and n.pitch_at(1.5) == 61.9
    assert n.level_at(0.85) == pytest.approx(0.7)
    assert _doc().streams[1].notes[0].level_at(1.0) == 0.6  # no curve: the velocity


@pytest.mark.parametrize("edit, field", [
    (lambda d: d.update(schema_version=2), "schema_version: 2 is newer"),
    (lambda d: d["streams"][0].update(instrument="banjo"), "streams[0].instrument"),
    (lambda d: d["streams"][0]["notes"][0].update(offset_s=0.1), "streams[0].notes[0].offset_s"),
    (lambda d: d["streams"][0]["notes"][0]["pitch"][1].__setitem__(0, 0.2),
     "streams[0].notes[0].pitch[1]"),
    (lambda d: d["streams"][0]["notes"][0].update(velocity="loud"), "notes[0].velocity"),
    (lambda d: d["streams"][1]["notes"][0]["pitch"].append([1.0, 50.0]),
     "a piano note holds one pitch"),
    (lambda d: d["streams"][0]["notes"][1].update(onset_s=1.2, offset_s=1.8),
     "streams[0].notes[1].onset_s: overlaps"),
    (lambda d: d["streams"][0]["notes"][0].update(articulation="wobble"), "articulation"),
    (lambda d: d["streams"][0]["notes"][0].update(colour=1), "colour: unknown field"),
])
def test_a_corrupt_document_names_the_field(tmp_path, edit, field):
    data = _doc().as_json()
    edit(data)
    path = tmp_path / "bad.cont"
    path.write_text(json.dumps(data))
    with pytest.raises(ContError, match=f"bad.cont: .*{__import__('re').escape(field)}"):
        load(path)


def test_mpe_export_gives_each_sounding_note_its_own_channel(tmp_path):
    mpe.write_mpe(_doc(), tmp_path / "a.mid")
    mid = mido.MidiFile(tmp_path / "a.mid")
    msgs = [m for track in mid.tracks for m in track if not m.is_meta]
    # MPE configuration on the master channel, bend range 48 on every member channel
    cc = [(m.channel, m.control, m.value) for m in msgs if m.type == "control_change"]
    assert (0, 100, 6) in cc and (0, 6, 15) in cc
    assert all((ch, 6, 48) in cc for ch in range(1, 16))
    ons = [m for m in msgs if m.type == "note_on"]
    assert len({m.channel for m in ons}) == 5 and all(m.channel >= 1 for m in ons)


def test_mpe_round_trip_within_the_files_steps(tmp_path):
    doc = _doc()
    mpe.write_mpe(doc, tmp_path / "a.mid")
    back = mpe.read_mpe(tmp_path / "a.mid")
    assert [(s.name, s.instrument) for s in back.streams] == [("lead", "violin"),
                                                              ("keys", "piano")]
    for s0, s1 in zip(doc.streams, back.streams, strict=True):
        for a, b in zip(s0.notes, s1.notes, strict=True):
            assert abs(a.onset_s - b.onset_s) <= 1 / 1920
            assert abs(a.offset_s - b.offset_s) <= 1 / 1920
            assert abs(a.velocity - b.velocity) <= 0.5 / 127
            assert len(a.pitch) == len(b.pitch) and len(a.dynamics) == len(b.dynamics)
            for (t0, p0), (t1, p1) in zip(a.pitch, b.pitch, strict=True):
                assert abs(t0 - t1) <= 1 / 1920 and abs(p0 - p1) <= 0.5 * 48 / 8192 + 1e-9
            for (_, v0), (_, v1) in zip(a.dynamics, b.dynamics, strict=True):
                assert abs(v0 - v1) <= 0.5 / 127


def test_not_a_midi_file_is_a_clear_error(tmp_path):
    path = tmp_path / "x.mid"
    path.write_bytes(b"not midi")
    with pytest.raises(ContError, match="x.mid: not a readable MIDI file"):
        mpe.read_mpe(path)


def test_transcribe_writes_a_cont_document(tmp_path, capsys):
    import soundfile as sf

    sr = 48000
    t = np.arange(sr) / sr
    f = 220.0 * 2 ** (0.5 / 12 * np.sin(2 * np.pi * 5 * t))  # vibrato around A3
    x = 0.3 * np.sin(2 * np.pi * np.cumsum(f) / sr)
    sf.write(tmp_path / "a.wav", x.astype(np.float32), sr)
    assert main(["transcribe", str(tmp_path / "a.wav"), "-o", str(tmp_path / "a.cont"),
                 "--transcriber", "yin"]) == 0
    capsys.readouterr()
    doc = load(tmp_path / "a.cont")
    assert doc.streams[0].instrument == "voice" and doc.streams[0].notes
    pitches = [p for n in doc.streams[0].notes for _, p in n.pitch]
    assert abs(np.median(pitches) - 57.0) < 0.3 and max(pitches) - min(pitches) > 0.3
