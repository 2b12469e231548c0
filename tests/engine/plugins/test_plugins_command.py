"""``musicmill plugins list|info``: what is installed and what a plugin's parameters are."""

from __future__ import annotations

import json

from engine.cli import main

BALANCE = "http://gareus.org/oss/lv2/balance"
ZAMVERB = "urn:zamaudio:ZamVerb"  # not lv2:hardRTCapable


def test_list_names_every_plugin_and_which_may_run_in_the_callback(capsys):
    assert main(["plugins", "list", "--json"]) == 0
    rows = {r["uri"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows[BALANCE] == {"format": "lv2", "uri": BALANCE, "name": "Stereo Balance Control",
                             "class": "Plugin", "audio_ins": 2, "audio_outs": 2,
                             "controls": 8, "realtime": True}
    assert rows[ZAMVERB]["realtime"] is False
    assert main(["plugins", "list"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[-1] == f"{len(rows)} LV2 plugins"
    assert any(line.startswith(ZAMVERB) and line.endswith("worker-only") for line in text)


def test_info_gives_each_parameter_its_range_unit_and_kind(capsys):
    assert main(["plugins", "info", BALANCE, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    params = {p["symbol"]: p for p in info["parameters"]}
    assert params["trim"] == {"symbol": "trim", "name": "Trim/Gain [dB]", "min": -20.0,
                              "max": 20.0, "default": 0.0, "unit": "dB", "kind": "linear"}
    assert params["phaseL"]["kind"] == "toggle"
    assert params["delayLeft"]["kind"] == "integer"
    assert params["unitygain"]["kind"] == "enumeration"
    assert params["unitygain"]["labels"]["Balance"] == 0.0
    assert info["realtime"] is True
    assert info["required_features"] == ["http://lv2plug.in/ns/ext/urid#map"]  # we give it


def test_info_of_something_not_installed_is_one_line_and_exit_2(capsys):
    assert main(["plugins", "info", "urn:not:a:plugin"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("musicmill: error: no LV2 plugin 'urn:not:a:plugin' is installed "
                   "(see musicmill plugins list)")
    assert main(["plugins", "info", "/nowhere/nothing.vst3"]) == 2
    assert capsys.readouterr().err.strip() == \
        "musicmill: error: /nowhere/nothing.vst3: no such VST3 plugin"


def test_run_with_a_plugin_it_cannot_host_is_one_line_exit_2_and_writes_nothing(tmp_path,
                                                                                 capsys):
    """Refused before any audio starts (no JACK needed): nothing recorded, no stats."""
    take, stats = tmp_path / "take.wav", tmp_path / "stats.json"
    for spec, words in ((f"master:{BALANCE}x", "did you mean"),
                        (f"voice:{ZAMVERB}", "worker slot"),
                        ("worker:/nonexistent/thing.vst3", "no such VST3")):
        assert main(["run", "--headless", "--seconds", "1", "--insert", "none",
                     "--plugin", spec, "--record", str(take), "--stats-json", str(stats)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and words in err, err
        assert not take.exists() and not stats.exists()
