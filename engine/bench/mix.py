"""``musicmill bench mix``: the styled mix against today's rule-based mix, on held-out stems.

Held-out material: songs written by ``models.automix.corpus`` with seeds never trained on,
rendered through TimGM6mb (a soundfont never trained on) at 48 kHz, 8 stems × 10 s. For
each song and genre style: the errors of our output (loudness, centroid, M/S ratio), of
the predictor alone (before the measured correction) and of the rule-based mix (loudness
balance + the live master bus's closed-loop auto-mix with the style's loudness as its
target; its brightness and width targets are in other units, so they stay at their
defaults); the time each takes (after a warm-up mix, so Numba's compilation is not
counted; ours without the extra pass that reads the predictor alone) as a multiple of real
time; and, each in a fresh process, the peak memory of
one mix above that process's memory once its modules are imported.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from dsp.analysis import mix_figures
from engine.offline import mix as rule_mix
from engine.offline.styled_mix import mix_styled
from models.automix import corpus
from presets import mix_styles

RATE_HZ = 48000
SECONDS = 10.0
STEMS = 8
HELDOUT_SEED = 100_000

_CHILD = """
import sys, numpy as np
def rss(key):
    with open("/proc/self/status") as f:
        return int(next(l.split()[1] for l in f if l.startswith(key))) / 1024.0
kind, path, style = sys.argv[1:4]
from engine.offline import mix as rule_mix
from engine.offline.styled_mix import mix_styled
from presets import mix_styles
data = np.load(path)
stems = [s for s in data["stems"]]
start = rss("VmRSS:")
if kind == "styled":
    mix_styled(stems, 48000, mix_styles.load(style))
else:
    rule_mix.mix(stems, 48000, {"automix_amount": 1.0,
                                "automix_loudness_lufs": mix_styles.load(style).lufs})
print(rss("VmHWM:") - start)
"""


def heldout_song(index: int) -> list[np.ndarray]:
    sf2 = corpus.soundfont(corpus.HELDOUT_SOUNDFONTS[0])
    stems = corpus.song(HELDOUT_SEED + index, sf2, RATE_HZ, SECONDS, STEMS)
    return [s.audio for s in stems]


def _child_peak_mb(kind: str, stems: list[np.ndarray], style: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stems.npz"
        np.savez(path, stems=np.stack(stems))
        out = subprocess.run([sys.executable, "-c", _CHILD, kind, str(path), style],
                             capture_output=True, text=True, check=True,
                             env=dict(os.environ, OMP_NUM_THREADS="1"))
    return float(out.stdout.strip().splitlines()[-1])


def _summary(rows: list[dict], key: str) -> dict[str, float]:
    values = [abs(r[key]) for r in rows if np.isfinite(r[key])]
    return {"mean_abs": float(np.mean(values)), "max_abs": float(np.max(values))}


def bench_mix(songs: int = 3) -> dict:
    """Errors, speed and memory of ours and the rule-based mix on ``songs`` held-out songs."""
    styles = [mix_styles.load(n) for n in mix_styles.names()]
    material = [heldout_song(k) for k in range(songs)]
    mix_styled(material[0], RATE_HZ, styles[0])  # warm-up: Numba compiles once
    rule_mix.mix(material[0], RATE_HZ, {"automix_amount": 1.0})
    result: dict = {"songs": songs, "stems": STEMS, "seconds": SECONDS, "styles": {}}
    ours_times, rule_times = [], []
    for style in styles:
        ours_rows, alone_rows, rule_rows = [], [], []
        for stems in material:
            t0 = time.perf_counter()
            mix_styled(stems, RATE_HZ, style)
            ours_times.append(time.perf_counter() - t0)
            # again, untimed, with the predictor's own figures read too (one more pass)
            rep = mix_styled(stems, RATE_HZ, style, measure_predictor=True).report
            ours_rows.append({k: rep[k] for k in ("lufs_error", "centroid_error_hz",
                                                  "ms_ratio_error")})
            alone_rows.append({k: rep["predictor_alone"][k] for k in ours_rows[-1]})
            t0 = time.perf_counter()
            y, _ = rule_mix.mix(stems, RATE_HZ, {"automix_amount": 1.0,
                                                 "automix_loudness_lufs": style.lufs})
            rule_times.append(time.perf_counter() - t0)
            rule_rows.append(style.errors(mix_figures.figures(y, RATE_HZ)))
        result["styles"][style.name] = {
            name: {key: _summary(rows, key) for key in rows[0]}
            for name, rows in (("ours", ours_rows), ("predictor_alone", alone_rows),
                               ("rule_based", rule_rows))}
    result["speed_x_realtime"] = {"ours": SECONDS / statistics.median(ours_times),
                                  "rule_based": SECONDS / statistics.median(rule_times)}
    result["peak_mb_above_start"] = {
        "ours": _child_peak_mb("styled", material[0], styles[0].name),
        "rule_based": _child_peak_mb("rule", material[0], styles[0].name)}
    return result


def table(r: dict) -> str:
    lines = [f"{r['songs']} held-out songs (TimGM6mb), {r['stems']} stems x {r['seconds']:g} s, "
             "errors as mean |e| (max |e|)",
             f"{'style':<12} {'mix':<16} {'LUFS':>14} {'centroid Hz':>16} {'M/S':>16}"]
    for style, kinds in r["styles"].items():
        for kind, figs in kinds.items():
            cells = [f"{figs[k]['mean_abs']:.{nd}f} ({figs[k]['max_abs']:.{nd}f})"
                     for k, nd in (("lufs_error", 2), ("centroid_error_hz", 0),
                                   ("ms_ratio_error", 3))]
            lines.append(f"{style:<12} {kind:<16} {cells[0]:>14} {cells[1]:>16} {cells[2]:>16}")
    s, m = r["speed_x_realtime"], r["peak_mb_above_start"]
    lines.append(f"speed: ours {s['ours']:.1f}x real time, rule-based {s['rule_based']:.1f}x "
                 f"(ratio {s['ours'] / s['rule_based']:.2f})")
    lines.append(f"peak memory above start-up: ours {m['ours']:.0f} MB, rule-based "
                 f"{m['rule_based']:.0f} MB")
    return "\n".join(lines)
