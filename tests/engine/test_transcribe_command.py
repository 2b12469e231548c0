"""``musicmill transcribe``: a recording to a MIDI file, a .cont document and JSON with
either transcriber; a .cont to MPE MIDI; bad input."""

from __future__ import annotations

import json

import soundfile as sf

from engine.cli import main
from models.continuo import corpus
from models.continuo.document import load
from models.continuo.mpe import read_mpe
from models.continuo.notes import read_midi


def test_a_sung_file_becomes_a_midi_file_and_json(tmp_path, capsys):
    ph = corpus.phrase(4, "heldout", n_notes=5)
    wav, mid = tmp_path / "sung.wav", tmp_path / "sung.mid"
    sf.write(wav, ph.audio, ph.sample_rate_hz)
    assert main(["transcribe", str(wav), "-o", str(mid), "--json", "--transcriber", "yin"]) == 0
    notes = json.loads(capsys.readouterr().out)["notes"]
    assert len(notes) == 5
    back = read_midi(mid)
    assert [round(n.pitch) for n in back] == [round(n["pitch"]) for n in notes] == [
        round(n.pitch) for n in ph.notes]


def test_bad_input_exits_2_naming_the_problem_and_writes_nothing(tmp_path, capsys):
    junk = tmp_path / "junk.wav"
    junk.write_text("not audio")
    out = tmp_path / "out.mid"
    assert main(["transcribe", str(junk), "-o", str(out)]) == 2
    assert "junk.wav" in capsys.readouterr().err
    assert main(["transcribe", str(junk), "--floor-db", "12"]) == 2
    assert "--floor-db" in capsys.readouterr().err
    assert main(["transcribe"]) == 2
    assert not out.exists()


def test_the_neural_transcriber_writes_mpe_and_a_document_equal_in_notes(tmp_path, capsys):
    ph = corpus.phrase(4, "heldout", n_notes=5)
    wav = tmp_path / "sung.wav"
    sf.write(wav, ph.audio, ph.sample_rate_hz)
    assert main(["transcribe", str(wav), "-o", str(tmp_path / "a.mid"), "--instrument",
                 "voice", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["transcriber"] == "continuo" and out["instrument"] == "voice"
    heard = [round(n["pitch"]) for n in out["notes"]]
    sung = iter(heard)  # every sung note heard, in order; at most one extra (the phrase's
    assert all(any(h == round(n.pitch) for h in sung) for n in ph.notes)  # release, measured)
    assert len(heard) <= len(ph.notes) + 1
    assert main(["transcribe", str(wav), "-o", str(tmp_path / "a.cont"), "--instrument",
                 "voice"]) == 0
    doc = load(tmp_path / "a.cont")
    assert doc.streams[0].instrument == "voice" and len(doc.streams[0].notes) == len(heard)
    # the document converts to MPE MIDI, and the MIDI reads back to the same notes
    assert main(["transcribe", str(tmp_path / "a.cont"), "-o", str(tmp_path / "b.mid")]) == 0
    back = read_mpe(tmp_path / "b.mid").streams[0].notes
    assert [round(n.pitch[0][1]) for n in back] == heard
    assert [round(n.pitch[0][1]) for n in read_mpe(tmp_path / "a.mid").streams[0].notes] == heard


def test_unknown_instruments_and_corrupt_documents_exit_2_naming_them(tmp_path, capsys):
    ph = corpus.phrase(1, "heldout", n_notes=2)
    wav, out = tmp_path / "a.wav", tmp_path / "out.mid"
    sf.write(wav, ph.audio, ph.sample_rate_hz)
    assert main(["transcribe", str(wav), "--instrument", "harp", "-o", str(out)]) == 2
    assert "harp" in capsys.readouterr().err
    assert main(["transcribe", str(wav), "--transcriber", "yin", "--instrument", "piano"]) == 2
    assert "yin" in capsys.readouterr().err
    bad = tmp_path / "bad.cont"
    bad.write_text('{"schema_version": 1, "streams": [{"name": "a", "instrument": "voice",'
                   ' "notes": [{"onset_s": 1, "offset_s": 0.5, "velocity": 1, "pitch": [[1, 60]]'
                   '}]}]}')
    assert main(["transcribe", str(bad), "-o", str(out)]) == 2
    assert "streams[0].notes[0].offset_s" in capsys.readouterr().err
    assert main(["transcribe", str(bad)]) == 2  # a document converts to MIDI only
    assert "-o OUT.mid" in capsys.readouterr().err
    assert not out.exists()
