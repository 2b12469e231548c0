"""Presets on a running engine: apply (all or nothing), capture, and two-preset morphs.

Everything is checked against the registry and the engine's modulation capacity before
the first write, and the writes that follow are undone if one of them fails anyway, so
the running state is never left half-applied.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from engine.modulation import MORPH_RAMP, MS_MODE, MS_POS
from presets.registry import INDEX, N_PARAMS, REGISTRY
from presets.schema import LfoRoute, MacroAssignment, Preset, PresetError, validate

if TYPE_CHECKING:
    from engine.engine import Engine

# The engine keeps macro ranges in each target's normalized domain, so reading one back
# gives the saved value plus a few ulps of curve round trip. Twelve significant digits
# drop that noise and make capture -> apply -> capture exact.
_CAPTURE_DIGITS = 12


def param_array(preset: Preset, base: np.ndarray | None = None) -> np.ndarray:
    """Every parameter of ``preset`` as a float64 array by slot; the plugins' slots (which
    a morph leaves where they are) come from ``base`` (zeros without it)."""
    full = preset.full_params()
    out = np.zeros(N_PARAMS, dtype=np.float64) if base is None else base.copy()
    out[: len(REGISTRY)] = [full[p.id] for p in REGISTRY]
    return out


def check_for_engine(engine: Engine, preset: Preset) -> Preset:
    """Validate ``preset`` against the registry and ``engine``'s slots; PresetError if not."""
    checked = validate(preset)
    label = preset.name or "preset"
    max_assignments = engine.modulation.assignments.shape[0]
    max_routes = engine.modulation.routes.shape[0]
    if len(checked.macros) > max_assignments:
        raise PresetError(f"{label}: macros: {len(checked.macros)} assignments, the engine "
                          f"has {max_assignments} slots")
    if len(checked.lfo_routes) > max_routes:
        raise PresetError(f"{label}: lfo_routes: {len(checked.lfo_routes)} routes, the engine "
                          f"has {max_routes} slots")
    return checked


def apply_preset(engine: Engine, preset: Preset, morph_ms: float = 0.0,
                 lenient: bool = False) -> list[str]:
    """Make ``preset`` the engine's state: plugin chains, parameters, macro assignments
    and LFO routes; returns warnings (plugins ``lenient`` dropped).

    The chains (when the preset has them) are built and swapped in first, so macros and
    LFO routes can name their parameters. Parameters go through ``engine.recall`` and glide
    there over ``morph_ms`` (ms; 0 = at once); assignments and routes replace the running
    ones at once. PresetError (nothing changed) if the preset is invalid or needs more
    modulation slots than exist; a plugin that cannot load is an InputError naming it.
    """
    checked = check_for_engine(engine, preset)
    warnings = []
    if checked.plugins is not None:
        warnings = engine.rack.replace_all(checked.plugins, lenient)
    mod = engine.modulation
    saved = (mod.assignments.copy(), mod.routes.copy())
    try:
        # Routing first, the parameter recall last: recall validates before it writes, so
        # if it raises, restoring the two routing arrays restores everything.
        mod.clear_macro()
        for m in checked.macros:
            mod.assign_macro(m.macro, m.target, m.low, m.high, m.curve)
        mod.clear_lfo_routes()
        for r in checked.lfo_routes:
            mod.route_lfo(r.lfo, r.target, r.amount)
        engine.recall(checked.full_params(), morph_ms=morph_ms)
    except BaseException:
        # Rows are written with "active" last, so copying the saved rows back is as safe
        # for the callback as the edits were.
        mod.assignments[:] = saved[0]
        mod.routes[:] = saved[1]
        raise
    return warnings


def capture(engine: Engine, name: str, description: str = "", *,
            midi: dict[str, Any] | None = None,
            pattern_memory: dict[str, list[list[float]]] | None = None,
            model: str | None = None) -> Preset:
    """The engine's state as a preset named ``name``.

    Captures the base targets (what people set, before macros and LFOs), or the
    destination of a recall glide still running; the macro assignments and LFO routes.
    The engine does not own MIDI mappings or pattern memory: pass them in
    (``midi=table.to_dict()``). PresetError if ``name`` is not a valid preset name.
    """
    mod = engine.modulation
    if mod.morph_state[MS_MODE] == MORPH_RAMP:
        values = mod.morph_ab[1]  # a preset is being recalled: capture where it is going
    else:
        values = engine.params.target
    params = {p.id: float(values[INDEX[p.id]]) for p in REGISTRY}
    macros = [MacroAssignment(a["macro"].removeprefix("macro_"), a["target"],
                              _tidy(a["low"]), _tidy(a["high"]), a["curve"])
              for a in mod.macro_assignments()]
    routes = [LfoRoute(r["lfo"], r["target"], r["amount"]) for r in mod.lfo_routes()]
    preset = Preset(name=name, description=description, params=params, macros=macros,
                    lfo_routes=routes, midi=midi, pattern_memory=dict(pattern_memory or {}),
                    model=model, plugins=engine.rack.describe())
    return validate(preset, name)


def arm_two_preset_morph(engine: Engine, a: Preset, b: Preset) -> None:
    """Let the ``preset_morph`` parameter (0 = ``a``, 1 = ``b``) morph every parameter.

    Each parameter moves along its own curve; discrete ones switch at 0.5. Only the
    parameter values morph: the running macro assignments and LFO routes stay as they
    are (and still act on top). Map ``preset_morph`` to a controller like any parameter.
    PresetError (nothing armed) if either preset is invalid.
    """
    arr_a = param_array(validate(a), engine.params.target)
    arr_b = param_array(validate(b), engine.params.target)
    mod = engine.modulation
    if mod.morph_state[MS_MODE] == MORPH_RAMP:
        # A recall glide is under way: let it arrive now, so its values become the base
        # targets rather than being lost when the morph takes over the morph slots.
        mod.morph_state[MS_POS] = 1.0
        engine.finish_recall()
    mod.arm_morph(arr_a, arr_b)


def disarm_two_preset_morph(engine: Engine) -> None:
    """Stop a two-preset morph; the engine returns to its base targets."""
    engine.modulation.disarm_morph()


def _tidy(value: float) -> float:
    return float(f"{value:.{_CAPTURE_DIGITS}g}")
