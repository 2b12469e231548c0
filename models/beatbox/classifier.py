"""The shipped beatbox-hit classifier: an MLP over ``dsp.beatbox`` features.

``classifier.npz`` beside this file is written by ``musicmill beatbox train`` (see
``train.py``); it holds the feature mean and std, the two layers and the training record
(command, corpus sizes, held-out scores). The engine loads it once when it builds its
kernels; the MLP itself runs inside the audio callback (``dsp.beatbox.classify``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dsp import beatbox

WEIGHTS_PATH = Path(__file__).with_name("classifier.npz")
LAYERS = ("mean", "std", "w1", "b1", "w2", "b2")


def load_weights(path: Path | str = WEIGHTS_PATH) -> np.ndarray:
    """The flat weight array ``dsp.beatbox.classify`` reads; clear errors for a bad file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: beatbox classifier missing (train it with "
                                "`musicmill beatbox train`)")
    with np.load(path) as data:
        missing = [k for k in LAYERS if k not in data]
        if missing:
            raise ValueError(f"{path}: not a beatbox classifier (no {', '.join(missing)})")
        return beatbox.pack_weights(*(data[k] for k in LAYERS))


def load_record(path: Path | str = WEIGHTS_PATH) -> dict:
    """The training record stored with the weights (command, data, scores)."""
    with np.load(path) as data:
        return json.loads(str(data["record"]))
