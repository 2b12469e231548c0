"""``musicmill transcribe``: a sung file to a MIDI file and JSON; bad input."""

from __future__ import annotations

import json

import soundfile as sf

from engine.cli import main
from models.continuo import corpus
from models.continuo.notes import read_midi


def test_a_sung_file_becomes_a_midi_file_and_json(tmp_path, capsys):
    ph = corpus.phrase(4, "heldout", n_notes=5)
    wav, mid = tmp_path / "sung.wav", tmp_path / "sung.mid"
    sf.write(wav, ph.audio, ph.sample_rate_hz)
    assert main(["transcribe", str(wav), "-o", str(mid), "--json"]) == 0
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
