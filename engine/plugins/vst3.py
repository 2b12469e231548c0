"""VST3 plugins through pedalboard, on the worker thread only (pedalboard holds the GIL
and allocates, so a VST3 never runs in the callback).

Debian packages no VST3 binary, so on this project's machines only the refusals are
tried (missing file, not a plugin, wrong format); loading and running a real ``.vst3``
follows pedalboard's documented ``load_plugin`` / ``process`` and is untested here.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from engine.plugins.catalog import PortInfo
from engine.plugins.lv2_plugin import PluginLoadError


def is_vst3_path(name: str) -> bool:
    return name.lower().rstrip("/").endswith(".vst3")


class Vst3Plugin:
    """A loaded VST3 in the worker slot; parameters are its raw 0..1 values (described as
    control ports, as an LV2 plugin's are)."""

    format = "vst3"
    realtime = False
    latency_frames = 0

    def __init__(self, path: str, sample_rate_hz: float) -> None:
        p = Path(path)
        if not p.exists():
            raise PluginLoadError(f"{path}: no such VST3 plugin")
        if not is_vst3_path(path):
            raise PluginLoadError(f"{path}: not a VST3 plugin (a .vst3 bundle or file)")
        import pedalboard

        try:
            self.plugin = pedalboard.load_plugin(str(p))
        except Exception as exc:  # pedalboard raises ImportError with several lines
            reason = str(exc).strip().splitlines()[-1].strip()
            raise PluginLoadError(f"{path}: not a loadable VST3 plugin ({reason})") from None
        self.name = str(p)
        self.sample_rate_hz = sample_rate_hz
        self.status = np.zeros(4, dtype=np.int64)
        self.controls = [PortInfo(k, _symbol(key), key, "control", True,
                                  default=float(param.raw_value))
                         for k, (key, param) in enumerate(self.plugin.parameters.items())]
        self._keys = list(self.plugin.parameters)
        self.slots: list[int] = []

    def bind_params(self, slots: list[int], bypass_slot: int) -> None:
        self.slots = slots
        self.bypass_slot = bypass_slot

    def process(self, x: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Planar ``x (2, n)`` through the plugin with the registry's values."""
        for key, slot in zip(self._keys, self.slots, strict=True):
            param = self.plugin.parameters[key]
            if param.raw_value != values[slot]:
                param.raw_value = float(values[slot])
        return self.plugin.process(x, self.sample_rate_hz, reset=False)

    @property
    def faulted(self) -> bool:
        return bool(self.status[0])

    def describe(self) -> dict:
        return {"format": "vst3", "path": self.name, "latency_frames": 0,
                "faulted": self.faulted, "nonfinite_blocks": int(self.status[1])}

    def free(self) -> None:
        self.plugin = None


def _symbol(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name).strip("_") or "param"
