"""What the neural transcriber's graph takes and gives, without importing torch: the
instruments it is conditioned on (the one-hot's order), the keys of its heads, and where the
shipped graph lives."""

from __future__ import annotations

from pathlib import Path

INSTRUMENT_NAMES = ("voice", "piano", "guitar", "violin", "flute", "auto")
N_KEYS = 88
LOW_KEY = 21  # MIDI number of the first key (A0)
HEADS = ("onset", "frame", "offset", "velocity")
SHIPPED = Path(__file__).with_name("continuo.onnx")
