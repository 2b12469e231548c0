"""Model-path benchmarks: a RAVE-interface export's encode + decode on TorchScript against
our ONNX graphs of the same model, one thread each, every block timed (``musicmill bench
rave`` and ``bench drums``)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models.rave.onnx_backend import PosteriorNoise
from models.rave.onnx_export import export_onnx
from models.rave.onnx_graphs import draw_decode_noise, graph_noise_layout, onnx_paths
from models.rave.onnx_stream import OnnxStream
from models.rave.torch_rng import TorchRng


def bench_rave_full(ts_path: Path | str, seconds: float = 10.0,
                    onnx_path: Path | str | None = None, rounds: int = 5) -> dict[str, Any]:
    """Real-time factors of the full model path, encode + decode, one thread each.

    TorchScript ``encode`` then ``decode`` vs the ONNX encode and decode graphs, on the same
    audio blocks (one latent frame = one compression ratio of samples each), both starting
    from the export's caches. The ONNX side draws its posterior noise inside the timed loop
    as the unseeded worker does (:class:`PosteriorNoise`), RAVE's ``encode`` inside its own.
    Graphs come from ``onnx_path`` or are exported to a temporary directory (not timed).

    ``rounds``: the two runtimes take turns over the audio this many times. Every block is
    timed: the real-time factors are the block length over the median block time (what a
    block costs; a stall from elsewhere on a shared machine lands on a few blocks, not on
    the median), with the mean over everything (``*_rtf_mean``, throughput), the 99th
    percentile block in ms and each round's throughput beside them.
    """
    ts = torch.jit.load(str(ts_path), map_location="cpu").eval()
    ratio, sr = int(ts.decode_params[1]), int(ts.sr)
    full, channels = int(ts.full_latent_size), int(ts.n_channels)
    n_blocks = max(1, int(seconds * sr / ratio))
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal((n_blocks, 1, channels, ratio))).astype(np.float32)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    times: dict[str, list[float]] = {"ts": [], "ort": []}
    rounds_s: dict[str, list[float]] = {"ts": [], "ort": []}
    clock = time.perf_counter
    try:
        with tempfile.TemporaryDirectory() as tmp, torch.inference_mode():
            if onnx_path is None:
                onnx_path = Path(tmp) / "model.onnx"
                export_onnx(ts_path, onnx_path)
            enc_path, dec_path = onnx_paths(onnx_path)
            enc, dec = OnnxStream(enc_path, threads=1), OnnxStream(dec_path, threads=1)
            layout = graph_noise_layout(dec)
            noise = TorchRng(0)
            eps = PosteriorNoise(full, noise)

            def ts_step(x: np.ndarray) -> None:
                ts.decode(ts.encode(torch.from_numpy(x)))

            def ort_step(x: np.ndarray) -> None:
                z = enc(audio=x, eps=eps.draw(1, exact=False))
                dec(z=z, **draw_decode_noise(layout, 1, noise))  # drawn in the loop, as RAVE does

            # Warm-up: TorchScript optimises on its first call, ORT plans its buffers.
            ts_step(audio[0])
            ort_step(audio[0])
            for _ in range(max(1, rounds)):
                for step, key in ((ts_step, "ts"), (ort_step, "ort")):
                    block_s = times[key]
                    start = clock()
                    for x in audio:
                        t0 = clock()
                        step(x)
                        block_s.append(clock() - t0)
                    rounds_s[key].append(clock() - start)
    finally:
        torch.set_num_threads(threads)
    block_audio_s = ratio / sr
    result: dict[str, Any] = {"blocks": n_blocks, "block": ratio, "path": "encode+decode",
                              "threads": 1, "rounds": len(rounds_s["ts"])}
    for key, name in (("ts", "torchscript"), ("ort", "onnx")):
        t = np.asarray(times[key])
        result[f"{name}_rtf"] = block_audio_s / float(np.median(t))
        result[f"{name}_rtf_mean"] = block_audio_s / float(np.mean(t))
        result[f"{name}_p99_ms"] = 1e3 * float(np.percentile(t, 99))
        result[f"{name}_rtf_rounds"] = [round(n_blocks * block_audio_s / r, 2)
                                        for r in rounds_s[key]]
    result["speedup"] = result["onnx_rtf"] / result["torchscript_rtf"]
    return result
