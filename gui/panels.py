"""What the front end shows where: every registry parameter in one panel, as one widget.

Derived from ``presets.registry`` alone (ids, ranges, discrete choices), so a parameter
added there appears in the GUI without touching this package; a test checks that every
parameter lands in exactly one panel.
"""

from __future__ import annotations

from dataclasses import dataclass

from presets.registry import (
    LFO_SHAPES,
    N_LFOS,
    RAVE_GENERATORS,
    REGISTRY,
    SAMPLER_MODES,
    SILENCE_DB,
    SYNC_DIVISIONS,
    Param,
)

# (panel title, id prefixes or ids it takes), first match wins, in display order.
_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Perform", ("macro_", "drum_blend", "beatbox_trigger", "tempo_", "preset_morph")),
    ("Voice", ("input_", "denoise_", "gate_", "eq_", "comp_", "beatbox_")),
    ("Drums", ("drum_",)),
    ("Latent", ("rave_bias_", "rave_scale_")),
    ("Model", ("rave_",)),
    ("LFOs", ("lfo",)),
    ("Sampler", ("sampler_", "grain_")),
    ("Mix", ("stem_", "master_", "bus_", "limiter_", "automix_")),
)
PANELS = tuple(title for title, _ in _RULES)

# Discrete parameters with named positions (the rest of the discrete ones are switches).
_CHOICES: dict[str, tuple[str, ...]] = {
    "rave_generator": RAVE_GENERATORS,
    "sampler_mode": SAMPLER_MODES,
    **{f"lfo{k}_shape": LFO_SHAPES for k in range(1, N_LFOS + 1)},
    **{f"lfo{k}_sync": tuple(label for label, _, _ in SYNC_DIVISIONS)
       for k in range(1, N_LFOS + 1)},
}
# Parameters that are presses, not positions: tap tempo (the controller times the taps),
# learn the room's noise.
BUTTONS = ("tempo_tap", "denoise_learn")


@dataclass(frozen=True)
class Widget:
    """One parameter's control: ``kind`` is ``slider`` (0..1 along the parameter's curve,
    the position a MIDI knob has), ``choice`` (named positions), ``switch`` (0/1) or
    ``button``."""

    param: Param
    kind: str
    choices: tuple[str, ...] = ()


def panel_of(p: Param) -> str:
    """The panel title ``p`` belongs to."""
    for title, prefixes in _RULES:
        if any(p.id.startswith(prefix) for prefix in prefixes):
            return title
    raise ValueError(f"{p.id}: no GUI panel takes it (add a rule to gui/panels.py)")


def widget_for(p: Param) -> Widget:
    if p.id in BUTTONS:
        return Widget(p, "button")
    if p.id in _CHOICES:
        choices = _CHOICES[p.id]
        if len(choices) != int(p.max - p.min) + 1:
            raise ValueError(f"{p.id}: {len(choices)} names for {int(p.max - p.min) + 1} "
                             "positions")
        return Widget(p, "choice", choices)
    if p.discrete:
        if (p.min, p.max) != (0.0, 1.0):
            raise ValueError(f"{p.id}: a discrete parameter beyond 0/1 needs choice names")
        return Widget(p, "switch")
    return Widget(p, "slider")


def layout() -> dict[str, list[Widget]]:
    """Panel title -> its widgets, by the panel's prefixes, then in registry order."""
    panels: dict[str, list[Widget]] = {title: [] for title in PANELS}
    for p in sorted(REGISTRY, key=_rule_order):
        panels[panel_of(p)].append(widget_for(p))
    return panels


def _rule_order(p: Param) -> int:
    """Within a panel, the order of its rule's prefixes (macros lead Perform)."""
    prefixes = dict(_RULES)[panel_of(p)]
    return next(i for i, prefix in enumerate(prefixes) if p.id.startswith(prefix))


def format_value(p: Param, value: float) -> str:
    """A value as the performer reads it: named choice, on/off, or number and unit."""
    widget = widget_for(p)
    if widget.kind == "choice":
        return widget.choices[int(round(value - p.min))]
    if widget.kind == "button":
        return ""
    if widget.kind == "switch":
        return "on" if value >= 0.5 else "off"
    if p.min == SILENCE_DB and value <= SILENCE_DB:
        return "-inf dB"  # a level fader at the registry's silence floor is closed
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    return f"{value:.{digits}f} {p.unit}".rstrip()
