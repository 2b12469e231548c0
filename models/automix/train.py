"""Train the auto-mix predictor through the differentiable strip and master (``twin``).

Each step draws ``batch`` songs from the rendered cache (``dataset``), a random window of
``WINDOW_S`` from each, gives the stems random levels, pans and EQ (``corpus.augment``),
reads their features, draws a style (one of the shipped genre styles, its targets jittered
so a user's own targets are inside what was learned), runs the network, the twin strips,
their sum and the twin master, and steps Adam on ``loss.total``. Seeded and on a fixed
number of threads; a checkpoint every ``CHECKPOINT_EVERY`` steps makes it resumable; the
weights are exported to ``predictor.npz`` (numpy, for ``predictor.Predictor``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

from dsp import channel_strip, mastering
from dsp.analysis.stem_features import N_FEATURES, features
from models.automix import corpus, dataset, loss, predictor, twin
from presets import mix_styles

WINDOW_S = 1.5
TAIL_FRAMES = 4096  # at 24 kHz: the strip's filters decay below 1e-4 within it
HIDDEN = (256, 128)
CHECKPOINT_EVERY = 100
N_INPUTS = predictor.MAX_STEMS * N_FEATURES + predictor.N_STYLE


class Network(torch.nn.Module):
    """Features of 8 stems (256) and the style (6) → 256 → 128 → every parameter."""

    def __init__(self) -> None:
        super().__init__()
        sizes = (N_INPUTS, *HIDDEN, predictor.N_OUTPUTS)
        self.layers = torch.nn.ModuleList(torch.nn.Linear(a, b)
                                          for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        with torch.no_grad():  # start from neutral strips (flat, 1:1, no drive, centred)
            self.layers[-1].weight.mul_(0.1)
            self.layers[-1].bias.copy_(_neutral_logits())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = torch.relu(x)
        return torch.sigmoid(x)

    def export(self, path: Path) -> None:
        arrays = {}
        for i, layer in enumerate(self.layers):
            arrays[f"w{i}"] = layer.weight.detach().numpy().astype(np.float32)
            arrays[f"b{i}"] = layer.bias.detach().numpy().astype(np.float32)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(path)


def _neutral_logits() -> torch.Tensor:
    """Output-layer biases whose sigmoid lands on each parameter's neutral value (strip
    defaults, master flat), nudged 2 % inside the range where the neutral value is an end."""
    low, high, geometric = predictor.output_ranges()
    neutral = np.concatenate([np.tile(channel_strip.defaults(), predictor.MAX_STEMS),
                              np.zeros(len(predictor.MASTER_OUTPUTS))])
    with np.errstate(divide="ignore", invalid="ignore"):  # np.where evaluates both sides
        unit = np.where(geometric, np.log(neutral / low) / np.log(high / low),
                        (neutral - low) / (high - low))
    unit = np.clip(unit, 0.02, 0.98)
    return torch.as_tensor(np.log(unit / (1.0 - unit)), dtype=torch.float32)


def scale(unit: torch.Tensor) -> torch.Tensor:
    """``predictor.scale`` in torch."""
    low, high, geometric = (torch.as_tensor(a) for a in predictor.output_ranges())
    ratio = torch.where(geometric, high / torch.where(geometric, low, torch.ones_like(low)),
                        torch.ones_like(low))
    return torch.where(geometric, low * ratio ** unit, low + (high - low) * unit)


def _draw_style(rng: np.random.Generator, styles: list[mix_styles.MixStyle]
                ) -> tuple[np.ndarray, mix_styles.MixStyle]:
    s = styles[int(rng.integers(len(styles)))]
    shares = np.array(s.shares) * np.exp(rng.normal(0.0, 0.2, 3))
    shares /= shares.sum()
    targets = np.array([s.lufs + rng.uniform(-3, 3), s.centroid_hz * 2 ** rng.uniform(-0.5, 0.5),
                        float(np.clip(s.ms_ratio + rng.uniform(-0.25, 0.25), 0.1, 1.2)), *shares])
    return targets, s


def batch(songs: list[np.ndarray], rng: np.random.Generator, size: int,
          styles: list[mix_styles.MixStyle]) -> dict[str, torch.Tensor]:
    rate = dataset.CACHE_RATE_HZ
    frames = round(WINDOW_S * rate)
    n_max = predictor.MAX_STEMS
    audio = np.zeros((size, n_max, 2, frames), np.float32)
    mask = np.zeros((size, n_max), np.float32)
    feats = np.zeros((size, n_max, N_FEATURES), np.float32)
    targets = np.zeros((size, 6))
    bus = np.zeros((size, 2))
    for b in range(size):
        song = songs[int(rng.integers(len(songs)))]
        start = int(rng.integers(0, song.shape[-1] - frames + 1))
        stems = [corpus.Stem("", s[:, start:start + frames].astype(np.float32))
                 for s in song[:n_max]]
        for k, x in enumerate(corpus.augment(stems, rng, rate)):
            audio[b, k] = x
            mask[b, k] = 1.0
            feats[b, k] = features(x, rate)
        targets[b], style = _draw_style(rng, styles)
        bus[b] = style.bus_threshold_db, style.bus_ratio
    style_in = np.stack([predictor.style_vector(t[0], t[1], t[2], tuple(t[3:])) for t in targets])
    x = np.concatenate([feats.reshape(size, -1), style_in], axis=1)
    return {"x": torch.from_numpy(x), "audio": torch.from_numpy(audio),
            "mask": torch.from_numpy(mask), "targets": torch.from_numpy(targets),
            "bus": torch.from_numpy(bus)}


def forward(net: Network, b: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict]:
    rate = dataset.CACHE_RATE_HZ
    params = scale(net(b["x"]).to(torch.float64))
    size, n_max = b["mask"].shape
    k = n_max * channel_strip.N_PARAMS
    present = b["mask"].reshape(-1) > 0  # padded slots are silent: skip them
    strips = params[:, :k].reshape(size * n_max, channel_strip.N_PARAMS)[present]
    frames = b["audio"].shape[-1]
    heard = twin.strip(b["audio"].reshape(size * n_max, 2, frames)[present], rate,
                       strips.to(torch.float32), TAIL_FRAMES)
    out = torch.zeros(size * n_max, 2, frames, dtype=heard.dtype)
    out = out.index_put((present.nonzero()[:, 0],), heard).reshape(size, n_max, 2, frames)
    master = torch.cat([b["bus"], params[:, k:]], dim=1).to(torch.float32)
    assert mastering.NAMES[:twin.TWIN_MASTER] == ("bus_threshold_db", "bus_ratio",
                                                  *predictor.MASTER_OUTPUTS)
    y = twin.master(out.sum(1), rate, master, TAIL_FRAMES)
    terms = loss.style_terms(y, rate, b["targets"])
    bal = loss.balance(out, b["mask"], rate)
    work = loss.prior(params[:, :k].reshape(size, n_max, channel_strip.N_PARAMS), b["mask"])
    parts = {k: float(v.detach().abs().mean()) for k, v in terms.items()}
    return loss.total(terms, bal, work), parts | {"balance": float(bal.detach().mean()),
                                                  "prior": float(work.detach().mean())}


def train(cache: Path, out_dir: Path, songs: int, steps: int, batch_size: int, seed: int,
          threads: int, resume: bool) -> dict:
    """Train and export ``out_dir/predictor.npz`` and ``out_dir/record.json``."""
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    rng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    dataset.build(cache, range(songs), corpus.TRAIN_SOUNDFONTS, workers=threads)
    data = dataset.load(cache, range(songs))
    styles = [mix_styles.load(n) for n in mix_styles.names()]
    net = Network()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    ckpt = out_dir / "checkpoint.pt"
    step, history = 0, []
    if resume and ckpt.exists():
        state = torch.load(ckpt, weights_only=False)
        net.load_state_dict(state["net"])
        opt.load_state_dict(state["opt"])
        step, history = state["step"], state["history"]
        rng = np.random.default_rng([seed, step])
    started = time.perf_counter()
    while step < steps:
        b = batch(data, rng, batch_size, styles)
        total, parts = forward(net, b)
        opt.zero_grad()
        total.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        step += 1
        history.append({"step": step, "loss": float(total.detach()), **parts})
        if step % 10 == 0:
            mean = {k: np.mean([h[k] for h in history[-10:]]) for k in history[-1] if k != "step"}
            print(f"step {step}: " + ", ".join(f"{k} {v:.3g}" for k, v in mean.items()),
                  flush=True)
        if step % CHECKPOINT_EVERY == 0 or step == steps:
            torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "step": step,
                        "history": history}, ckpt)
            rng = np.random.default_rng([seed, step])
    net.export(out_dir / "predictor.npz")
    record = {"songs": songs, "steps": steps, "batch": batch_size, "seed": seed,
              "window_s": WINDOW_S, "rate_hz": dataset.CACHE_RATE_HZ,
              "soundfonts": list(corpus.TRAIN_SOUNDFONTS),
              "seconds_this_run": round(time.perf_counter() - started, 1),
              "final": {k: round(float(np.mean([h[k] for h in history[-50:]])), 4)
                        for k in history[-1] if k != "step"}}
    (out_dir / "record.json").write_text(json.dumps(record, indent=2) + "\n")
    return record
