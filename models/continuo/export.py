"""The transcriber as a per-layer cached ONNX graph: one feature frame per call.

Signature: ``features`` (1, N_FEATURES, T) and ``instrument`` (1, instruments, 1) one-hot
-> ``heads`` (1, 4 * 88, T) activated (onset and frame probabilities, offset in
semitones, velocity), plus ``state_in_k`` -> ``state_out_k`` for each of the network's
blocks: its last ``(kernel - 1) * dilation`` inputs, the layer's whole causal context. The
states' defaults are those after 1.5 s of silence with the instrument ``auto``; a stream
for another instrument computes its own (:class:`~models.continuo.neural.NeuralStream`).
The graph's metadata names the instruments and the front end it expects.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from models.continuo import frontend
from models.continuo.layout import INSTRUMENT_NAMES, LOW_KEY, N_KEYS
from models.continuo.network import Continuo, StepGraph, one_hot
from models.rave.onnx_export import export_graph

META_KEY = "musicmill.continuo"


def metadata() -> dict[str, str]:
    return {META_KEY: json.dumps({
        "instruments": list(INSTRUMENT_NAMES), "keys": N_KEYS, "low_key": LOW_KEY,
        "rate_hz": frontend.RATE_HZ, "hop": frontend.HOP, "features": frontend.N_FEATURES})}


def export(net: Continuo, path: Path) -> None:
    """Write ``net``'s step graph to ``path`` (atomically)."""
    net = net.eval()
    frames = torch.zeros(1, frontend.N_FEATURES, 1)
    auto = len(INSTRUMENT_NAMES) - 1
    export_graph(StepGraph(net), [frames, one_hot(auto)], ["features", "instrument"], "heads",
                 net.silent_states(auto), path, dynamic_batch=False, metadata=metadata())
