"""The Plugins tab: the chain slots as a rack. Add a plugin from a searchable list, bypass,
move and remove it, and play its parameters (the registry's ``fx_<slot><n>_<symbol>``) as
controls: every action goes through the controller, as every other widget's does.

The installed plugins are read on a helper thread the first time the tab is shown (lilv
reads every bundle's description: a second or two), so the window never waits for them.
"""

from __future__ import annotations

import threading

import dearpygui.dearpygui as dpg

from gui.controller import Controller
from presets.registry import Param, to_normalized

SLOTS = ("voice", "worker", "master")
LIST_ROWS = 8


def fx_tag(param_id: str) -> str:
    return f"fx:{param_id}"


def fx_value_tag(param_id: str) -> str:
    return f"fxvalue:{param_id}"


def is_toggle(p: Param) -> bool:
    return p.discrete and p.min == 0.0 and p.max == 1.0


def nearest_label(p: Param, value: float) -> str:
    """The label of the named value closest to ``value``."""
    return min(p.labels, key=lambda vl: abs(vl[0] - value))[1]


def format_port_value(p: Param, value: float) -> str:
    """A plugin port's value: its label, on/off, or the number and unit."""
    if p.labels:
        return nearest_label(p, value)
    if is_toggle(p):
        return "on" if value >= 0.5 else "off"
    digits = 0 if p.discrete or abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    return f"{value:.{digits}f} {p.unit}".rstrip()


class RackView:
    """Builds and refreshes the Plugins tab of the window."""

    def __init__(self, controller: Controller, say) -> None:
        self.c = controller
        self.say = say
        self.catalog: list[tuple[str, str]] | None = None
        self._shown_catalog = False
        self._shown_chains: list[tuple] | None = None
        self._params: list[Param] = []
        self._shown: dict[str, float] = {}
        self.catalog_error = ""  # shown by the main thread (DearPyGui is not thread-safe)
        self._loading = False

    def _load_catalog(self) -> None:
        try:
            self.catalog = self.c.plugin_names()
        except Exception as exc:  # noqa: BLE001 -- no lilv: the tab says so, the window lives
            self.catalog_error = f"error: plugins: {exc}"
            self.catalog = []

    # -- building ----------------------------------------------------------------------------
    def build(self) -> None:
        with dpg.group(horizontal=True):
            dpg.add_combo(list(SLOTS), tag="rack:slot", default_value="master", width=90)
            dpg.add_input_text(tag="rack:filter", hint="search plugins", width=240,
                               callback=lambda: self._fill_list())
            dpg.add_button(label="Add", tag="rack:add", callback=self._on_add)
        dpg.add_listbox([], tag="rack:list", num_items=LIST_ROWS, width=-1)
        dpg.add_child_window(tag="rack:chains", border=False)

    def _fill_list(self) -> None:
        words = dpg.get_value("rack:filter").lower().split()
        items = [f"{name}  <{uri}>" for uri, name in self.catalog or []
                 if all(w in f"{name} {uri}".lower() for w in words)]
        dpg.configure_item("rack:list", items=items or ["(no plugin matches)"])

    def _rebuild_chains(self, chains: list[dict]) -> None:
        dpg.delete_item("rack:chains", children_only=True)
        self._params = []
        self._shown: dict[str, float] = {}  # param id -> value its control shows
        if not chains:
            dpg.add_text("no plugins: choose one above and Add", parent="rack:chains")
        for item in chains:
            slot, k = item["slot"], item["position"]
            with dpg.group(horizontal=True, parent="rack:chains"):
                fault = "  (faulted: output was not finite, bypassed)" if item["faulted"] else ""
                dpg.add_text(f"{slot} {k}: {item['name']}{fault}")
                bypass = item["params"][0]
                dpg.add_checkbox(label="bypass", tag=fx_tag(bypass.id),
                                 callback=self._on_bypass, user_data=(slot, k))
                dpg.add_button(label="up", callback=self._on_move, user_data=(slot, k, k - 1))
                dpg.add_button(label="down", callback=self._on_move,
                               user_data=(slot, k, k + 1))
                dpg.add_button(label="remove", tag=f"rack:remove:{slot}{k}",
                               callback=self._on_remove, user_data=(slot, k))
            for p in item["params"][1:]:
                self._build_param(p)
            self._params.extend(item["params"])

    def _build_param(self, p: Param) -> None:
        with dpg.group(horizontal=True, parent="rack:chains", indent=20):
            if p.labels:
                dpg.add_combo([label for _, label in p.labels], tag=fx_tag(p.id),
                              label=p.name, width=260, callback=self._on_label,
                              user_data=p)
            elif is_toggle(p):
                dpg.add_checkbox(tag=fx_tag(p.id), label=p.name, user_data=p,
                                 callback=lambda s, on, q: self.say_error(
                                     self.c.set_value(q.id, 1.0 if on else 0.0)))
            else:
                dpg.add_slider_float(tag=fx_tag(p.id), label=p.name, min_value=0.0,
                                     max_value=1.0, format="", width=260, user_data=p,
                                     callback=lambda s, u, q: self.say_error(
                                         self.c.set_position(q.id, float(u))))
            dpg.add_text("", tag=fx_value_tag(p.id))

    # -- callbacks ---------------------------------------------------------------------------
    def say_error(self, answer: str) -> None:
        if answer.startswith("error"):
            self.say(answer)

    def _on_add(self) -> None:
        chosen = dpg.get_value("rack:list") or ""
        if "<" not in chosen:
            self.say("error: choose a plugin in the list")
            return
        uri = chosen.rsplit("<", 1)[1].rstrip(">")
        self.say(self.c.plugin_add(dpg.get_value("rack:slot"), uri))

    def _on_bypass(self, sender, on, where) -> None:
        self.say_error(self.c.plugin_bypass(where[0], where[1], bool(on)))

    def _on_move(self, sender, app_data, where) -> None:
        self.say(self.c.plugin_move(*where))

    def _on_remove(self, sender, app_data, where) -> None:
        self.say(self.c.plugin_remove(*where))

    def _on_label(self, sender, label, p: Param) -> None:
        value = next(v for v, text in p.labels if text == label)
        self.say_error(self.c.set_value(p.id, value))

    # -- refresh -----------------------------------------------------------------------------
    def refresh(self, shown: bool = True) -> None:
        """The list once it has loaded (read the first time the tab is shown); the chains
        when they changed; the controls' values."""
        if shown and not self._loading:
            self._loading = True
            threading.Thread(target=self._load_catalog, name="musicmill-plugin-list",
                             daemon=True).start()
        if self.catalog is not None and not self._shown_catalog:
            self._fill_list()
            self._shown_catalog = True
            if self.catalog_error:
                self.say(self.catalog_error)
        chains = self.c.plugin_chains()
        stamp = [(x["slot"], x["position"], x["uri"], x["faulted"]) for x in chains]
        if stamp != self._shown_chains:
            self._rebuild_chains(chains)
            self._shown_chains = stamp
        for p in self._params:
            try:
                value = self.c.target(p.id)
            except KeyError:  # the chain changed on another thread since: rebuild next time
                self._shown_chains = None
                return
            tag = fx_tag(p.id)
            if self._shown.get(p.id) == value or dpg.is_item_active(tag):
                continue  # unchanged, or the performer is dragging it
            self._shown[p.id] = value
            if p.labels:
                dpg.set_value(tag, nearest_label(p, value))
            elif is_toggle(p):
                dpg.set_value(tag, value >= 0.5)
            else:
                dpg.set_value(tag, to_normalized(p, value))
            if dpg.does_item_exist(fx_value_tag(p.id)):
                dpg.set_value(fx_value_tag(p.id), format_port_value(p, value))
