"""The DearPyGui window: panels of parameter widgets, presets, modulation, MIDI learn, meters.

A thin view over :class:`gui.controller.Controller`. It runs on the main thread next to the
live engine (the callback and the worker never wait for it). DearPyGui would run widget
callbacks on a thread of its own; the window takes them from its queue in ``frame()``
instead (``manual_callback_management``), so a callback never races ``refresh``. Widgets
write parameter targets when moved, and ``refresh`` copies the engine's targets back into
the widgets that changed (a MIDI knob, a preset recall or a macro shows on screen), plus
the meters and counters. Frames are paced by :class:`gui.pacing.FramePacer` (30 a second while the
performer works the window, 10 otherwise): with no GPU the window renders in software, and
an unpaced loop would take a core from the model.

DearPyGui needs a display (FACTS: no headless mode); the tests run it under Xvfb. Import
this module only to open the window: ``musicmill run`` does after ``gui.display`` found a
display and DearPyGui installed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import dearpygui.dearpygui as dpg
import numpy as np

from gui import view_settings
from gui.automix_view import AutomixView
from gui.controller import Controller
from gui.cpu_time import CpuPerBusy, drawing_cpu_s
from gui.latent_view import LatentView
from gui.meters_view import MetersView
from gui.notes_view import NotesView
from gui.pacing import FramePacer
from gui.panels import Widget, format_value, layout
from gui.rack_view import RackView
from gui.scope_view import ScopeView
from gui.stage_macros import StageMacros
from gui.xy_pad import XYPad
from presets.registry import MACROS, N_LFOS, REGISTRY, to_normalized

REFRESH_HZ = 10.0  # widgets and meters; the frame rate is for the mouse
TITLE = "MusicMill"

_PARAM_IDS = [p.id for p in REGISTRY]
# fields the performer types into: the window stays at full frame rate while one is active
_TEXT_FIELDS = ("preset:save_name", "preset:morph_ms", "macro:low", "macro:high",
                "model:path", "model:capture_s", "rack:filter")
_MACRO_IDS = [f"macro_{m}" for m in MACROS]


def control_tag(param_id: str) -> str:
    return f"param:{param_id}"


def value_tag(param_id: str) -> str:
    return f"value:{param_id}"


def learn_tag(param_id: str) -> str:
    return f"learn:{param_id}"


# a row's learn button: plain, waiting for a MIDI control (armed), or mapped (a marker)
LEARN_LABELS = ("learn", ">> move a control <<", "learn [MIDI]")


class App:
    """The window. ``open()`` needs a display; ``frame()`` renders one; ``close()`` ends it."""

    def __init__(self, controller: Controller, width: int | None = None,
                 height: int | None = None, remember: bool = True) -> None:
        """``remember``: read the window's size, place and view settings from the data
        folder, and write them back on close."""
        self.c = controller
        self.remember = remember
        self.view = view_settings.load() if remember else view_settings.ViewSettings()
        self.width = width or self.view.width
        self.height = height or self.view.height
        self.widgets: dict[str, Widget] = {}
        self.status = ""
        self._shown_target = np.full(len(REGISTRY), np.nan)
        self._shown_effective = np.full(len(REGISTRY), np.nan)
        self._shown_presets: list[str] = []
        self._shown_playing: str | None = None
        self._learn_shown: dict[str, int] = {}  # param id -> LEARN_LABELS index shown
        self._presets_stamp: int | None = None
        self._next_refresh = 0.0
        self._frame_due = 0.0
        self.pacer = FramePacer()
        self._cpu_per_busy = CpuPerBusy()
        self._mouse_pos: list[float] | None = None
        self._open = self._context = False
        self.frames = 0
        self._busy_s = 0.0  # refresh + render time, the GUI's own share of a core
        self._opened_at = 0.0
        self._cpu_at_open: float | None = None
        self.rack = RackView(controller, self._say)
        self.meters = MetersView(controller)
        self.xy = XYPad(controller, self._say)
        self.stage = StageMacros(controller, self._say)
        self.scope = ScopeView(controller)
        self.automix = AutomixView(controller)
        self.latent = LatentView(controller)
        self.notes = NotesView(controller, self._say)

    # -- lifecycle -------------------------------------------------------------------------
    def open(self) -> None:
        dpg.create_context()
        self._context = True
        dpg.configure_app(manual_callback_management=True)
        dpg.create_viewport(title=TITLE, width=self.width, height=self.height,
                            x_pos=self.view.x, y_pos=self.view.y)
        with dpg.window(tag="main"):
            self._build_header()
            with dpg.tab_bar(tag="tabs"):
                for title, widgets in layout().items():
                    with dpg.tab(label=title, tag=f"tab:{title}"):
                        self._build_panel_extras(title)
                        with dpg.child_window(border=False):
                            for w in widgets:
                                self._build_widget(w)
                with dpg.tab(label="Scope", tag="tab:Scope"):
                    self.scope.build()
                with dpg.tab(label="Plugins", tag="tab:Plugins"):
                    self.rack.build()
                with dpg.tab(label="Notes", tag="tab:Notes"):
                    self.notes.build()
                with dpg.tab(label="MIDI"):
                    self._build_midi()
        self._themes = _make_themes()
        self.set_view(self.view.large_text, self.view.high_contrast)
        dpg.setup_dearpygui()
        self.c.show_scope()  # the callback feeds the Scope tab while we are open
        dpg.set_primary_window("main", True)
        dpg.show_viewport()
        self._open = True
        self._opened_at = time.monotonic()
        self._cpu_at_open = drawing_cpu_s()
        self.refresh(force=True)

    def set_view(self, large_text: bool, high_contrast: bool) -> None:
        """Large text (every font scaled) and high contrast (black, white, one accent)."""
        self.view.large_text, self.view.high_contrast = large_text, high_contrast
        dpg.set_global_font_scale(self.view.font_scale)
        dpg.bind_theme(self._themes[1] if high_contrast else self._themes[0])

    def stats(self) -> dict:
        """Frames drawn, their rate, the share of one core refresh + render took (wall time:
        ``busy_fraction``; CPU time of this thread and the software renderer's:
        ``cpu_fraction``, None where unknown), and the parameters the window set."""
        open_s = max(1e-9, time.monotonic() - self._opened_at)
        cpu_s = drawing_cpu_s()
        cpu = (None if cpu_s is None or self._cpu_at_open is None
               else (cpu_s - self._cpu_at_open) / open_s)
        return {"frames": self.frames, "frames_per_s": self.frames / open_s,
                "busy_fraction": self._busy_s / open_s, "cpu_fraction": cpu,
                "written": sorted(self.c.written)}

    def running(self) -> bool:
        return self._open and dpg.is_dearpygui_running()

    def frame(self) -> None:
        """Refresh when due, render one frame, and sleep out the rest of the frame period."""
        now = time.monotonic()
        if now >= self._next_refresh:
            self.refresh()
            self._next_refresh = now + 1.0 / REFRESH_HZ
        dpg.render_dearpygui_frame()
        dpg.run_callbacks(dpg.get_callback_queue())
        self.frames += 1
        cost = time.monotonic() - now
        self._busy_s += cost
        self.pacer.note_frame(cost * self._cpu_per_busy.update(now, self._busy_s))
        rate_hz = self.pacer.rate_hz(time.monotonic(), self._input_seen())
        self._frame_due = max(self._frame_due + 1.0 / rate_hz, time.monotonic())
        pause = self._frame_due - time.monotonic()
        if pause > 0:
            time.sleep(pause)

    def _input_seen(self) -> bool:
        """The mouse moved or is pressed, or a text field has the keyboard."""
        pos = dpg.get_mouse_pos(local=False)
        moved, self._mouse_pos = pos != self._mouse_pos, pos
        return (moved or dpg.is_mouse_button_down(dpg.mvMouseButton_Left)
                or any(dpg.is_item_active(tag) for tag in _TEXT_FIELDS))

    def close(self) -> None:
        """Destroy the window; safe after a failed or partial ``open``."""
        if self._context:
            self.c.show_scope(False)
            if self._open and self.remember:  # the size and place the performer left
                self.view.width, self.view.height = (dpg.get_viewport_width(),
                                                     dpg.get_viewport_height())
                self.view.x, self.view.y = (int(v) for v in dpg.get_viewport_pos()[:2])
                view_settings.save(self.view)
            self._open = self._context = False
            dpg.destroy_context()

    def run(self, tick: Callable[[], bool] | None = None, tick_s: float = 0.25) -> None:
        """Frames until the window closes or ``tick`` (called every ``tick_s``) says stop."""
        next_tick = 0.0
        while self.running():
            now = time.monotonic()
            if tick is not None and now >= next_tick:
                if not tick():
                    break
                next_tick = now + tick_s
            self.frame()

    # -- building ----------------------------------------------------------------------------
    def _build_header(self) -> None:
        self.meters.build()
        with dpg.group(horizontal=True):
            dpg.add_text("", tag="meter:in")
            dpg.add_text("", tag="meter:out")
            dpg.add_text("", tag="meter:stats")
            with dpg.tooltip("meter:stats"):
                dpg.add_text("", tag="meters:detail")
        dpg.add_text("", tag="meter:automix")
        with dpg.group(horizontal=True):
            dpg.add_text("preset")
            dpg.add_combo([], tag="preset:name", width=180)
            dpg.add_input_float(tag="preset:morph_ms", label="morph ms", default_value=0.0,
                                min_value=0.0, min_clamped=True, step=100.0, width=110)
            dpg.add_button(label="Load", tag="preset:load", callback=self._on_load_preset)
            dpg.add_input_text(tag="preset:save_name", hint="new preset name", width=160)
            dpg.add_button(label="Save", tag="preset:save", callback=self._on_save_preset)
            dpg.add_text("", tag="preset:playing")
        with dpg.group(horizontal=True):
            dpg.add_checkbox(label="large text", tag="view:large",
                             default_value=self.view.large_text,
                             callback=lambda s, on: self.set_view(on, self.view.high_contrast))
            dpg.add_checkbox(label="high contrast", tag="view:contrast",
                             default_value=self.view.high_contrast,
                             callback=lambda s, on: self.set_view(self.view.large_text, on))
            dpg.add_text("", tag="status", wrap=self.width - 300)

    def _build_panel_extras(self, title: str) -> None:
        """The non-parameter controls that belong with a panel."""
        if title == "Perform":
            with dpg.group(horizontal=True):
                self.stage.build()
                self.xy.build()
            with dpg.group(horizontal=True):
                dpg.add_text("macro")
                dpg.add_combo(_MACRO_IDS, tag="macro:name", default_value=_MACRO_IDS[0],
                              width=130)
                dpg.add_text("drives")
                dpg.add_combo(_PARAM_IDS, tag="macro:target", width=200)
                dpg.add_text("from")
                dpg.add_input_float(tag="macro:low", width=90, step=0)
                dpg.add_text("to")
                dpg.add_input_float(tag="macro:high", width=90, step=0)
                dpg.add_button(label="Assign", tag="macro:assign", callback=self._on_assign)
                dpg.add_button(label="Clear", tag="macro:clear", callback=self._on_clear_macro)
            with dpg.group(horizontal=True):
                dpg.add_text("preset_morph from")
                dpg.add_combo([], tag="morph:a", width=150)
                dpg.add_text("to")
                dpg.add_combo([], tag="morph:b", width=150)
                dpg.add_button(label="Arm morph", tag="morph:arm", callback=self._on_arm_morph)
                dpg.add_button(label="Morph off", tag="morph:off",
                               callback=lambda: self._say(self.c.disarm_morph()))
            dpg.add_text("", tag="modulation:perform")
        elif title == "Mix":
            dpg.add_text("auto-mix: heard (bar) against the target (tick)")
            self.automix.build()
        elif title == "LFOs":
            with dpg.group(horizontal=True):
                dpg.add_text("LFO")
                dpg.add_combo([str(k) for k in range(1, N_LFOS + 1)], tag="lfo:number",
                              default_value="1", width=50)
                dpg.add_text("moves")
                dpg.add_combo(_PARAM_IDS, tag="lfo:target", width=200)
                dpg.add_slider_float(tag="lfo:amount", label="amount", min_value=-1.0,
                                     max_value=1.0, default_value=0.5, width=140)
                dpg.add_button(label="Route", tag="lfo:route", callback=self._on_route)
                dpg.add_button(label="Clear LFO", tag="lfo:clear", callback=self._on_clear_lfo)
            dpg.add_text("", tag="modulation:lfos")
        elif title == "Latent":
            self.latent.build()
            with dpg.group(horizontal=True):
                dpg.add_button(label="Reset latents", tag="latent:reset",
                               callback=lambda: self._say(self.c.latent("reset")))
                dpg.add_button(label="Randomize latents", tag="latent:randomize",
                               callback=lambda: self._say(self.c.latent("randomize")))
        elif title == "Model":
            with dpg.group(horizontal=True):
                dpg.add_input_text(tag="model:path", hint="another model (.ts)", width=320)
                dpg.add_button(label="Load model", tag="model:load",
                               callback=lambda: self._say(
                                   self.c.load_model(dpg.get_value("model:path"))))
                dpg.add_input_float(tag="model:capture_s", label="s", default_value=4.0,
                                    min_value=0.5, max_value=16.0, min_clamped=True,
                                    max_clamped=True, step=1.0, width=100)
                dpg.add_button(label="Capture pattern", tag="model:capture",
                               callback=lambda: self._say(
                                   self.c.capture(dpg.get_value("model:capture_s"))))

    def _build_widget(self, w: Widget) -> None:
        p, tag = w.param, control_tag(w.param.id)
        self.widgets[tag] = w
        with dpg.group(horizontal=True):
            if w.kind == "slider":
                dpg.add_slider_float(tag=tag, label=p.name, min_value=0.0, max_value=1.0,
                                     format="", width=260, callback=self._on_slider,
                                     user_data=p.id)
            elif w.kind == "choice":
                dpg.add_combo(list(w.choices), tag=tag, label=p.name, width=260,
                              callback=self._on_choice, user_data=p.id)
            elif w.kind == "switch":
                dpg.add_checkbox(tag=tag, label=p.name, callback=self._on_switch,
                                 user_data=p.id)
            else:
                dpg.add_button(tag=tag, label=p.name, callback=self._on_tap,
                               user_data=p.id)
            dpg.add_text("", tag=value_tag(p.id))
            dpg.add_button(label=LEARN_LABELS[0], small=True, callback=self._on_learn,
                           user_data=p.id, tag=learn_tag(p.id))

    def _build_midi(self) -> None:
        dpg.add_text("", tag="midi:status")
        with dpg.group(horizontal=True):
            dpg.add_combo(_PARAM_IDS, tag="midi:target", default_value=_MACRO_IDS[0],
                          width=220)
            dpg.add_button(label="Learn", tag="midi:learn",
                           callback=lambda: self._on_learn(None, None,
                                                           dpg.get_value("midi:target")))
            dpg.add_button(label="Unlearn", tag="midi:unlearn",
                           callback=lambda: self._say(
                               self.c.unlearn(dpg.get_value("midi:target"))))
            dpg.add_button(label="Save mappings", tag="midi:save",
                           callback=lambda: self._say(self.c.save_mappings()))
        dpg.add_text("", tag="midi:mappings")

    # -- callbacks (DearPyGui passes sender, app_data, user_data) ----------------------------
    def _say(self, answer: str) -> None:
        self.status = answer
        dpg.set_value("status", answer)

    def _on_slider(self, sender, value, param_id) -> None:
        self._answer_if_error(self.c.set_position(param_id, float(value)))

    def _on_choice(self, sender, name, param_id) -> None:
        w = self.widgets[control_tag(param_id)]
        self._answer_if_error(self.c.set_value(param_id, w.param.min + w.choices.index(name)))

    def _on_switch(self, sender, on, param_id) -> None:
        self._answer_if_error(self.c.set_value(param_id, 1.0 if on else 0.0))

    def _on_tap(self, sender, app_data, param_id) -> None:
        if param_id == "denoise_learn":
            self._say(self.c.learn_noise())
            return
        bpm = self.c.tap(time.perf_counter())
        if bpm is not None:
            self._say(f"tempo {bpm:.1f} BPM")

    def _on_learn(self, sender, app_data, param_id) -> None:
        self._say(self.c.learn(param_id))

    def _answer_if_error(self, answer: str) -> None:
        # a move's answer ("x = 3 dB") would flood the status line; errors and notes stay
        if answer.startswith("error") or "removed" in answer:
            self._say(answer)

    def _on_load_preset(self) -> None:
        name = dpg.get_value("preset:name")
        if not name:
            self._say("error: choose a preset")
            return
        self._say(self.c.load_preset(name, float(dpg.get_value("preset:morph_ms"))))

    def _on_save_preset(self) -> None:
        self._say(self.c.save_preset(dpg.get_value("preset:save_name")))
        self._refresh_presets(force=True)

    def _on_arm_morph(self) -> None:
        a, b = dpg.get_value("morph:a"), dpg.get_value("morph:b")
        if not a or not b:
            self._say("error: choose the two presets to morph between")
            return
        self._say(self.c.arm_morph(a, b))

    def _on_assign(self) -> None:
        macro = dpg.get_value("macro:name")[len("macro_"):]
        self._say(self.c.assign_macro(macro, dpg.get_value("macro:target"),
                                      dpg.get_value("macro:low"), dpg.get_value("macro:high")))

    def _on_clear_macro(self) -> None:
        self._say(self.c.clear_macro(dpg.get_value("macro:name")[len("macro_"):]))

    def _on_route(self) -> None:
        self._say(self.c.route_lfo(int(dpg.get_value("lfo:number")),
                                   dpg.get_value("lfo:target"), dpg.get_value("lfo:amount")))

    def _on_clear_lfo(self) -> None:
        self._say(self.c.clear_lfo(int(dpg.get_value("lfo:number"))))

    # -- refresh ----------------------------------------------------------------------------
    def refresh(self, force: bool = False) -> None:
        """Widgets whose parameter moved elsewhere, the value labels, meters and lists."""
        # One copy of each: the MIDI thread and the callback write these arrays while this
        # loop runs, and the value shown must be the value remembered as shown.
        # the built-in parameters (plugin slots follow them in the arrays)
        target, effective = self.c.parameter_values(len(REGISTRY))
        moved = np.flatnonzero(force | (target != self._shown_target))
        for slot in moved:
            p = REGISTRY[slot]
            tag = control_tag(p.id)
            if dpg.is_item_active(tag):
                continue  # the performer is dragging it: do not fight the mouse
            self._show_control(self.widgets[tag], float(target[slot]))
            self._shown_target[slot] = target[slot]
        changed = np.flatnonzero(force | (effective != self._shown_effective))
        for slot in changed:
            p = REGISTRY[slot]
            dpg.set_value(value_tag(p.id), format_value(p, float(effective[slot])))
            self._shown_effective[slot] = effective[slot]
        self._refresh_meters()
        rows = self.c.modulation_rows()
        dpg.set_value("modulation:perform", "\n".join(r for r in rows if not r.startswith("LFO")))
        dpg.set_value("modulation:lfos", "\n".join(r for r in rows if r.startswith("LFO")))
        dpg.set_value("midi:status", f"MIDI learn: {self.c.learn_status()}")
        self._refresh_learn()
        dpg.set_value("midi:mappings", "\n".join(self.c.mapping_rows()) or "no mappings")
        self._refresh_presets(force)
        # the scope's waveform and spectrum are computed only while its tab is shown (its
        # ring is drained all the same, so it never fills); the plugin list is read the
        # first time the Plugins tab is shown
        shown = self._shown_tab()
        self.rack.refresh(shown == "Plugins")
        self.xy.refresh()
        self.stage.refresh()
        if force or shown == "Scope":
            self.scope.refresh()
        else:
            self.scope.take()
        self.latent.refresh()
        if force or shown == "Notes":
            self.notes.refresh()

    def _shown_tab(self) -> str:
        """The title of the tab on screen."""
        return str(dpg.get_item_alias(dpg.get_value("tabs")) or "").removeprefix("tab:")

    def _refresh_learn(self) -> None:
        """The armed row's button says so; rows a MIDI mapping drives carry a marker."""
        armed, mapped = self.c.armed_target(), self.c.mapped_targets()
        for id_ in set(self._learn_shown) | mapped | ({armed} if armed else set()):
            state = 1 if id_ == armed else 2 if id_ in mapped else 0
            if self._learn_shown.get(id_, 0) != state and dpg.does_item_exist(learn_tag(id_)):
                dpg.configure_item(learn_tag(id_), label=LEARN_LABELS[state])
                self._learn_shown[id_] = state

    def _show_control(self, w: Widget, value: float) -> None:
        tag = control_tag(w.param.id)
        if w.kind == "slider":
            dpg.set_value(tag, to_normalized(w.param, value))
        elif w.kind == "choice":
            dpg.set_value(tag, w.choices[int(round(value - w.param.min))])
        elif w.kind == "switch":
            dpg.set_value(tag, value >= 0.5)

    def _refresh_meters(self) -> None:
        r = self.c.readings()
        ms = r["worker_latency_ms"]
        model_path = "" if math.isnan(ms) else f"   model path {ms:.1f} ms"
        self.meters.refresh(r)
        self.automix.refresh(r)
        for side in ("in", "out"):
            db = r["input_peak_db" if side == "in" else "output_peak_db"]
            dpg.set_value(f"meter:{side}", f"{side} {db:.1f} dBFS")
        dpg.set_value("meter:stats",
                      f"GR voice {r['voice_comp_gr_db']:.1f} bus {r['bus_comp_gr_db']:.1f} "
                      f"limiter {max(0.0, r['limiter_gr_db']):.1f} dB   "
                      f"late {r['late_blocks']:.0f}   underruns {r['worker_underruns']:.0f}   "
                      f"cpu {100 * r['cpu_load']:.0f}%" + model_path)
        dpg.set_value("meter:automix", automix_line(r))

    def _refresh_presets(self, force: bool = False) -> None:
        # the list shows the preset playing (recalled from anywhere: MIDI program change,
        # the console, this window)
        playing = self.c.controls.preset_name
        modified = " (modified)" if self.c.controls.preset_modified() else ""
        dpg.set_value("preset:playing", f"playing {playing}{modified}" if playing else "")
        if playing != self._shown_playing and playing in self._shown_presets:
            dpg.set_value("preset:name", playing)
            self._shown_playing = playing
        # the folder's modification time changes when a preset file is added, removed or
        # renamed there (the console, `musicmill preset`): a stat, not a parse, per refresh
        stamp = self.c.presets_stamp()
        if not force and stamp == self._presets_stamp:
            return
        self._presets_stamp = stamp
        names = self.c.preset_names()
        if names != self._shown_presets:
            for tag in ("preset:name", "morph:a", "morph:b"):
                dpg.configure_item(tag, items=names)
            if not dpg.get_value("preset:name") and names:
                dpg.set_value("preset:name", playing if playing in names else names[0])
                self._shown_playing = playing if playing in names else None
            self._shown_presets = names


def _make_themes() -> tuple[int, int]:
    """The default theme (DearPyGui's own) and a high-contrast one for a bright stage."""
    with dpg.theme() as plain:
        pass
    with dpg.theme() as contrast:
        with dpg.theme_component(dpg.mvAll):
            for slot, colour in ((dpg.mvThemeCol_WindowBg, (0, 0, 0)),
                                 (dpg.mvThemeCol_ChildBg, (0, 0, 0)),
                                 (dpg.mvThemeCol_Text, (255, 255, 255)),
                                 (dpg.mvThemeCol_FrameBg, (40, 40, 40)),
                                 (dpg.mvThemeCol_SliderGrab, (255, 210, 0)),
                                 (dpg.mvThemeCol_Button, (60, 60, 60)),
                                 (dpg.mvThemeCol_CheckMark, (255, 210, 0)),
                                 (dpg.mvThemeCol_Tab, (50, 50, 50)),
                                 (dpg.mvThemeCol_TabActive, (255, 210, 0))):
                dpg.add_theme_color(slot, colour)
    return plain, contrast


def automix_line(r: dict[str, float]) -> str:
    """The auto-mix meter: what it hears (before its corrections) and what it applies."""
    if math.isnan(r.get("automix_loudness_lufs", math.nan)):
        return "auto-mix: nothing heard yet"
    return (f"auto-mix hears {r['automix_loudness_lufs']:.1f} LUFS, brightness "
            f"{r['automix_brightness_db']:.1f} dB, width {r['automix_width_db']:.1f} dB; "
            f"applies gain {r['automix_gain_db']:+.1f}, shelf {r['automix_shelf_db']:+.1f}, "
            f"side {r['automix_side_db']:+.1f} dB")
