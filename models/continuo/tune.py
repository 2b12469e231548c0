"""Choose the streaming decoder's thresholds per instrument, on development takes.

Development material is neither training nor held-out: new takes (seeds from
``DEV_SEED``) rendered through FluidR3, the training soundfont, and the corpus's "dev"
sung phrases from past the training ones. The network runs once per take; then every
threshold combination of ``GRID`` decodes its heads and the one with the best pooled note
F-measure (mir_eval, 50 ms, 50 cents) is kept for that instrument, into ``decoder.json``
beside the model. :class:`~models.continuo.neural.NeuralStream` reads it.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np

from models.continuo.decoder import decoder_for
from models.continuo.evaluate import score
from models.continuo.performances import INSTRUMENTS

DEV_SEED = 50_000
GRID = {"onset_threshold": (0.3, 0.5, 0.7, 0.9),
        "frame_threshold": (0.4, 0.55, 0.7, 1.1),  # 1.1: onsets alone start notes
        "release_threshold": (0.2, 0.35),
        "restrike_threshold": (0.8, 0.95)}


def dev_clips(instrument: str, count: int) -> list:
    from models.continuo import corpus
    from models.continuo.dataset import TRAIN_PHRASES, TRAIN_SOUNDFONT, Clip, clean_takes

    if instrument == "voice":
        return [Clip(p.audio, p.sample_rate_hz, p.notes, "voice")
                for p in (corpus.phrase(TRAIN_PHRASES + s, "dev") for s in range(count))]
    return clean_takes(instrument, range(DEV_SEED, DEV_SEED + count), TRAIN_SOUNDFONT)


def _decode(heads: np.ndarray, levels_db: np.ndarray, instrument: str, params: dict
            ) -> tuple[list, list]:
    d = decoder_for(instrument, **params)
    for row, db in zip(heads, levels_db, strict=True):
        d.step(row, db)
    d.flush()
    return d.notes()


def tune(model: Path, clips: int = 4, log=print) -> dict[str, dict]:
    """Best thresholds per instrument (and ``auto``: the best over all material)."""
    import soxr

    from models.continuo.frontend import RATE_HZ, features, level_db
    from models.continuo.neural import NeuralStream

    material: dict[str, list] = {"auto": []}
    for inst in INSTRUMENTS:
        material[inst] = []
        for c in dev_clips(inst, clips):
            f = features(soxr.resample(c.audio, c.rate_hz, RATE_HZ).astype(np.float32))
            levels = level_db(f)
            for name in (inst, "auto"):  # told the instrument, and not
                heads = NeuralStream(c.rate_hz, name, model=model).heads(f)
                material[name].append((c.notes, heads, levels))
    best: dict[str, dict] = {}
    for name, takes in material.items():
        results = []
        for combo in itertools.product(*GRID.values()):
            params = dict(zip(GRID, combo, strict=True))
            f = score([(ref, _decode(h, db, name, params))
                       for ref, h, db in takes])["onset_f_measure"]
            results.append((f, combo))
        f, combo = max(results)
        best[name] = {**dict(zip(GRID, combo, strict=True)), "dev_note_f": round(f, 4)}
        log(f"{name}: {best[name]}")
    return best


def write(best: dict, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(best, indent=2) + "\n")
    tmp.replace(path)
