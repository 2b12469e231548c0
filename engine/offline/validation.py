"""``musicmill mix --validate-suite``: every genre style on material that makes the mix work.

Cases (``models.automix.synth_stems``, our own synths, seeded): a band of 6 stems, 4 white-
noise stems, bass-heavy and bright material, the band 20 dB quieter and 12 dB louder than
it was made (peaks well over full scale), each mixed to every shipped style. A row passes
when loudness, centroid and M/S ratio are all inside the style's tolerances.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.offline.styled_mix import mix_styled
from models.automix import synth_stems
from presets import mix_styles

SUITE_RATE_HZ = 48000
SUITE_SECONDS = 8.0

Case = Callable[[], list[tuple[str, np.ndarray]]]


def cases() -> dict[str, Case]:
    rate, s = SUITE_RATE_HZ, SUITE_SECONDS
    return {
        "band": lambda: synth_stems.band(6, 1, s, rate),
        "white_noise": lambda: synth_stems.noise(4, 2, s, rate),
        "bass_heavy": lambda: synth_stems.bass_heavy(3, s, rate),
        "bright": lambda: synth_stems.bright(4, s, rate),
        "quiet": lambda: synth_stems.scaled(synth_stems.band(6, 5, s, rate), -20.0),
        "loud": lambda: synth_stems.scaled(synth_stems.band(6, 6, s, rate), 12.0),
    }


def run_suite(styles: list[str] | None = None) -> list[dict]:
    """One row per case and style: the three errors and whether they are within tolerance."""
    rows = []
    chosen = [mix_styles.load(n) for n in (styles or mix_styles.names())]
    for case, make in cases().items():
        stems = make()
        names = [n for n, _ in stems]
        for style in chosen:
            report = mix_styled([x for _, x in stems], SUITE_RATE_HZ, style, names).report
            rows.append({"case": case, "style": style.name,
                         "lufs_error": report["lufs_error"],
                         "centroid_error_hz": report["centroid_error_hz"],
                         "ms_ratio_error": report["ms_ratio_error"],
                         "true_peak_dbtp": report["true_peak_dbtp"],
                         "pass": report["within_tolerance"]})
    return rows


def table(rows: list[dict]) -> str:
    head = f"{'case':<12} {'style':<12} {'LUFS err':>9} {'centroid err':>13} {'M/S err':>8} " \
           f"{'TP dBTP':>8}  result"
    lines = [head, "-" * len(head)]
    for r in rows:
        def cell(v: float | None, fmt: str) -> str:
            return "n/a" if v is None else format(v, fmt)

        lines.append(f"{r['case']:<12} {r['style']:<12} {cell(r['lufs_error'], '+.2f'):>9} "
                     f"{cell(r['centroid_error_hz'], '+.0f'):>13} "
                     f"{cell(r['ms_ratio_error'], '+.3f'):>8} {r['true_peak_dbtp']:>8.2f}  "
                     f"{'pass' if r['pass'] else 'FAIL'}")
    passed = sum(r["pass"] for r in rows)
    lines.append(f"{passed}/{len(rows)} within tolerance")
    return "\n".join(lines)
