"""The Latent tab's picture of the running model: each latent dimension of the frame the
decoder plays now as a bar, its bias (a tick) and scale (the box bias +- scale: where a
unit latent lands) on it; a trail of the first two dimensions; the captured pattern drawn
faintly under the trail when there is one."""

from __future__ import annotations

from collections import deque

import dearpygui.dearpygui as dpg
import numpy as np

from gui.controller import Controller

DIMS = 16  # the bars drawn (RAVE exports keep 4..16)
RANGE = 4.0  # latent values drawn from -RANGE to +RANGE
BARS_W, HEIGHT, TRAIL = 480, 200, 200
TRAIL_POINTS = 64
CLEAR = (0, 0, 0, 0)
BAR = (90, 170, 240, 255)
BOX = (120, 120, 130, 255)
WHITE = (240, 240, 240, 255)
FAINT = (120, 110, 60, 255)


def y_of(value: float) -> float:
    """A latent value as a y pixel (0 in the middle, +RANGE at the top)."""
    return HEIGHT / 2 - float(np.clip(value, -RANGE, RANGE)) / RANGE * (HEIGHT / 2 - 4)


def trail_xy(z0: float, z1: float) -> tuple[float, float]:
    x = BARS_W + 20 + (float(np.clip(z0, -RANGE, RANGE)) / RANGE + 1) / 2 * TRAIL
    return x, y_of(z1)


class LatentView:
    def __init__(self, controller: Controller) -> None:
        self.c = controller
        self.trail: deque[tuple[float, float]] = deque(maxlen=TRAIL_POINTS)
        self._last: np.ndarray | None = None

    def build(self) -> None:
        step = BARS_W / DIMS
        with dpg.drawlist(BARS_W + TRAIL + 24, HEIGHT, tag="latent:draw"):
            dpg.draw_rectangle((0, 0), (BARS_W, HEIGHT), fill=(30, 30, 36, 255),
                               color=(70, 70, 80, 255))
            dpg.draw_line((0, HEIGHT / 2), (BARS_W, HEIGHT / 2), color=(70, 70, 80, 255))
            for d in range(DIMS):
                x0 = d * step + 3
                dpg.draw_rectangle((x0, 0), (x0 + step - 6, 0), color=BOX, tag=f"latent:box:{d}")
                dpg.draw_rectangle((x0 + 4, HEIGHT / 2), (x0 + step - 10, HEIGHT / 2),
                                   fill=BAR, color=CLEAR, tag=f"latent:bar:{d}")
                dpg.draw_line((x0, HEIGHT / 2), (x0 + step - 6, HEIGHT / 2), color=WHITE,
                              thickness=2, tag=f"latent:bias:{d}")
            left = BARS_W + 20
            dpg.draw_rectangle((left, 0), (left + TRAIL, HEIGHT), fill=(30, 30, 36, 255),
                               color=(70, 70, 80, 255))
            dpg.draw_polyline([(left, HEIGHT / 2)], color=FAINT, tag="latent:pattern")
            dpg.draw_polyline([(left, HEIGHT / 2)], color=BAR, thickness=2, tag="latent:trail")
            dpg.draw_circle((left + TRAIL / 2, HEIGHT / 2), 5, fill=WHITE, color=WHITE,
                            tag="latent:now")
        dpg.add_text("", tag="latent:note")

    def refresh(self) -> None:
        state = self.c.latent_state()
        if state is None:
            dpg.set_value("latent:note", "no latent model running (--insert rave or drums)")
            return
        z = state["latent"]
        dpg.set_value("latent:note", "" if z is not None else "the model has not played yet")
        step = BARS_W / DIMS
        bias, scale = state["bias"], state["scale"]
        for d in range(DIMS):
            x0 = d * step + 3
            shown = d < len(bias)
            b = float(bias[d]) if shown else 0.0
            s = float(scale[d]) if shown else 0.0
            dpg.configure_item(f"latent:box:{d}", pmin=(x0, y_of(b + s)),
                               pmax=(x0 + step - 6, y_of(b - s)),
                               color=BOX if shown else CLEAR)
            dpg.configure_item(f"latent:bias:{d}", p1=(x0, y_of(b)),
                               p2=(x0 + step - 6, y_of(b)), color=WHITE if shown else CLEAR)
            v = float(z[d]) if z is not None and d < len(z) else 0.0
            dpg.configure_item(f"latent:bar:{d}", pmin=(x0 + 4, min(y_of(v), HEIGHT / 2)),
                               pmax=(x0 + step - 10, max(y_of(v), HEIGHT / 2)))
        if z is not None and len(z) >= 2 and z is not self._last:
            self._last = z
            self.trail.append(trail_xy(z[0], z[1]))
        if self.trail:
            dpg.configure_item("latent:trail", points=list(self.trail))
            dpg.configure_item("latent:now", center=self.trail[-1])
        pattern = state["pattern"]
        if pattern is not None and pattern.shape[0] >= 2:
            points = [trail_xy(a, b) for a, b in pattern[:2].T[:: max(1, pattern.shape[1]
                                                                    // 256)]]
            dpg.configure_item("latent:pattern", points=points)
