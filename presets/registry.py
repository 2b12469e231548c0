"""The one parameter registry: GUI widgets, MIDI mappings, presets and modulation read it.

A parameter's position in ``REGISTRY`` is its slot in the engine's shared parameter array.
Values are stored in the parameter's own unit (dB, pan position, flag); the callback
converts where it needs to. Nothing else in the code base may repeat a range.
"""

from __future__ import annotations

from dataclasses import dataclass

from dsp.errors import did_you_mean
from presets.curves import CURVE_CODES, CURVES, range_position, range_value

# Gains at or below this read as silence, so a fader can fully close.
SILENCE_DB = -80.0


@dataclass(frozen=True)
class Param:
    """One automatable parameter: id, display name, unit and range in that unit."""

    id: str
    name: str
    unit: str
    min: float
    max: float
    default: float
    curve: str = "lin"
    smoothing_ms: float = 20.0
    discrete: bool = False
    # plugin ports: values outside the range are clamped into it (a plugin's own range is
    # a promise to the plugin, not an error of the user's), and named choices
    clamp: bool = False
    labels: tuple[tuple[float, str], ...] = ()

    def __post_init__(self) -> None:
        if not self.min <= self.default <= self.max:
            raise ValueError(f"{self.id}: default {self.default} outside [{self.min}, {self.max}]")
        if self.curve not in CURVES:
            raise ValueError(f"{self.id}: curve {self.curve!r} not one of {CURVES}")
        if self.curve == "log" and self.min <= 0:
            raise ValueError(f"{self.id}: a log curve needs a positive minimum")

    def check(self, value: float) -> float:
        """Return ``value`` as float, or raise naming the parameter and its allowed range."""
        value = float(value)
        if self.clamp and value == value:
            value = min(self.max, max(self.min, value))
            value = float(round(value)) if self.discrete else value
        if not (self.min <= value <= self.max):  # also rejects NaN
            raise ValueError(
                f"{self.id}={value:g} is out of range [{self.min:g}, {self.max:g}] {self.unit}"
            )
        if self.discrete and value != round(value):
            raise ValueError(f"{self.id}={value:g} must be a whole number")
        return value


def _gain(id_: str, name: str, default: float = 0.0, max_db: float = 12.0) -> Param:
    return Param(id_, name, "dB", SILENCE_DB, max_db, default)


def _pan(id_: str, name: str) -> Param:
    return Param(id_, name, "pan", -1.0, 1.0, 0.0)


N_LFOS = 4
LFO_SHAPES = ("sine", "triangle", "square", "saw", "sample_hold", "smooth_random")
# What drives the RAVE decoder when rave_source is up (models/rave/generate.py).
RAVE_GENERATORS = ("walk", "lfo", "pattern", "style")
# Latent dimensions with their own bias/scale parameters: RAVE exports keep 4..16 after
# the PCA crop in practice; dimensions past this keep their code-set bias/scale.
RAVE_LATENT_CONTROLS = 16
# Tempo-sync choices for LFOs: index 0 is free-running; the rest are note values as
# (label, whole notes, multiplier for dotted/triplet).
SYNC_DIVISIONS: tuple[tuple[str, float, float], ...] = (("free", 0.0, 1.0),) + tuple(
    (f"1/{d}{suffix}", 1.0 / d, mult)
    for d in (1, 2, 4, 8, 16, 32)
    for suffix, mult in (("", 1.0), (".", 1.5), ("t", 2.0 / 3.0))
)
# the drum synthesizer's voices, in dsp/drums.py order (a test keeps the two in step)
DRUM_VOICES = ("kick", "snare", "hat_closed", "hat_open", "tom_low", "tom_mid", "tom_high",
               "clap")
MACROS = ("energy", "texture", "chaos", "user_1", "user_2", "user_3", "user_4")
# the sampler voice's modes, in dsp/sampler.py order (a test keeps the two in step)
SAMPLER_MODES = ("pitch", "index", "granular")

# Stems of the mixer, in bus order. "drums" and "sampler" are filled by the voice issues;
# their slots exist now so presets and the GUI keep one layout.
STEMS = ("dry", "worker", "drums", "sampler")

def _kernel(id_: str, name: str, unit: str, lo: float, hi: float, default: float,
            curve: str = "lin") -> Param:
    # DSP kernels glide their own coefficients per sample, so the store passes these
    # straight through (no second smoothing stage on top).
    return Param(id_, name, unit, lo, hi, default, curve, smoothing_ms=0.0)


REGISTRY: tuple[Param, ...] = (
    _gain("input_gain_db", "Input gain", max_db=24.0),
    # input strip
    # 0 bypasses the strip's filters and dynamics (the Init preset: the voice untouched)
    Param("input_strip_on", "Input strip", "", 0.0, 1.0, 1.0, smoothing_ms=0.0, discrete=True),
    _kernel("input_hpf_hz", "Input high-pass", "Hz", 10.0, 500.0, 30.0, "log"),
    # spectral noise reduction (run/render --denoise): how far it pulls noise down (0 none,
    # 1 its full 25 dB), and a button that learns the room's noise from the next seconds
    _kernel("denoise_amount", "Noise reduction", "", 0.0, 1.0, 0.7),
    Param("denoise_learn", "Learn noise", "", 0.0, 1.0, 0.0, smoothing_ms=0.0, discrete=True),
    Param("denoise_learn_s", "Noise learning time", "s", 0.5, 10.0, 2.0, smoothing_ms=0.0),
    _kernel("gate_threshold_db", "Gate threshold", "dB", -90.0, 0.0, -90.0),
    _kernel("gate_range_db", "Gate range", "dB", 0.0, 80.0, 40.0),
    _kernel("eq_low_gain_db", "Low shelf (150 Hz)", "dB", -18.0, 18.0, 0.0),
    _kernel("eq_mid_gain_db", "Mid peak", "dB", -18.0, 18.0, 0.0),
    _kernel("eq_mid_freq_hz", "Mid frequency", "Hz", 200.0, 8000.0, 1000.0, "log"),
    _kernel("eq_high_gain_db", "High shelf (6 kHz)", "dB", -18.0, 18.0, 0.0),
    _kernel("comp_threshold_db", "Compressor threshold", "dB", -60.0, 0.0, -18.0),
    _kernel("comp_ratio", "Compressor ratio", ":1", 1.0, 20.0, 1.0, "log"),
    _kernel("comp_attack_ms", "Compressor attack", "ms", 0.1, 100.0, 10.0, "log"),
    _kernel("comp_release_ms", "Compressor release", "ms", 10.0, 1000.0, 150.0, "log"),
    _kernel("comp_makeup_db", "Compressor makeup", "dB", 0.0, 24.0, 0.0),
    *(
        p
        for stem in STEMS
        for p in (
            _gain(f"stem_{stem}_gain_db", f"{stem.capitalize()} level",
                  default=0.0),
            _pan(f"stem_{stem}_pan", f"{stem.capitalize()} pan"),
        )
    ),
    _gain("master_gain_db", "Master level"),
    # drum voices (tune, decay and level are read by the synth every block)
    *(
        p
        for v in DRUM_VOICES
        for p in (
            _kernel(f"drum_{v}_tune_st", f"{v.replace('_', ' ').capitalize()} tune", "st",
                    -12.0, 12.0, 0.0),
            _kernel(f"drum_{v}_decay", f"{v.replace('_', ' ').capitalize()} decay", "x",
                    0.25, 4.0, 1.0, "log"),
            _kernel(f"drum_{v}_level_db", f"{v.replace('_', ' ').capitalize()} level", "dB",
                    -60.0, 6.0, 0.0),
        )
    ),
    # voice to drums: 0 = the trigger path (drums stem) alone, 1 = the neural drum model
    # (worker stem) alone, 0.5 = both at full level (engine/graph.py, _blend_gain)
    Param("drum_blend", "Trigger / model blend", "", 0.0, 1.0, 0.5),
    # with a sample bank (--bank), drum hits play its kick / snare / hat slices instead of
    # the synth voices (engine/bank/pack.py kit_map); no effect without a bank
    Param("drum_kit_samples", "Bank samples for drums", "", 0.0, 1.0, 1.0, smoothing_ms=0.0,
          discrete=True),
    # beatbox trigger (dsp/beatbox.py): mic hits -> drum voices, read every block
    # (off by default so a plain render is the voice chain alone; the factory presets,
    # and so `musicmill run`, turn it on)
    Param("beatbox_trigger", "Beatbox trigger", "", 0.0, 1.0, 0.0, smoothing_ms=0.0,
          discrete=True),
    _kernel("beatbox_threshold_db", "Beatbox threshold", "dBFS", -70.0, -10.0, -45.0),
    _kernel("beatbox_sensitivity_db", "Beatbox rise", "dB", 3.0, 24.0, 9.0),
    _kernel("beatbox_hat_gate_db", "Beatbox hat gate", "dB", 6.0, 40.0, 15.0),
    # sampler voice (dsp/sampler.py) over the bank given with --bank; granular controls
    Param("sampler_mode", "Sampler mode", "", 0.0, len(SAMPLER_MODES) - 1, 0.0,
          smoothing_ms=0.0, discrete=True),
    _kernel("sampler_attack_ms", "Sampler attack", "ms", 0.0, 2000.0, 5.0),
    _kernel("sampler_release_ms", "Sampler release", "ms", 1.0, 5000.0, 200.0, "log"),
    _kernel("sampler_pitch_st", "Sampler pitch", "st", -24.0, 24.0, 0.0),
    _kernel("grain_size_ms", "Grain size", "ms", 5.0, 500.0, 80.0, "log"),
    _kernel("grain_density_hz", "Grain density", "Hz", 1.0, 100.0, 20.0, "log"),
    _kernel("grain_position", "Grain position", "", 0.0, 1.0, 0.5),
    _kernel("grain_spray", "Grain spray", "", 0.0, 1.0, 0.0),
    # master bus
    # 0 bypasses the bus compressor and the width stage (the limiter always stays)
    Param("master_bus_on", "Bus compressor and width", "", 0.0, 1.0, 1.0, smoothing_ms=0.0,
          discrete=True),
    _kernel("bus_comp_threshold_db", "Bus compressor threshold", "dB", -40.0, 0.0, -10.0),
    _kernel("bus_comp_ratio", "Bus compressor ratio", ":1", 1.0, 10.0, 1.0, "log"),
    _kernel("master_width", "Stereo width", "x", 0.0, 2.0, 1.0),
    _kernel("limiter_ceiling_dbtp", "Limiter ceiling", "dBTP", -12.0, 0.0, -1.0),
    _kernel("limiter_release_ms", "Limiter release", "ms", 10.0, 1000.0, 100.0, "log"),
    # auto-mix: how strongly the bus rides towards the style's targets (0 = untouched)
    _kernel("automix_amount", "Auto-mix amount", "", 0.0, 1.0, 0.0),
    _kernel("automix_loudness_lufs", "Auto-mix loudness", "LUFS", -36.0, -8.0, -16.0),
    # share of the energy above 2 kHz
    _kernel("automix_brightness_db", "Auto-mix brightness", "dB", -30.0, -3.0, -12.0),
    # side-to-mid energy ratio
    _kernel("automix_width_db", "Auto-mix width", "dB", -30.0, 0.0, -10.0),
    # performance controls
    Param("tempo_bpm", "Tempo", "BPM", 40.0, 200.0, 120.0, smoothing_ms=0.0),
    # a button: every press (0 -> 1) is a tap; the MIDI thread turns taps into tempo_bpm
    Param("tempo_tap", "Tap tempo", "", 0.0, 1.0, 0.0, smoothing_ms=0.0, discrete=True),
    # 0 = preset A, 1 = preset B, while a two-preset morph is armed (assignable to a CC)
    Param("preset_morph", "Preset morph", "", 0.0, 1.0, 0.0, smoothing_ms=20.0),
    *(Param(f"macro_{m}", m.replace("_", " ").capitalize(), "", 0.0, 1.0,
            0.5 if m in ("energy", "texture") else 0.0, smoothing_ms=30.0) for m in MACROS),
    *(
        p
        for k in range(1, N_LFOS + 1)
        for p in (
            Param(f"lfo{k}_rate_hz", f"LFO {k} rate", "Hz", 0.1, 10.0, 1.0, "log",
                  smoothing_ms=0.0),
            Param(f"lfo{k}_depth", f"LFO {k} depth", "", 0.0, 1.0, 0.0, smoothing_ms=10.0),
            Param(f"lfo{k}_shape", f"LFO {k} shape", "", 0, len(LFO_SHAPES) - 1, 0,
                  smoothing_ms=0.0, discrete=True),
            Param(f"lfo{k}_phase_deg", f"LFO {k} phase", "deg", 0.0, 360.0, 0.0,
                  smoothing_ms=0.0),
            Param(f"lfo{k}_sync", f"LFO {k} sync", "", 0, len(SYNC_DIVISIONS) - 1, 0,
                  smoothing_ms=0.0, discrete=True),
        )
    ),
    # RAVE worker insert (models/rave/processor.py): read once per worker call on the
    # worker thread, so a 20 ms glide keeps a CC or preset jump from stepping per block.
    Param("rave_dry_wet", "RAVE dry/wet", "", 0.0, 1.0, 1.0),
    Param("rave_input_gain_db", "RAVE input gain", "dB", -24.0, 12.0, 0.0),
    Param("rave_output_gain_db", "RAVE output gain", "dB", -24.0, 12.0, 0.0),
    Param("rave_energy", "RAVE energy", "x", 0.3, 2.0, 1.0, "log"),
    Param("rave_chaos", "RAVE chaos", "", 0.0, 1.0, 0.0),
    Param("rave_texture", "RAVE texture", "", 0.0, 1.0, 0.0),
    Param("rave_match", "RAVE match", "", 0.0, 1.0, 0.0),
    # 1 = the dry voice in the RAVE mix waits for the model (in time with the wet), 0 = it
    # plays at once (no added latency; wet and dry then sound apart by the model's delay)
    Param("rave_align_dry", "RAVE align dry", "", 0, 1, 1, smoothing_ms=0.0, discrete=True),
    # 0 = the voice's latents, 1 = the generator's: the model plays on its own
    Param("rave_source", "RAVE source", "", 0.0, 1.0, 0.0),
    Param("rave_generator", "RAVE generator", "", 0, len(RAVE_GENERATORS) - 1, 0,
          smoothing_ms=0.0, discrete=True),
    # Playback speed of generated material (time-axis interpolation of the latents)
    Param("rave_tempo", "RAVE tempo", "x", 0.5, 2.0, 1.0, "log"),
    # Position across the loaded style references: 0 the first, 1 the last
    Param("rave_style", "RAVE style blend", "", 0.0, 1.0, 0.0),
    *(Param(f"rave_bias_{d}", f"RAVE latent {d} bias", "", -3.0, 3.0, 0.0)
      for d in range(1, RAVE_LATENT_CONTROLS + 1)),
    *(Param(f"rave_scale_{d}", f"RAVE latent {d} scale", "x", 0.0, 2.0, 1.0)
      for d in range(1, RAVE_LATENT_CONTROLS + 1)),
)

INDEX: dict[str, int] = {p.id: i for i, p in enumerate(REGISTRY)}


def to_normalized(p: Param, value: float) -> float:
    """A value in the parameter's unit to 0..1 along its range curve (what knobs and CCs
    move; ``presets.curves``)."""
    return range_position(CURVE_CODES[p.curve], p.min, p.max, value)


def from_normalized(p: Param, u: float) -> float:
    """0..1 along the parameter's range curve back to its unit, clamped to its range."""
    u = min(1.0, max(0.0, u))
    value = range_value(CURVE_CODES[p.curve], p.min, p.max, u)
    value = min(p.max, max(p.min, value))
    return float(round(value)) if p.discrete else value


# Plugin parameters (engine/plugins): the rack defines them at run time in the slots past
# the built-in ones, named fx_<slot><n>_<symbol> (fx_master1_trim). A plugin keeps its
# slots while it lives; its ids follow its place in the chain. One table per process: the
# rack that changed last defines it.
FX_CAPACITY = 1024
FX_BASE = len(REGISTRY)
N_PARAMS = FX_BASE + FX_CAPACITY
# (slot -> Param, id -> slot), replaced whole: a reader on another thread (MIDI) sees the
# old pair or the new one
_FX: tuple[dict[int, Param], dict[str, int]] = ({}, {})


def set_plugin_params(params: dict[int, Param]) -> None:
    """Replace the plugin parameters: slot (``FX_BASE`` and up) -> Param."""
    global _FX
    if any(not FX_BASE <= s < N_PARAMS for s in params):
        raise ValueError("plugin parameter slots lie in [FX_BASE, N_PARAMS)")
    _FX = (dict(params), {p.id: s for s, p in params.items()})


def plugin_params() -> dict[int, Param]:
    """The plugin parameters defined now, slot -> Param."""
    return dict(_FX[0])


def param(id_: str) -> Param:
    """Look a parameter up by id; KeyError with one line (and the closest id) if unknown."""
    if id_ in INDEX:
        return REGISTRY[INDEX[id_]]
    params, index = _FX
    if id_ in index:
        return params[index[id_]]
    raise KeyError(f"unknown parameter {id_!r}{did_you_mean(id_, [*INDEX, *index])}")


def slot_of(id_: str) -> int:
    """A parameter's slot in the engine's parameter array (KeyError as :func:`param`)."""
    if id_ in INDEX:
        return INDEX[id_]
    index = _FX[1]
    if id_ in index:
        return index[id_]
    param(id_)  # raises
    return -1


def param_at(slot: int) -> Param:
    """The parameter in a slot of the parameter array."""
    return REGISTRY[slot] if slot < FX_BASE else _FX[0][slot]


def all_params() -> list[Param]:
    """The built-in parameters, then the plugins', in slot order."""
    params = _FX[0]
    return [*REGISTRY, *(params[s] for s in sorted(params))]
