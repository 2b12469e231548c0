"""Genre mix styles: the loudness, spectral centroid and M/S ratio an offline mix is brought
to, with a frequency balance, bus-compressor settings and tolerances, in YAML files.

The shipped styles are ``presets/mix_styles/*.yaml``; ``load_style_file`` reads a user's
file of the same shape (``musicmill mix --targets FILE``). Every field is checked on load
and an error names the file and the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from dsp.errors import InputError, did_you_mean

STYLE_DIR = Path(__file__).with_name("mix_styles")
_FIELDS = {
    "targets": {"lufs": (-40.0, 0.0), "centroid_hz": (100.0, 12000.0), "ms_ratio": (0.0, 3.0)},
    "frequency_balance": {"low": (0.0, 1.0), "mid": (0.0, 1.0), "high": (0.0, 1.0)},
    "bus_compression": {"threshold_db": (-30.0, 0.0), "ratio": (1.0, 4.0)},
    "tolerance": {"lufs_db": (0.01, 12.0), "centroid_hz": (1.0, 5000.0), "ms_ratio": (0.001, 1.0)},
}
_DEFAULT_TOLERANCE = {"lufs_db": 0.5, "centroid_hz": 150.0, "ms_ratio": 0.05}


class MixStyleError(InputError, ValueError):
    """A style file that cannot be read, or a field that is missing or out of range."""


@dataclass(frozen=True)
class MixStyle:
    name: str
    description: str
    lufs: float
    centroid_hz: float
    ms_ratio: float
    shares: tuple[float, float, float]  # low, mid, high
    bus_threshold_db: float
    bus_ratio: float
    tolerance: dict[str, float]

    def errors(self, figures: dict[str, float]) -> dict[str, float]:
        """Measured minus target for each figure of ``dsp.analysis.mix_figures.figures``."""
        return {"lufs_error": figures["lufs"] - self.lufs,
                "centroid_error_hz": figures["centroid_hz"] - self.centroid_hz,
                "ms_ratio_error": figures["ms_ratio"] - self.ms_ratio}

    def met(self, errors: dict) -> bool:
        """Every error (as ``errors`` gives them, or rounded in a report, where None is
        a figure that could not be measured) finite and within its tolerance."""
        limits = zip(("lufs_error", "centroid_error_hz", "ms_ratio_error"),
                     ("lufs_db", "centroid_hz", "ms_ratio"), strict=True)
        return all(errors[e] is not None and math.isfinite(errors[e])
                   and abs(errors[e]) <= self.tolerance[t] for e, t in limits)

    def as_dict(self) -> dict:
        return {"name": self.name, "lufs": self.lufs, "centroid_hz": self.centroid_hz,
                "ms_ratio": self.ms_ratio, "frequency_balance": dict(
                    zip(("low", "mid", "high"), self.shares, strict=True)),
                "bus_compression": {"threshold_db": self.bus_threshold_db,
                                    "ratio": self.bus_ratio},
                "tolerance": dict(self.tolerance)}


def _number(where: str, section: dict, key: str, low: float, high: float) -> float:
    if key not in section:
        raise MixStyleError(f"{where}.{key}: missing")
    value = section[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise MixStyleError(f"{where}.{key}: {value!r} is not a number")
    if not low <= value <= high:
        raise MixStyleError(f"{where}.{key}: {value} outside {low:g}…{high:g}")
    return float(value)


def parse(data: object, source: str) -> MixStyle:
    """A MixStyle from parsed YAML; MixStyleError naming ``source`` and the field."""
    if not isinstance(data, dict):
        raise MixStyleError(f"{source}: a style is a mapping of sections")
    unknown = set(data) - set(_FIELDS) - {"name", "description"}
    if unknown:
        raise MixStyleError(f"{source}: unknown field {sorted(unknown)[0]!r}")
    values: dict[str, dict[str, float]] = {}
    for section, keys in _FIELDS.items():
        given = data.get(section, {} if section == "tolerance" else None)
        if not isinstance(given, dict):
            raise MixStyleError(f"{source}: {section}: missing or not a mapping")
        extra = set(given) - set(keys)
        if extra:
            raise MixStyleError(f"{source}: {section}.{sorted(extra)[0]}: unknown field")
        if section == "tolerance":
            given = {**_DEFAULT_TOLERANCE, **given}
        values[section] = {k: _number(f"{source}: {section}", given, k, lo, hi)
                           for k, (lo, hi) in keys.items()}
    shares = tuple(values["frequency_balance"][k] for k in ("low", "mid", "high"))
    if abs(sum(shares) - 1.0) > 0.02:
        raise MixStyleError(f"{source}: frequency_balance: low + mid + high is {sum(shares):.3f}, "
                            "not 1")
    t, bus = values["targets"], values["bus_compression"]
    return MixStyle(str(data.get("name", Path(source).stem)), str(data.get("description", "")),
                    t["lufs"], t["centroid_hz"], t["ms_ratio"], shares, bus["threshold_db"],
                    bus["ratio"], values["tolerance"])


def load_style_file(path: Path) -> MixStyle:
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise MixStyleError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MixStyleError(f"{path}: not YAML ({first})") from None
    return parse(data, str(path))


def names() -> list[str]:
    return sorted(p.stem for p in STYLE_DIR.glob("*.yaml"))


def is_mix_style(name: str) -> bool:
    return name.lower() in names()


def load(name: str) -> MixStyle:
    """A shipped genre style by name; MixStyleError naming the styles otherwise."""
    key = name.lower()
    if key not in names():
        raise MixStyleError(f"unknown mix style {name!r}{did_you_mean(name, names())}: "
                            f"name one of {', '.join(names())}")
    return load_style_file(STYLE_DIR / f"{key}.yaml")
