"""Train the neural transcriber (:mod:`models.continuo.network`) on the rendered set.

Each step draws ``batch`` crops of ``CROP`` frames from random clips (a crop never crosses
two clips), hides the instrument ("auto") for a quarter of them, and steps Adam on the sum
of: onset and frame binary cross-entropy, the fine offset's squared error where a key
sounds and the velocity's where a note starts. The first ``WARMUP`` frames of a crop only
give context (the network's receptive field is 1.4 s). Seeded, on a fixed number of
threads, resumable from ``checkpoint.pt``; the result is exported as the per-layer cached
ONNX graph (:mod:`models.continuo.export`) beside its torch weights (``continuo.pt``).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional

from models.continuo.layout import INSTRUMENT_NAMES, N_KEYS
from models.continuo.network import Continuo

CROP = 384
WARMUP = 64
# Onsets fill ~0.1 % of the (frame, key) cells and sounding keys ~3 %: weighted up, or
# the network learns to say "nothing" everywhere for a long while
ONSET_POS_WEIGHT = 10.0
FRAME_POS_WEIGHT = 4.0
CHECKPOINT_EVERY = 200


class Data:
    """The training set in memory, with clip bounds for the crops."""

    def __init__(self, path: Path) -> None:
        z = np.load(path)
        self.features = torch.from_numpy(z["features"].astype(np.float32))
        self.labels = {k: torch.from_numpy(z[k].astype(np.float32))
                       for k in ("onset", "frame", "offset", "velocity")}
        self.instrument = z["instrument"].astype(np.int64)
        starts = z["clip_start"]
        ends = np.append(starts[1:], self.instrument.size)
        keep = ends - starts >= CROP
        self.starts, self.ends = starts[keep], ends[keep]

    def batch(self, rng: np.random.Generator, size: int) -> dict[str, torch.Tensor]:
        clips = rng.integers(0, self.starts.size, size)
        t0 = np.array([rng.integers(s, e - CROP + 1)
                       for s, e in zip(self.starts[clips], self.ends[clips], strict=True)])
        idx = torch.from_numpy(t0[:, None] + np.arange(CROP)[None, :])
        inst = self.instrument[t0]
        inst = np.where(rng.random(size) < 0.25, len(INSTRUMENT_NAMES) - 1, inst)
        out = {k: v[idx].transpose(1, 2) for k, v in self.labels.items()}
        out["features"] = self.features[idx].transpose(1, 2)
        out["instrument"] = torch.from_numpy(inst)
        return out


def losses(net: Continuo, b: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    raw = net(b["features"], b["instrument"])[:, :, WARMUP:]
    onset, frame, offset, velocity = raw.split(N_KEYS, dim=1)
    lab = {k: v[:, :, WARMUP:] for k, v in b.items() if k not in ("features", "instrument")}
    pos = torch.tensor(ONSET_POS_WEIGHT)
    sounding, starting = lab["frame"], lab["onset"]
    return {
        "onset": functional.binary_cross_entropy_with_logits(onset, lab["onset"], pos_weight=pos),
        "frame": functional.binary_cross_entropy_with_logits(frame, lab["frame"],
                                                    pos_weight=torch.tensor(FRAME_POS_WEIGHT)),
        "offset": ((0.5 * torch.tanh(offset) - lab["offset"]) ** 2 * sounding).sum()
        / sounding.sum().clamp(min=1.0) * 10.0,
        "velocity": ((torch.sigmoid(velocity) - lab["velocity"]) ** 2 * starting).sum()
        / starting.sum().clamp(min=1.0),
    }


def _normalise(net: Continuo, data: Data) -> None:
    f = data.features[:: 7]
    net.mean.copy_(f.mean(dim=0))
    net.std.copy_(f.std(dim=0).clamp(min=1e-3))


def train(data_path: Path, out_dir: Path, steps: int, batch_size: int, seed: int,
          threads: int, resume: bool, log=print) -> dict:
    """Train and return the record; writes ``checkpoint.pt`` and ``continuo.onnx``."""
    from models.continuo.export import export

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = Data(data_path)
    net = Continuo()
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps,
                                                pct_start=0.05)
    ckpt, start, history = out_dir / "checkpoint.pt", 0, []
    if resume and ckpt.exists():
        state = torch.load(ckpt, weights_only=False)
        net.load_state_dict(state["net"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        start, history = state["step"], state["history"]
    else:
        _normalise(net, data)
    rng = np.random.default_rng([seed, start])
    t_start, running = time.monotonic(), {}
    for step in range(start, steps):
        parts = losses(net, data.batch(rng, batch_size))
        total = sum(parts.values())
        opt.zero_grad()
        total.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        for k, v in parts.items():
            running[k] = running.get(k, 0.0) + float(v.detach())
        if (step + 1) % 50 == 0:
            row = {"step": step + 1, **{k: round(v / 50, 5) for k, v in running.items()}}
            history.append(row)
            running = {}
            log(f"{row} {time.monotonic() - t_start:.0f} s")
        if (step + 1) % CHECKPOINT_EVERY == 0 or step + 1 == steps:
            tmp = ckpt.with_suffix(".tmp")
            torch.save({"net": net.state_dict(), "opt": opt.state_dict(),
                        "sched": sched.state_dict(), "step": step + 1,
                        "history": history}, tmp)
            tmp.replace(ckpt)
    export(net, out_dir / "continuo.onnx")
    torch.save(net.state_dict(), out_dir / "continuo.pt")  # the torch twin the tests compare
    return {"steps": steps, "batch": batch_size, "seed": seed, "threads": threads,
            "frames": int(data.instrument.size), "final": history[-1] if history else {},
            "history": history}
