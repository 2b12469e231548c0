"""``musicmill preset ...``: each action, and one-line errors with exit status 2."""

from __future__ import annotations

import argparse
import json

import pytest

from engine import cli
from engine.commands import preset as command
from engine.errors import UsageError
from presets.factory_presets import FACTORY_NAMES, load_factory
from presets.registry import REGISTRY
from presets.schema import to_doc
from presets.store import PresetStore


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="musicmill")
    command.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["preset", *argv])
    return args.func(args)


@pytest.fixture
def main(monkeypatch):
    """engine.cli.main with the preset command registered (the composition root's job)."""
    monkeypatch.setattr(cli, "COMMANDS", (*cli.COMMANDS, "preset")
                        if "preset" not in cli.COMMANDS else cli.COMMANDS)
    return cli.main


def test_list_shows_factory_then_user(capsys):
    assert run_cli("save", "Mine", "--base", "Calm", "--description", "my take") == 0
    capsys.readouterr()
    assert run_cli("list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [*FACTORY_NAMES, "Mine"]
    assert "factory" in lines[0] and "user" in lines[-1] and "my take" in lines[-1]
    assert run_cli("list", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[-1] == {"name": "Mine", "factory": False, "description": "my take"}


def test_show_prints_the_document_or_a_summary(capsys):
    assert run_cli("show", "chaotic", "--json") == 0
    assert json.loads(capsys.readouterr().out) == to_doc(load_factory("Chaotic"))
    assert run_cli("show", "Calm") == 0
    out = capsys.readouterr().out
    assert out.startswith("Calm (factory preset")
    assert "energy   -> input_gain_db" in out and "LFO 1 -> stem_worker_pan" in out
    assert all(p.id in out for p in REGISTRY)


def test_save_with_set_values(capsys):
    assert run_cli("save", "Quiet", "--set", "master_gain_db=-12", "--set", "tempo_bpm=90") == 0
    assert "saved user preset Quiet" in capsys.readouterr().out
    preset = PresetStore().load("Quiet")
    assert preset.params["master_gain_db"] == -12.0 and preset.params["tempo_bpm"] == 90.0
    assert preset.macros == []
    assert run_cli("save", "Quiet", "--base", "Intense") == 0
    assert "replaced user preset Quiet" in capsys.readouterr().out
    assert PresetStore().load("Quiet").macros == load_factory("Intense").macros


def test_save_from_file_rename_export_import_delete(tmp_path, capsys):
    src = tmp_path / "in.json"
    src.write_text(json.dumps({"schema_version": 1, "params": {"master_width": 1.5}}))
    assert run_cli("save", "Wide", "--from-file", str(src), "--set", "master_gain_db=-3") == 0
    wide = PresetStore().load("Wide")
    assert (wide.params["master_width"], wide.params["master_gain_db"]) == (1.5, -3.0)
    assert run_cli("rename", "Wide", "Wider") == 0
    out = tmp_path / "exported.json"
    assert run_cli("export", "Wider", str(out)) == 0
    assert json.loads(out.read_text())["name"] == "Wider"
    assert run_cli("import", str(out), "--name", "Again") == 0
    assert run_cli("delete", "Wider") == 0
    capsys.readouterr()
    assert run_cli("list") == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()][-1] == "Again"


def test_lenient_import_warns_on_stderr(tmp_path, capsys):
    src = tmp_path / "Odd.json"
    src.write_text(json.dumps({"schema_version": 1, "colour": "red",
                               "params": {"master_gain_db": 40, "master_width": 0.5}}))
    assert run_cli("import", str(src), "--lenient") == 0
    captured = capsys.readouterr()
    assert "imported" in captured.out and "Odd" in captured.out
    assert captured.err.count("musicmill: warning:") == 2
    assert PresetStore().load("Odd").params["master_width"] == 0.5


def _errors(tmp_path):
    bad = tmp_path / "Bad.json"
    bad.write_text('{"schema_version": 1,\n "params": {"master_gain_db": 40}}')
    broken = tmp_path / "Broken.json"
    broken.write_text('{"schema_version": 1,\n "params": {')
    newer = tmp_path / "Newer.json"
    newer.write_text('{"schema_version": 3}')
    return [
        (["import", str(bad)], f"{bad}: params.master_gain_db=40 is out of range [-80, 12] dB"),
        (["import", str(broken)], f"{broken}: not valid JSON (line 2 column"),
        (["import", str(newer)], f"{newer}: schema_version 3 is newer than this app"),
        (["import", str(tmp_path / "nope.json")], "nope.json: no such file"),
        (["save", "X", "--from-file", str(bad)], "Bad.json: params.master_gain_db=40"),
        (["save", "Calm"], "Calm is a factory preset and read-only"),
        (["save", "a/b"], "invalid preset name: name 'a/b' contains '/'"),
        (["save", "X", "--set", "warp=1"], "unknown parameter 'warp'"),
        (["save", "X", "--set", "master_gain_db=40"], "master_gain_db=40 is out of range"),
        (["save", "X", "--set", "master_gain_db=loud"], "'loud' is not a number"),
        (["save", "X", "--set", "master_gain_db"], "expected PARAM=VALUE"),
        (["show", "Nothing"], "unknown preset 'Nothing'"),
        (["delete", "Balanced"], "Balanced is a factory preset and read-only"),
        (["rename", "Nothing", "Else"], "no user preset named 'Nothing'"),
        (["export", "Calm", str(bad)], "already exists (use --force"),
    ]


def test_errors_are_one_line_with_exit_2(tmp_path, capsys, main):
    for argv, message in _errors(tmp_path):
        code = main(["preset", *argv])
        err = capsys.readouterr().err
        assert code == 2, argv
        assert message in err, (argv, err)
        assert err.startswith("musicmill: error: ") and err.count("\n") == 1, err


def test_the_errors_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="unknown preset 'Nothing'"):
        run_cli("show", "Nothing")
