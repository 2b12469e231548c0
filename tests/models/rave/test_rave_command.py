import argparse
import json

import pytest

from engine import cli
from engine.commands import rave

from .conftest import fixture_path


@pytest.fixture
def main(monkeypatch):
    """engine.cli.main with only the rave subcommand registered.

    Registering every command imports all of them (seconds of numba and library imports);
    the exit-code and one-line-error handling under test is cli.main's own.
    """
    monkeypatch.setattr(cli, "COMMANDS", ("rave",))
    return cli.main


def test_info_json_keys_and_values(main, capsys):
    assert main(["rave", "info", str(fixture_path("rave_v2_tiny_causal_streaming.ts")),
                 "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert list(info) == ["sample_rate", "channels", "latent_dims", "full_latent_dims",
                          "compression_ratio", "streaming", "methods", "causal",
                          "delay_samples"]
    assert info["sample_rate"] == 44100 and info["latent_dims"] == 16
    assert info["compression_ratio"] == 2048 and info["streaming"] is True
    assert info["causal"] is True and info["delay_samples"] > 0


def test_info_text_warns_for_non_streaming(main, capsys):
    assert main(["rave", "info", str(fixture_path("rave_v2_tiny.ts"))]) == 0
    out = capsys.readouterr().out
    assert "streaming" in out and "False" in out
    assert "warning:" in out and "clicks" in out


@pytest.mark.parametrize("content", [None, b"RIFF....WAVEfmt "])
def test_bad_model_is_exit_2_with_one_line(main, capsys, tmp_path, content):
    path = tmp_path / "bad.ts"
    if content is not None:
        path.write_bytes(content)
    assert main(["rave", "info", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("musicmill: error:") and "bad.ts" in err
    assert err.count("\n") == 1


def test_registers_on_its_own_parser():
    parser = argparse.ArgumentParser()
    rave.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["rave", "info", "m.ts", "--json"])
    assert args.func is rave.run_info and args.json
