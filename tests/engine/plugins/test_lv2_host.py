"""Real LV2 plugins (x42, ZAM; Debian packages) in the chain slots, offline: the same block
function the callback runs, so what passes here is what plays live."""

from __future__ import annotations

import numpy as np
import pytest

from engine.engine import Engine
from engine.offline.render import render_array
from engine.plugins.lv2_plugin import PluginLoadError
from engine.session.presets import apply_preset, capture
from presets import schema
from presets.factory_presets import load_factory
from presets.registry import param

BALANCE = "http://gareus.org/oss/lv2/balance"
FIL4 = "http://gareus.org/oss/lv2/fil4#stereo"
FIL4_MONO = "http://gareus.org/oss/lv2/fil4#mono"
ZAMVERB = "urn:zamaudio:ZamVerb"  # not lv2:hardRTCapable
SR = 48000


@pytest.fixture(scope="module")
def noise() -> np.ndarray:
    """Two seconds of quiet stereo noise (peaks far below the limiter's ceiling)."""
    rng = np.random.default_rng(7)
    return (rng.standard_normal((2 * SR, 2)) * 0.02).astype(np.float32)


def render_init(x, plugins=(), params=None, insert="none", blocksize=128, preset=None):
    """``x`` through the Init preset (every stage neutral) with ``plugins`` (SLOT:URI)."""
    return render_array(x, SR, params, blocksize, insert, preset or load_factory("Init"),
                        align=True, plugins=plugins)


def _with_values(plugins: dict) -> schema.Preset:
    import dataclasses

    return dataclasses.replace(load_factory("Init"), plugins=plugins)


def test_init_preset_returns_the_input(noise):
    y, _ = render_init(noise)
    assert np.max(np.abs(y - noise)) <= 1e-6


def test_balance_trim_is_sample_exact(noise):
    plain, _ = render_init(noise)
    preset = _with_values({"master": [{"uri": BALANCE, "values": {"trim": 6.0}}]})
    y, engine = render_init(noise, preset=preset)
    gain = np.float32(10 ** (6.0 / 20))
    np.testing.assert_allclose(y, plain * gain, rtol=1e-6, atol=1e-9)
    assert engine.snapshot()["plugins"]["faulted_plugins"] == 0


def test_balance_left_delay_is_sample_exact(noise):
    plain, _ = render_init(noise)
    preset = _with_values({"master": [{"uri": BALANCE, "values": {"delayLeft": 100}}]})
    y, _ = render_init(noise, preset=preset)
    np.testing.assert_array_equal(y[:100, 0], 0.0)
    np.testing.assert_array_equal(y[100:, 0], plain[:-100, 0])
    np.testing.assert_array_equal(y[:, 1], plain[:, 1])


def _tone_gain_db(y: np.ndarray, x: np.ndarray) -> float:
    skip = SR // 2  # filters settled
    return 20 * np.log10(np.std(y[skip:, 0]) / np.std(x[skip:, 0]))


@pytest.mark.parametrize("uri", [FIL4, FIL4_MONO])  # mono runs as two instances
def test_fil4_follows_its_own_parameters(uri):
    """A +12 dB peak at 1 kHz: +12 dB there, ~0 dB two octaves and more away; a 500 Hz
    high-pass takes 50 Hz down by more than 30 dB."""
    t = np.arange(SR) / SR
    values = {"gain1": 0.0, "sec2": 1, "freq2": 1000.0, "q2": 1.0, "gain2": 12.0}
    peak = _with_values({"voice": [{"uri": uri, "values": values}]})
    measured = {}
    for f in (1000.0, 100.0, 10000.0, 50.0):
        x = np.repeat((0.05 * np.sin(2 * np.pi * f * t))[:, None], 2, 1).astype(np.float32)
        measured[f] = _tone_gain_db(render_init(x, preset=peak)[0], x)
        if f == 50.0:
            hp = _with_values({"voice": [{"uri": uri, "values": {"HighPass": 1,
                                                                  "HPfreq": 500.0}}]})
            measured["hp50"] = _tone_gain_db(render_init(x, preset=hp)[0], x)
    assert abs(measured[1000.0] - 12.0) < 0.5
    assert abs(measured[100.0]) < 1.0 and abs(measured[10000.0]) < 1.0
    assert measured["hp50"] < -30.0


def test_a_plugin_not_safe_for_real_time_is_refused_in_the_callback_slots():
    engine = Engine(SR, 2, 2, None)
    for slot in ("voice", "master"):
        with pytest.raises(PluginLoadError, match="not hard real-time capable.*worker slot"):
            engine.rack.add(slot, ZAMVERB)
    assert engine.rack.describe() == {}


def test_a_plugin_not_safe_for_real_time_runs_in_the_worker_slot(noise):
    # --insert none with a worker plugin: the worker path runs it (passthrough insert)
    y, engine = render_init(noise, plugins=[f"worker:{ZAMVERB}"])
    assert engine.worker is not None
    assert np.all(np.isfinite(y))
    # a reverb: the worker stem keeps ringing after the input (dry + wet in the mix)
    tail = render_init(np.concatenate([noise, np.zeros((SR, 2), np.float32)]),
                       plugins=[f"worker:{ZAMVERB}"])[0][len(noise) + 4800:]
    assert np.sqrt(np.mean(tail ** 2)) > 1e-4


def test_values_outside_a_ports_range_are_clamped():
    engine = Engine(SR, 2, 2, None)
    engine.rack.add("master", BALANCE, {"trim": 50.0, "delayLeft": 12.4})
    assert engine.params.target[engine.rack.chains["master"][0].slots[1]] == 20.0
    p = param("fx_master1_trim")
    assert (p.min, p.max, p.unit) == (-20.0, 20.0, "dB")
    assert p.check(-99) == -20.0
    assert param("fx_master1_delayLeft").check(12.4) == 12.0  # an integer port
    assert param("fx_master1_monoswap").labels[3] == (3.0, "L->R, R->L (Swap Channels)")
    with pytest.raises(ValueError):
        p.check(float("nan"))


def test_preset_round_trip_keeps_the_chains(noise):
    engine = Engine(SR, 2, 2, None)
    engine.rack.add("voice", FIL4, {"gain2": 6.0})
    engine.rack.add("master", BALANCE, {"trim": -3.0, "delayRight": 7})
    engine.params.target[engine.rack.chains["voice"][0].bypass_slot] = 1.0
    saved = capture(engine, "With plugins")
    text = schema.dumps(saved)
    loaded, warnings = schema.parse(text, "with.json")
    assert warnings == [] and schema.dumps(loaded) == text
    assert loaded.plugins["master"][0]["values"]["trim"] == -3.0
    assert loaded.plugins["voice"][0]["bypass"] is True
    other = Engine(SR, 2, 2, None)
    apply_preset(other, loaded)
    assert other.rack.describe() == engine.rack.describe()


def test_preset_with_a_missing_plugin_fails_naming_it_or_drops_it_when_lenient():
    engine = Engine(SR, 2, 2, None)
    missing = "http://example.org/not-installed"
    preset = _with_values({"master": [{"uri": missing}, {"uri": BALANCE}]})
    with pytest.raises(Exception, match="not-installed"):
        apply_preset(engine, preset)
    assert engine.rack.describe() == {}  # nothing changed
    warnings = apply_preset(engine, preset, lenient=True)
    assert len(warnings) == 1 and "not-installed" in warnings[0]
    assert [x["uri"] for x in engine.rack.describe()["master"]] == [BALANCE]


def test_macros_and_lfos_reach_plugin_parameters(noise):
    engine = Engine(SR, 2, 2, None)
    engine.rack.add("master", BALANCE)
    engine.modulation.assign_macro("energy", "fx_master1_trim", -20.0, 20.0)
    engine.params.set("macro_energy", 1.0)
    engine.params.jump_to_targets()
    y = np.zeros_like(noise)
    engine.process(noise, y)
    slot = engine.rack.chains["master"][0].slots[1]
    assert engine.effective[slot] == pytest.approx(20.0)


def test_moving_a_plugin_renames_its_parameters_and_keeps_its_values():
    engine = Engine(SR, 2, 2, None)
    engine.rack.add("master", FIL4)
    engine.rack.add("master", BALANCE, {"trim": 4.0})
    assert param("fx_master2_trim").max == 20.0
    engine.rack.move("master", 2, 1)
    assert engine.params.target[engine.rack.chains["master"][0].slots[1]] == 4.0
    assert param("fx_master1_trim").name.endswith("Trim/Gain [dB]")
    with pytest.raises(KeyError):
        param("fx_master2_trim")
    engine.rack.remove("master", 1)
    assert [x.plugin.name for x in engine.rack.chains["master"]] == [FIL4]


def test_chain_changes_between_blocks_keep_the_audio_going(noise):
    """Add, bypass and remove while processing: every block is finite, and the result
    equals the plugin-less render outside the blocks the plugin played."""
    engine = Engine(SR, 2, 2, None, input_strip=False, master_bus=False)
    y = np.zeros_like(noise)
    third = len(noise) // 3
    engine.process(noise[:third], y[:third])
    engine.rack.add("master", BALANCE, {"trim": -6.0})
    engine.process(noise[third: 2 * third], y[third: 2 * third])
    engine.rack.remove("master", 1)
    engine.process(noise[2 * third:], y[2 * third:])
    assert np.all(np.isfinite(y))
    g = np.float32(10 ** (-6.0 / 20))
    np.testing.assert_allclose(y[third: 2 * third], noise[third: 2 * third] * g, rtol=1e-6)
    np.testing.assert_array_equal(y[2 * third:], noise[2 * third:])
    engine.close_plugins()
    assert engine.rack.collect(force=True) == 0


def test_unknown_plugin_in_render_is_one_line_and_writes_nothing(tmp_path, capsys):
    import soundfile as sf

    from engine.cli import main

    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    sf.write(src, np.zeros((4800, 2), np.float32), SR)
    for spec, words in ((f"master:{BALANCE}x", "did you mean"),
                        (f"master:{ZAMVERB}", "worker slot"),
                        ("rack:" + BALANCE, "SLOT:URI|PATH"),
                        ("worker:/nonexistent/thing.vst3", "no such VST3"),
                        (f"worker:{src}", "not an LV2 bundle")):
        assert main(["render", str(src), str(dst), "--plugin", spec]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and words in err, err
        assert not dst.exists()


def test_vst3_paths_that_are_not_plugins_are_refused(tmp_path):
    from engine.plugins.vst3 import Vst3Plugin

    fake = tmp_path / "Fake.vst3"
    fake.write_bytes(b"not a plugin")
    with pytest.raises(PluginLoadError, match="not a loadable VST3 plugin"):
        Vst3Plugin(str(fake), SR)
    with pytest.raises(PluginLoadError, match="no such VST3"):
        Vst3Plugin(str(tmp_path / "Missing.vst3"), SR)
    wav = tmp_path / "x.wav"
    wav.write_bytes(b"RIFF")
    with pytest.raises(PluginLoadError, match="not a VST3 plugin"):
        Vst3Plugin(str(wav), SR)
    engine = Engine(SR, 2, 2, None)
    with pytest.raises(PluginLoadError, match="VST3 plugins run in the worker slot"):
        engine.rack.add("master", str(fake))


def test_every_x42_and_zam_plugin_loads_or_is_refused_and_plays_finite():
    """Each installed x42 and ZAM plugin, in a slot it may run in: it loads and plays a
    block of noise without a non-finite sample, or is refused with a reason (a host
    feature we do not provide); no plugin takes the engine down."""
    from engine.plugins import catalog
    from engine.worker import PassThrough

    engine = Engine(SR, 2, 2, PassThrough(256), input_strip=False, master_bus=False)
    x = (np.random.default_rng(3).standard_normal((2048, 2)) * 0.1).astype(np.float32)
    played, refused = 0, []
    for info in catalog.installed():
        if not info.uri.startswith(("http://gareus.org/", "urn:zamaudio:")):
            continue
        slot = "master" if info.realtime else "worker"
        try:
            engine.rack.add(slot, info.uri)
        except PluginLoadError as exc:
            refused.append(str(exc))
            continue
        y = np.zeros_like(x)
        engine.process(x, y)
        assert np.all(np.isfinite(y)), info.uri
        assert not engine.rack.chains[slot][0].plugin.faulted, info.uri
        engine.rack.remove(slot, 1)
        played += 1
    assert played >= 40, played
    assert all("host features" in r for r in refused), refused
    engine.close_plugins()


def test_midi_the_window_and_the_console_reach_plugin_parameters():
    from engine.session.console import Console
    from engine.session.controls import Controls
    from gui.controller import Controller
    from midi.dispatcher import MidiDispatcher
    from midi.mapping import Mapping, MappingTable

    engine = Engine(SR, 2, 2, None)
    engine.rack.add("master", BALANCE)
    controls = Controls(engine, "none")
    trim = engine.rack.chains["master"][0].slots[1]
    dispatcher = MidiDispatcher(controls, MappingTable([Mapping("fx_master1_trim", "cc", 20)]))
    assert dispatcher.handle([0xB0, 20, 127]) == 1
    assert engine.params.target[trim] == 20.0  # the top of the CC's travel: the port's max
    assert Controller(controls).set_value("fx_master1_trim", -4.0) == "fx_master1_trim = -4 dB"
    assert Console(controls).handle("set fx_master1_delayLeft 33.3") == \
        "fx_master1_delayLeft = 33"
    assert Console(controls).handle("plugins") == f"master 1: {BALANCE}"


def test_reported_latency_is_compensated_in_render_and_shown_in_the_stats(noise):
    """x42 No Delay Line delays by 480 frames and reports it: the render still lines up
    with its input, sample for sample."""
    nodelay = "http://gareus.org/oss/lv2/nodelay"
    preset = _with_values({"voice": [{"uri": nodelay, "values": {"delay": 480}}]})
    y, engine = render_init(noise, preset=preset)
    assert engine.snapshot()["latency"]["plugin_frames"] == {"voice": 480, "worker": 0,
                                                             "master": 0}
    np.testing.assert_allclose(y, noise, atol=1e-6)
