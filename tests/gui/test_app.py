"""gui.app: the DearPyGui window under an X display, driving an offline engine."""

from __future__ import annotations

import inspect
import time

import dearpygui.dearpygui as dpg
import numpy as np
import pytest

from engine import layout
from engine.inserts import make_insert
from engine.session.console import Console
from engine.session.controls import Controls
from engine.session.setup import build_engine
from gui.app import App, automix_line, control_tag, value_tag
from gui.controller import Controller
from gui.panels import format_value
from gui.rack_view import fx_tag, fx_value_tag
from presets.factory_presets import factory_params
from presets.registry import INDEX, REGISTRY, param

SR = 48000


@pytest.fixture(scope="module")
def app(x_display):
    engine = build_engine(SR, 2, 2, make_insert("passthrough", SR, None, "auto"))
    window = App(Controller(Controls(engine, "passthrough")), width=1000, height=700,
                 remember=False)
    window.open()
    for _ in range(3):
        window.frame()
    yield window
    window.close()


def _fire(tag: str, value) -> None:
    """What a mouse move does: the widget takes the value and calls its callback."""
    dpg.set_value(tag, value)
    dpg.get_item_callback(tag)(tag, value, dpg.get_item_user_data(tag))


def _press(tag: str) -> None:
    """A click: DearPyGui passes a callback as many of (sender, app_data, user_data) as it
    takes (the header's buttons take none)."""
    callback = dpg.get_item_callback(tag)
    args = (tag, None, dpg.get_item_user_data(tag))
    callback(*args[:len(inspect.signature(callback).parameters)])


def _show(tab: str) -> None:
    """Bring a tab on screen (the pictures in a tab are drawn while it is shown)."""
    dpg.set_value("tabs", f"tab:{tab}")


def _frame_pixels(app: App) -> np.ndarray:
    got = {}
    dpg.output_frame_buffer(callback=lambda sender, buffer: got.setdefault("rgba", buffer))
    for _ in range(10):
        app.frame()
        if "rgba" in got:
            break
    assert "rgba" in got, "the frame buffer never arrived"
    return np.asarray(got["rgba"]).reshape(-1, 4)


def test_every_parameter_has_a_control_and_a_value_label(app):
    for p in REGISTRY:
        assert dpg.does_item_exist(control_tag(p.id)), p.id
        assert dpg.get_value(value_tag(p.id)) == format_value(p, p.default)


def test_the_window_draws(app):
    rgba = _frame_pixels(app)
    assert rgba.shape[0] == 1000 * 700
    # text and widgets on the background: many distinct colours, some light pixels
    assert len(np.unique(rgba[:, :3].round(2), axis=0)) > 20
    assert (rgba[:, :3].mean(axis=1) > 0.8).sum() > 500


def test_moving_a_slider_sets_the_target_along_its_curve(app):
    _fire(control_tag("input_hpf_hz"), 0.5)
    assert app.c.target("input_hpf_hz") == pytest.approx(np.sqrt(10.0 * 500.0))
    _fire(control_tag("lfo3_shape"), "square")
    assert app.c.target("lfo3_shape") == 2.0
    _fire(control_tag("beatbox_trigger"), True)
    assert app.c.target("beatbox_trigger") == 1.0


def test_changes_from_elsewhere_show_in_the_widgets(app):
    params = app.c.engine.params
    params.set("master_gain_db", -6.0)
    params.set("lfo2_sync", 4.0)
    params.set("rave_align_dry", 0.0)
    app.refresh()
    assert dpg.get_value(control_tag("master_gain_db")) == pytest.approx(
        app.c.position("master_gain_db"), abs=1e-6)
    assert dpg.get_value(control_tag("lfo2_sync")) == "1/2"
    assert dpg.get_value(control_tag("rave_align_dry")) is False


def test_value_labels_show_the_engine_value_after_audio_ran(app):
    engine = app.c.engine
    app.c.set_value("macro_chaos", 0.75)
    block = np.zeros((engine.blocksize, 2), np.float32)
    out = np.zeros_like(block)
    for _ in range(int(0.1 * SR / engine.blocksize)):  # past the macro's 30 ms glide
        engine.process(block, out)
    app.refresh()
    assert engine.effective[INDEX["macro_chaos"]] == pytest.approx(0.75)
    assert dpg.get_value(value_tag("macro_chaos")) == "0.75"


def _region(app: App, tag: str, width_px: int | None = None) -> np.ndarray:
    """The pixels of an item's rectangle as drawn now, ``(h, w, rgb)`` (the frame buffer
    read back is a frame behind: a few are drawn first); ``width_px`` from its left edge
    instead of its own width (a text item is as wide as its text)."""
    for _ in range(3):
        app.frame()
    rgba = _frame_pixels(app).reshape(app.height, app.width, 4)
    (x0, y0), (x1, y1) = dpg.get_item_rect_min(tag), dpg.get_item_rect_max(tag)
    right = int(x1) if width_px is None else int(x0) + width_px
    return rgba[int(y0): int(y1), int(x0): right, :3]


def test_meters_stay_dark_in_silence_and_light_with_signal(app):
    """The meter bars, pixel by pixel: silence draws no bar; a -6 dBFS tone fills 90 % of
    the input bars (a 60 dB scale), and the numbers agree."""
    from gui.meters_view import BAR_W

    engine = app.c.engine
    silence = np.zeros((engine.blocksize, 2), np.float32)
    for _ in range(int(3.0 * SR / engine.blocksize)):  # the peak meters fall 20 dB/s
        engine.process(silence, np.zeros_like(silence))
    app.refresh()
    dark = _region(app, "meters:draw")
    t = np.arange(engine.blocksize) / SR
    block = np.repeat((0.5 * np.sin(2 * np.pi * 375.0 * t))[:, None], 2, 1).astype(np.float32)
    engine.process(block, np.zeros_like(block))
    app.refresh()
    lit = _region(app, "meters:draw")
    assert dpg.get_value("meter:in") == "in -6.0 dBFS"
    pmin, pmax = (dpg.get_item_configuration("meters:in:L:peak")[k] for k in ("pmin", "pmax"))
    assert (pmax[0] - pmin[0]) / BAR_W == pytest.approx(0.9, abs=0.01)
    def green(px):  # the bars' greens (the health light is green in both)
        return int(((px[..., 1] > 0.6) & (px[..., 0] < 0.6)).sum())

    assert green(lit) > green(dark) + 3000


def test_a_drum_hit_flashes_its_light(app):
    engine = app.c.engine
    app.refresh()
    before = _region(app, "meters:draw")
    engine.trigger_drum(1, 1.0)  # snare
    block = np.zeros((engine.blocksize, 2), np.float32)
    engine.process(block, np.zeros_like(block))
    app.refresh()
    assert dpg.get_item_configuration("meters:drum:1")["fill"][:3] == pytest.approx(
        [235 / 255, 200 / 255, 60 / 255], abs=0.01)
    assert dpg.get_item_configuration("meters:drum:0")["fill"][:3] != \
        dpg.get_item_configuration("meters:drum:1")["fill"][:3]
    after = _region(app, "meters:draw")
    yellow = lambda px: ((px[..., 0] > 0.85) & (px[..., 1] > 0.7) & (px[..., 2] < 0.35)).sum()  # noqa: E731
    assert yellow(after) > yellow(before) + 200


def _readings(**changes) -> dict:
    """Header readings: quiet everywhere, nothing wrong, off the beat; ``changes`` on top."""
    r = {f"{side}_{kind}_{ch}_db": -40.0 for side in ("in", "out") for kind in ("peak", "rms")
         for ch in "lr"}
    r.update(voice_comp_gr_db=0.0, bus_comp_gr_db=0.0, limiter_gr_db=0.0, late_blocks=0,
             worker_underruns=0, nonfinite_replaced=0, drum_hits=[0] * 8, beat_phase=0.5)
    return {**r, **changes}


def test_the_header_lights_clip_hold_reduction_health_and_beat(app):
    """Each light and bar of the header from readings and a clock: the clip light and the
    health light hold HOLD_S, the peak tick holds the highest peak HOLD_S, gain reduction
    fills its bar over 20 dB."""
    from gui.meters_view import BAR_W, GREEN, HOLD_S, OFF, RED, YELLOW

    meters = app.meters

    def fill(tag):
        return [round(255 * v) for v in dpg.get_item_configuration(tag)["fill"]]

    def tick_x(tag):
        return dpg.get_item_configuration(tag)["p1"][0]

    meters.refresh(_readings(), now=100.0)
    assert fill("meters:out:clip") == list(OFF) and fill("meters:health") == list(GREEN)
    meters.refresh(_readings(out_peak_l_db=0.0, out_peak_r_db=-6.0), now=101.0)
    assert fill("meters:out:clip") == list(RED) and fill("meters:in:clip") == list(OFF)
    full = tick_x("meters:out:L:hold")
    assert full - tick_x("meters:out:R:hold") == pytest.approx(0.1 * BAR_W)  # 6 dB of 60
    meters.refresh(_readings(), now=101.0 + 0.5 * HOLD_S)  # held: the tick stays, lit
    assert tick_x("meters:out:L:hold") == full and fill("meters:out:clip") == list(RED)
    meters.refresh(_readings(), now=101.1 + HOLD_S)  # let go
    assert tick_x("meters:out:L:hold") < full and fill("meters:out:clip") == list(OFF)

    meters.refresh(_readings(limiter_gr_db=5.0, bus_comp_gr_db=30.0), now=110.0)
    width = {k: dpg.get_item_configuration(f"meters:gr:{k}")["pmax"][0] - 650
             for k in ("comp", "bus", "lim")}
    assert width == {"comp": 0.0, "bus": 100.0, "lim": 25.0}

    meters.refresh(_readings(late_blocks=2, worker_underruns=1), now=120.0)
    assert fill("meters:health") == list(RED)
    assert dpg.get_value("meters:detail") == \
        "late blocks 2, worker underruns 1, non-finite samples 0"
    meters.refresh(_readings(late_blocks=2, worker_underruns=1), now=120.1 + HOLD_S)
    assert fill("meters:health") == list(GREEN)  # nothing new since

    meters.refresh(_readings(beat_phase=0.05), now=130.0)
    assert fill("meters:beat") == list(YELLOW)
    meters.refresh(_readings(beat_phase=0.6), now=130.3)
    assert fill("meters:beat") == list(OFF)


def test_the_xy_pad_moves_its_two_parameters_and_follows_them(app):
    _show("Perform")
    from gui.xy_pad import SIZE
    from presets.registry import from_normalized

    app.xy.set_xy(0.8, 0.25)
    assert app.c.target("macro_energy") == pytest.approx(from_normalized(param("macro_energy"),
                                                                         0.8))
    assert app.c.target("macro_chaos") == pytest.approx(0.25)
    engine = app.c.engine
    block = np.zeros((engine.blocksize, 2), np.float32)
    for _ in range(int(0.1 * SR / engine.blocksize)):  # past the macros' 30 ms glide
        engine.process(block, np.zeros_like(block))
    app.refresh()
    x, y = dpg.get_item_configuration("xy:dot")["center"][:2]
    assert (x, y) == pytest.approx((0.8 * SIZE, 0.75 * SIZE), abs=0.5)
    app.c.set_value("macro_chaos", 1.0)  # from elsewhere (MIDI, console)
    for _ in range(int(0.1 * SR / engine.blocksize)):
        engine.process(block, np.zeros_like(block))
    app.refresh()
    assert dpg.get_item_configuration("xy:dot")["center"][1] == pytest.approx(0.0, abs=0.5)


def test_a_drag_on_the_xy_pad_moves_its_parameters_and_its_dot(app, x_display):
    """The real pointer (XTest, as a hand would) pressed on the pad: both parameters go
    where it was pressed, and the dot is drawn there (its pixels, read back)."""
    from engine.bench.xmouse import XMouse
    from gui.xy_pad import SIZE
    from presets.registry import from_normalized

    _show("Perform")
    for _ in range(3):
        app.frame()
    vx, vy = dpg.get_viewport_pos()[:2]
    left, top = dpg.get_item_rect_min("xy:pad")
    mouse = XMouse(x_display)
    try:
        mouse.move(vx + left + 0.25 * SIZE, vy + top + 0.6 * SIZE)
        app.frame()
        mouse.press(True)
        for _ in range(3):
            app.frame()
        mouse.press(False)
        mouse.move(vx + left + SIZE + 300, vy + top)  # away, so the pad is not hovered
        app.frame()
    finally:
        mouse.close()
    assert app.c.target("macro_energy") == pytest.approx(
        from_normalized(param("macro_energy"), 0.25), abs=0.02)
    assert app.c.target("macro_chaos") == pytest.approx(0.4, abs=0.02)
    engine = app.c.engine
    block = np.zeros((engine.blocksize, 2), np.float32)
    for _ in range(int(0.1 * SR / engine.blocksize)):  # past the macros' 30 ms glide
        engine.process(block, np.zeros_like(block))
    app.refresh()
    pad = np.round(_region(app, "xy:pad") * 255.0)  # the frame buffer reads 0..1
    dot = np.argwhere(np.abs(pad - (240, 180, 60)).sum(axis=2) < 30)  # the dot's orange
    assert len(dot) > 50, len(dot)
    y, x = dot.mean(axis=0)
    assert (x, y) == pytest.approx((0.25 * SIZE, 0.6 * SIZE), abs=3.0)


def test_stage_faders_set_the_macros_and_follow_them(app):
    from gui.stage_macros import FADER_W, fader_tag

    _show("Perform")
    _fire(fader_tag("macro_texture"), 0.3)
    assert app.c.target("macro_texture") == pytest.approx(0.3)
    engine = app.c.engine
    block = np.zeros((engine.blocksize, 2), np.float32)
    app.c.set_value("macro_user_2", 0.9)  # from elsewhere (MIDI, console)
    for _ in range(int(0.1 * SR / engine.blocksize)):  # past the macros' 30 ms glide
        engine.process(block, np.zeros_like(block))
    app.refresh()
    assert dpg.get_value(fader_tag("macro_user_2")) == pytest.approx(0.9)
    fill = dpg.get_item_configuration(f"{fader_tag('macro_texture')}:fill")["pmax"]
    assert fill[0] == pytest.approx(0.3 * FADER_W, abs=0.01)
    assert dpg.get_value(f"{fader_tag('macro_user_2')}:value") == "0.90"


def test_the_preset_shown_is_the_preset_playing(app):
    app.c.load_preset("Intense")
    app.refresh(force=True)
    assert dpg.get_value("preset:name") == "Intense"
    assert dpg.get_value("preset:playing") == "playing Intense"
    app.c.load_preset("Calm")
    app.refresh()
    assert dpg.get_value("preset:name") == "Calm"
    app.c.tap(0.0)  # a press is not an edit
    app.refresh()
    assert dpg.get_value("preset:playing") == "playing Calm"
    calm = _text_extent_px(app)
    app.c.set_value("master_width", 1.7)
    app.refresh()
    assert dpg.get_value("preset:playing") == "playing Calm (modified)"
    # on screen too: the line now ends further right, by the width of " (modified)"
    assert _text_extent_px(app) - calm > 60


def _text_extent_px(app: App) -> int:
    """How far right of its start the "playing ..." line has lit pixels."""
    strip = _region(app, "preset:playing", width_px=400).mean(axis=2)
    lit = np.flatnonzero((strip > 0.6).any(axis=0))
    assert lit.size, "the line drew nothing"
    return int(lit[-1])


def test_presets_from_the_header(app):
    dpg.set_value("preset:name", "Chaotic")
    _press("preset:load")
    assert app.status == "loaded Chaotic"
    for id_, value in factory_params("Chaotic").items():
        assert app.c.target(id_) == pytest.approx(value)
    app.refresh()
    assert dpg.get_value(control_tag("macro_chaos")) == pytest.approx(
        app.c.position("macro_chaos"), abs=1e-6)
    dpg.set_value("preset:save_name", "From the window")
    _press("preset:save")
    assert app.status == "saved From the window"
    assert "From the window" in dpg.get_item_configuration("preset:name")["items"]


def test_presets_saved_elsewhere_join_the_list(app):
    assert Console(app.c.controls).handle('preset save "Typed in"') == "saved Typed in"
    app.refresh()
    assert "Typed in" in dpg.get_item_configuration("preset:name")["items"]


def test_lfo_routing_and_macro_assignment(app):
    dpg.set_value("lfo:number", "3")
    dpg.set_value("lfo:target", "stem_drums_pan")
    dpg.set_value("lfo:amount", -0.5)
    _press("lfo:route")
    assert app.status == "LFO 3 -> stem_drums_pan (-0.50)"
    dpg.set_value("macro:name", "macro_texture")
    dpg.set_value("macro:target", "master_width")
    dpg.set_value("macro:low", 0.5)
    dpg.set_value("macro:high", 1.5)
    _press("macro:assign")
    app.refresh()
    # (a preset loaded before may have routes and assignments of its own)
    assert "LFO 3 -> stem_drums_pan  -0.50" in dpg.get_value("modulation:lfos").splitlines()
    assert "texture -> master_width  0.5 .. 1.5" in \
        dpg.get_value("modulation:perform").splitlines()
    _press("lfo:clear")
    _press("macro:clear")
    app.refresh()
    assert not any(r.startswith("LFO 3") for r in dpg.get_value("modulation:lfos").splitlines())
    assert not any(r.startswith("texture") for r in
                   dpg.get_value("modulation:perform").splitlines())


def test_learn_without_midi_says_so(app):
    learn = dpg.get_item_children(dpg.get_item_parent(control_tag("master_width")))[1][-1]
    _press(learn)
    assert app.status == "error: no MIDI input to learn from (start with --midi-in)"
    app.refresh()
    assert dpg.get_value("midi:status") == "MIDI learn: no MIDI input"


def test_bad_input_is_an_answer(app):
    dpg.set_value("preset:name", "")
    _press("preset:load")
    assert app.status == "error: choose a preset"
    dpg.set_value("macro:target", "macro_chaos")  # a macro cannot drive a macro
    _press("macro:assign")
    assert app.status.startswith("error: macro_chaos: a macro cannot drive another macro")
    assert param("macro_chaos").id in dpg.get_item_configuration("macro:target")["items"]


def test_run_stops_when_tick_says_so(app):
    calls = []

    def tick() -> bool:
        calls.append(1)
        return len(calls) < 3

    before = app.frames
    app.run(tick, tick_s=0.0)
    assert len(calls) == 3
    assert app.frames - before == 2  # a frame after each tick that said go on
    stats = app.stats()
    assert stats["frames"] == app.frames and 0.0 < stats["busy_fraction"] < 1.0


def test_an_untouched_window_reads_as_idle(app):
    app.frame()  # the first look at the mouse counts as movement
    assert not app._input_seen()  # nobody moves Xvfb's pointer


def test_model_buttons_answer(app):
    dpg.set_value("model:path", "")
    _press("model:load")
    assert app.status == "error: give the model file's path"
    _press("model:capture")
    assert app.status.startswith("error: no model insert is running")


def test_the_automix_line_says_what_it_hears_and_applies():
    assert automix_line({"automix_loudness_lufs": float("nan")}) == "auto-mix: nothing heard yet"
    r = {"automix_loudness_lufs": -18.04, "automix_brightness_db": -9.5, "automix_width_db": -12.0,
         "automix_gain_db": 4.0, "automix_shelf_db": -1.25, "automix_side_db": 0.0}
    assert automix_line(r) == ("auto-mix hears -18.0 LUFS, brightness -9.5 dB, width -12.0 dB; "
                               "applies gain +4.0, shelf -1.2, side +0.0 dB")



# -- the Plugins tab (gui/rack_view.py): one window per test module (DearPyGui does not take
# a third context in one process here)
BALANCE = "http://gareus.org/oss/lv2/balance"
FIL4 = "http://gareus.org/oss/lv2/fil4#stereo"


def _rack_call(tag: str, value=None) -> None:
    if value is not None:
        dpg.set_value(tag, value)
    callback = dpg.get_item_callback(tag)
    args = (tag, value, dpg.get_item_user_data(tag))
    callback(*args[:len(inspect.signature(callback).parameters)])


def test_the_list_is_searchable_and_add_loads_into_the_chosen_slot(app):
    _show("Plugins")
    app.rack.refresh(shown=True)  # the tab shown: the list is read on a helper thread
    deadline = time.monotonic() + 60
    while app.rack.catalog is None and time.monotonic() < deadline:
        app.frame()
    app.refresh()
    _rack_call("rack:filter", "stereo balance")
    items = dpg.get_item_configuration("rack:list")["items"]
    assert items == [f"Stereo Balance Control  <{BALANCE}>"]
    dpg.set_value("rack:slot", "master")
    dpg.set_value("rack:list", items[0])
    _rack_call("rack:add")
    app.refresh()
    rack = app.c.engine.rack
    assert [x.plugin.name for x in rack.chains["master"]] == [BALANCE]
    assert app.status.startswith(f"master 1: {BALANCE}")
    assert dpg.does_item_exist(fx_tag("fx_master1_trim"))
    assert dpg.get_value(fx_value_tag("fx_master1_trim")) == "0.00 dB"


def test_parameters_bypass_and_labels_move_the_engine(app):
    _show("Plugins")
    engine = app.c.engine
    _rack_call(fx_tag("fx_master1_trim"), 1.0)  # the top of the slider: the port's maximum
    assert app.c.target("fx_master1_trim") == 20.0
    _rack_call(fx_tag("fx_master1_monoswap"), "L->R, R->L (Swap Channels)")
    assert app.c.target("fx_master1_monoswap") == 3.0
    _rack_call(fx_tag("fx_master1_bypass"), True)
    assert app.c.target("fx_master1_bypass") == 1.0
    app.c.set_value("fx_master1_trim", -6.0)  # from elsewhere (MIDI, console)
    app.refresh()
    assert dpg.get_value(fx_value_tag("fx_master1_trim")) == "-6.00 dB"
    assert np.isclose(dpg.get_value(fx_tag("fx_master1_trim")), 14 / 40)
    assert engine.rack.describe()["master"][0]["bypass"] is True


def test_move_and_remove(app):
    _show("Plugins")
    app.c.plugin_add("master", FIL4)
    app.refresh()
    assert dpg.does_item_exist(fx_tag("fx_master2_gain1"))
    moves = [t for t in dpg.get_all_items() if dpg.get_item_label(t) == "up"
             and dpg.get_item_user_data(t) == ("master", 2, 1)]
    _rack_call(moves[0])
    app.refresh()
    assert [x.plugin.name for x in app.c.engine.rack.chains["master"]] == [FIL4, BALANCE]
    assert dpg.does_item_exist(fx_tag("fx_master2_trim"))
    _rack_call("rack:remove:master2")
    _rack_call("rack:remove:master1")
    app.refresh()
    assert app.c.engine.rack.describe() == {}
    assert not dpg.does_item_exist(fx_tag("fx_master1_gain1"))


def test_the_scope_shows_the_input_and_output_and_their_spectrum(app):
    """A 1 kHz sine at -6 dBFS: the scope ring carries it from the callback, the input's
    spectrum peaks at 1 kHz near -6 dBFS, and the waveform swings +-0.5."""
    _show("Scope")
    engine = app.c.engine
    assert engine.config[layout.C_SCOPE_ON] == 1  # the window turned it on
    t = np.arange(SR) / SR
    x = np.repeat((0.5 * np.sin(2 * np.pi * 1000.0 * t))[:, None], 2, 1).astype(np.float32)
    for s in range(0, SR, engine.blocksize):
        engine.process(x[s: s + engine.blocksize], np.zeros((engine.blocksize, 2), np.float32))
        if s % (engine.blocksize * 64) == 0:
            app.scope.take()  # drained as the window does, ten times a second
    app.refresh()
    app.scope.refresh()  # as when its tab is on screen
    freqs, db = dpg.get_value("scope:in_spec")[:2]
    peak = int(np.argmax(db))
    assert freqs[peak] == pytest.approx(1000.0, abs=SR / 4096)
    assert db[peak] == pytest.approx(-6.0, abs=1.5)  # Hann scalloping at most 1.4 dB
    wave = dpg.get_value("scope:in")[1]
    assert max(wave) == pytest.approx(0.5, abs=0.01) and min(wave) == pytest.approx(-0.5,
                                                                                  abs=0.01)
    assert max(dpg.get_value("scope:out")[1]) > 0.05  # the output carries it too


def test_the_scope_ring_is_written_only_while_a_window_is_open():
    from engine.engine import Engine

    engine = Engine(SR, 2, 2, None)
    block = np.full((128, 2), 0.1, np.float32)
    engine.process(block, np.zeros_like(block))
    assert engine.read_scope().shape == (4, 0)
    engine.enable_scope()
    engine.process(block, np.zeros_like(block))
    got = engine.read_scope()
    assert got.shape == (4, 128) and np.allclose(got[2:], 0.1)


def test_decimated_traces_keep_their_peaks():
    from gui.scope_view import decimate_peaks

    x = np.zeros(2048, np.float32)
    x[1001] = -0.9
    y = decimate_peaks(x, 512)
    assert y.shape == (512,) and y.min() == np.float32(-0.9)


def test_the_automix_view_draws_heard_against_target(app):
    _show("Mix")
    from gui.automix_view import BAR_W, X0

    app.c.set_value("automix_loudness_lufs", -22.0)  # a third of -36..-8 from the top
    app.c.engine.effective[INDEX["automix_loudness_lufs"]] = -22.0  # as the callback will
    app.c.engine.effective[INDEX["automix_amount"]] = 1.0
    app.refresh()
    x = dpg.get_item_configuration("automix:target:0")["p1"][0]
    assert x == pytest.approx(X0 + BAR_W * 0.5)
    r = app.c.readings()
    heard = r["automix_loudness_lufs"]
    text = dpg.get_item_configuration("automix:text:0")["text"]
    assert text.endswith("target -22.0 LUFS")
    assert text.startswith("--" if np.isnan(heard) else f"{heard:.1f}")


def test_the_latent_view_draws_the_models_state(app, monkeypatch):
    _show("Latent")
    from gui.latent_view import BARS_W, DIMS, HEIGHT, trail_xy, y_of

    app.refresh()
    assert dpg.get_value("latent:note").startswith("no latent model running")
    z = np.zeros(8, np.float32)
    z[:2] = (2.0, -1.0)
    bias, scale = np.zeros(8, np.float32), np.ones(8, np.float32)
    bias[3], scale[3] = 1.0, 0.5
    pattern = np.stack([np.linspace(-1, 1, 50), np.linspace(1, -1, 50)]).astype(np.float32)
    state = {"latent": z, "bias": bias, "scale": scale, "pattern": pattern}
    monkeypatch.setattr(app.c, "latent_state", lambda: state)
    app.refresh()
    assert dpg.get_value("latent:note") == ""
    bar0 = dpg.get_item_configuration("latent:bar:0")
    assert bar0["pmin"][1] == pytest.approx(y_of(2.0)) and bar0["pmax"][1] == HEIGHT / 2
    box3 = dpg.get_item_configuration("latent:box:3")
    assert (box3["pmin"][1], box3["pmax"][1]) == pytest.approx((y_of(1.5), y_of(0.5)))
    assert dpg.get_item_configuration(f"latent:box:{DIMS - 1}")["color"][3] == 0  # no dim 16
    assert dpg.get_item_configuration("latent:now")["center"][:2] == pytest.approx(
        trail_xy(2.0, -1.0))
    assert len(dpg.get_item_configuration("latent:pattern")["points"]) == 50
    assert BARS_W > 0


def test_midi_learn_shows_the_armed_control_and_marks_mapped_ones(app):
    from gui.app import LEARN_LABELS, learn_tag
    from midi.dispatcher import MidiDispatcher
    from midi.learn import Learner
    from midi.mapping import MappingTable

    table = MappingTable([])
    controls = app.c.controls
    controls.dispatcher = MidiDispatcher(controls, table, learner=Learner(table))
    try:
        _press(learn_tag("master_width"))
        app.refresh()
        assert dpg.get_item_label(learn_tag("master_width")) == LEARN_LABELS[1]
        # a control moves on the MIDI input: the mapping is made and shown at once
        controls.dispatcher.handle([0xB0, 21, 64])
        time.sleep(0.03)  # past the window in which a 14-bit pair's second half may come
        controls.learner.poll()
        app.refresh()
        assert dpg.get_item_label(learn_tag("master_width")) == LEARN_LABELS[2]
        assert any("master_width" in row for row in app.c.mapping_rows())
        assert dpg.get_item_label(learn_tag("master_gain_db")) == LEARN_LABELS[0]
    finally:
        controls.dispatcher = None
        app.refresh()
    assert dpg.get_item_label(learn_tag("master_width")) == LEARN_LABELS[0]


def test_large_text_and_high_contrast(app):
    _rack_call("view:large", True)
    assert dpg.get_global_font_scale() == pytest.approx(1.4)
    _rack_call("view:contrast", True)
    assert app.view.high_contrast and app.view.large_text
    for _ in range(3):
        app.frame()
    rgba = _frame_pixels(app).reshape(app.height, app.width, 4)
    assert np.median(rgba[..., :3]) < 0.05  # a black stage
    _rack_call("view:large", False)
    _rack_call("view:contrast", False)
    assert dpg.get_global_font_scale() == 1.0


def test_view_settings_are_remembered_and_bad_files_ignored(tmp_path):
    from gui import view_settings as vs

    path = tmp_path / "window.json"
    assert vs.load(path) == vs.ViewSettings()  # none yet: the defaults
    vs.save(vs.ViewSettings(width=1400, height=900, x=100, y=50, large_text=True), path)
    got = vs.load(path)
    assert (got.width, got.height, got.x, got.y, got.large_text) == (1400, 900, 100, 50, True)
    path.write_text('{"width": 99999, "height": "big", "large_text": 1}')
    got = vs.load(path)
    assert (got.width, got.height, got.large_text) == (vs.MAX_W, 780, False)
    path.write_text("not json")
    assert vs.load(path) == vs.ViewSettings()


def test_the_notes_tab_draws_what_the_transcriber_hears_and_picks_the_instrument(app):
    from engine.session.neural_notes import NeuralNotes
    from gui.notes_view import POOL, ROLL_W

    controls = app.c.controls
    controls.neural = NeuralNotes(SR, "flute")
    try:
        t = np.arange(int(1.2 * SR)) / SR  # a flute-like A4 from 0.2 s: 4 partials, 30 ms attack
        tone = (0.2 * np.clip((t - 0.2) / 0.03, 0, 1) * sum(
            a * np.sin(2 * np.pi * 440.0 * h * t) for h, a in ((1, 1), (2, .5), (3, .25),
                                                              (4, .12)))).astype(np.float32)
        for k in range(0, tone.size, 256):  # as the worker hands it its blocks
            controls.neural.feed(np.stack([tone[k: k + 256]] * 2))
        _show("Notes")
        app.refresh(force=True)
        assert dpg.get_value("notes:transcriber") == "Transcriber: neural flute"
        assert dpg.get_value("notes:sounding").split()[0] == "A4"  # and its cents, if any
        bar = dpg.get_item_configuration("notes:bar:0")
        assert bar["pmax"][0] == pytest.approx(ROLL_W) and bar["pmin"][0] < ROLL_W - 50
        assert dpg.get_item_configuration(f"notes:bar:{POOL - 1}")["fill"][3] == 0
        app.frame()
        # the instrument list tells the running transcriber; the worker swaps it in
        dpg.get_item_callback("notes:instrument")("notes:instrument", "violin")
        controls.neural.feed(np.zeros((2, 256), np.float32))
        assert controls.neural.stream.instrument == "violin"
        assert controls.transcriber() == "neural violin"
    finally:
        controls.neural = None
    app.refresh(force=True)
    assert dpg.get_value("notes:transcriber").startswith("Transcriber: off")
