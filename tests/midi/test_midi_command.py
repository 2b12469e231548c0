"""``musicmill midi ports|monitor`` through its own argparse parser."""

from __future__ import annotations

import argparse
import json
import threading
import time

import pytest

from engine.commands import midi as midi_command
from engine.errors import UsageError
from midi.ports import open_output


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="musicmill")
    sub = parser.add_subparsers(dest="command", required=True)
    midi_command.register(sub)
    args = parser.parse_args(argv)
    return args.func(args)


def test_bad_arguments():
    with pytest.raises(SystemExit):
        run(["midi", "ports", "--backend", "coreaudio"])
    with pytest.raises(UsageError, match="must not be negative"):
        run(["midi", "monitor", "--backend", "jack", "--seconds", "-1"])


def test_alsa_without_a_sequencer_is_a_usage_error():
    from pathlib import Path

    if Path("/dev/snd/seq").exists():
        pytest.skip("this machine has an ALSA sequencer")
    with pytest.raises(UsageError, match="alsa"):
        run(["midi", "ports", "--backend", "alsa"])


@pytest.mark.jack
def test_ports_json(jack_server, capsys):
    with open_output("cli", virtual=True, client_name="mm-cli-src"):
        assert run(["midi", "ports", "--backend", "jack", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["backend"] == "mido.backends.rtmidi/UNIX_JACK"
    assert "mm-cli-src:cli" in info["inputs"]
    assert run(["midi", "ports"]) == 0  # auto picks jack when a server runs
    assert "backend: mido.backends.rtmidi/UNIX_JACK" in capsys.readouterr().out


@pytest.mark.jack
def test_monitor_prints_messages(jack_server, capsys):
    with open_output("cli", virtual=True, client_name="mm-cli-mon") as src:
        def later():
            time.sleep(0.3)
            src.send([0xB0, 7, 64])
            src.send([0xF8])
        sender = threading.Thread(target=later)
        sender.start()
        assert run(["midi", "monitor", "--backend", "jack", "--port", "mm-cli-mon:cli",
                    "--seconds", "0.6"]) == 0
        sender.join()
    out = capsys.readouterr().out
    assert "control_change channel=0 control=7 value=64" in out and "clock" in out
    assert "2 message(s)" in out
    with pytest.raises(UsageError, match="no MIDI port matches"):
        run(["midi", "monitor", "--backend", "jack", "--port", "nothing-like-this"])


@pytest.mark.jack
def test_learn_unlearn_and_mapping_table(jack_server, tmp_path, capsys):
    map_path = tmp_path / "map.json"
    with open_output("cli", virtual=True, client_name="mm-cli-learn") as src:
        learned = threading.Event()

        def keep_sending():
            # until learn has it: a CC sent before learn has connected to the port is lost,
            # and on a loaded host connecting can take longer than any fixed wait
            while not learned.wait(0.3):
                src.send([0xB2, 21, 100])  # CC 21 on channel 3
        sender = threading.Thread(target=keep_sending)
        sender.start()
        try:
            assert run(["midi", "learn", "master_width", "--backend", "jack", "--port",
                        "mm-cli-learn:cli", "--map", str(map_path), "--timeout", "10",
                        "--takeover", "pickup"]) == 0
        finally:
            learned.set()
            sender.join()
    saved = json.loads(map_path.read_text())
    (mapping,) = saved["mappings"]
    assert (mapping["target"], mapping["kind"], mapping["number"], mapping["channel"],
            mapping["takeover"]) == ("master_width", "cc", 21, 2, "pickup")
    capsys.readouterr()
    assert run(["midi", "mappings", "--map", str(map_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["number"] == 21
    assert run(["midi", "unlearn", "master_width", "--map", str(map_path)]) == 0
    assert json.loads(map_path.read_text())["mappings"] == []


@pytest.mark.jack
def test_learn_times_out_with_a_clear_error(jack_server, tmp_path):
    with pytest.raises(UsageError, match="no control learned for master_width \\(timeout\\)"):
        run(["midi", "learn", "master_width", "--backend", "jack", "--map",
             str(tmp_path / "m.json"), "--timeout", "0.3"])
    assert not (tmp_path / "m.json").exists()
