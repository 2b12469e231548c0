"""The latent-control demos: one input through a model with each control in turn.

Every file is decoded from latents of the same encoded input (or from a generator), so
files differ only by the control they show. Encoding samples the posterior with a fixed
seed and the model is reset before each decode, so a rerun writes the same audio.

What is rendered (``DEMOS`` order): the input as the model hears it (base), energy 0.3x
and 2.0x, each latent dimension swept alone, tempo 0.5x and 2.0x, and the model playing
on its own along slow per-dimension LFOs (smooth evolution) and a random walk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from dsp.io.atomic import atomic_path
from dsp.units import gain_to_db
from models.rave import latent
from models.rave.generate import LfoPattern, RandomWalk
from models.rave.loader import RaveModel

SEED = 0
SWEEP_STD = 2.0  # an isolated dimension moves +-2 of its own deviations around its mean


@dataclass(frozen=True)
class DemoFile:
    """One written demo: file name, what it shows, and what was measured in it."""

    name: str
    shows: str
    seconds: float
    rms_dbfs: float
    peak_dbfs: float


def _db(x: float) -> float:
    return gain_to_db(max(x, 1e-10))


def encode(model: RaveModel, audio: np.ndarray) -> np.ndarray:
    """``(channels, samples)`` at the model rate -> ``(latent_dims, frames)``, seeded."""
    x = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))[None]
    return model.encode_offline(x, SEED)[0].numpy()


def decode(model: RaveModel, z: np.ndarray) -> np.ndarray:
    """``(latent_dims, frames)`` -> ``(channels, samples)`` from the model's loaded state."""
    model.reset()
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(SEED)  # latent padding noise, when the model pads
            return model.decode(torch.from_numpy(np.ascontiguousarray(z, np.float32))[None]
                                )[0].numpy()
    finally:
        model.reset()


def sweep(z: np.ndarray, dim: int) -> np.ndarray:
    """Every dimension held at its mean over ``z`` except ``dim``, which moves in one
    slow triangle from mean - SWEEP_STD sd to mean + SWEEP_STD sd and back."""
    mean, std = latent.latent_stats(z)
    frames = z.shape[1]
    held = np.repeat(mean[:, None], frames, axis=1)
    tri = 1.0 - 2.0 * np.abs(np.linspace(-1.0, 1.0, frames))  # -1 .. 1 .. -1
    held[dim] = mean[dim] + SWEEP_STD * max(float(std[dim]), 0.5) * tri
    return held.astype(np.float32)


def demo_latents(model: RaveModel, z: np.ndarray) -> list[tuple[str, str, np.ndarray]]:
    """``(file name, what it shows, latents)`` for every demo of base latents ``z``."""
    frames = z.shape[1]
    frame_s = model.compression_ratio / model.sample_rate
    dims = z.shape[0]
    out = [
        ("base.wav", "the input encoded and decoded, controls neutral", z),
        ("energy_low.wav", "energy 0.3x: every latent scaled toward the origin",
         latent.energy(z, 0.3)),
        ("energy_high.wav", "energy 2.0x: every latent pushed twice as far out",
         latent.energy(z, 2.0)),
    ]
    out += [(f"dim_{d + 1:02d}.wav", f"latent dimension {d + 1} swept alone "
             f"(+-{SWEEP_STD:g} sd around its mean), the others held at their means",
             sweep(z, d)) for d in range(dims)]
    out += [
        ("tempo_slow.wav", "tempo 0.5x: the base latents played at half speed (twice as "
         "long)", latent.tempo(z, 0.5)),
        ("tempo_fast.wav", "tempo 2.0x: the base latents played at double speed",
         latent.tempo(z, 2.0)),
        ("evolution.wav", "smooth evolution: no input, every dimension on its own slow LFO "
         "(3-20 s cycles)", LfoPattern(dims, frame_s, seed=SEED).next(frames)),
        ("random_walk.wav", "no input: a mean-reverting random walk through the latent "
         "space", RandomWalk(dims, frame_s, seed=SEED).next(frames)),
    ]
    return out


def render_demos(model: RaveModel, audio: np.ndarray, out_dir: Path) -> list[DemoFile]:
    """Write every demo of ``audio`` (``(channels, samples)`` at the model rate) into
    ``out_dir`` (created if missing); each file is written atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    z = encode(model, audio)
    written = []
    for name, shows, zd in demo_latents(model, z):
        y = decode(model, zd).T
        with atomic_path(out_dir / name) as tmp:
            sf.write(tmp, y, model.sample_rate, subtype="FLOAT")  # peaks may pass 0 dBFS
        written.append(DemoFile(name, shows, y.shape[0] / model.sample_rate,
                                _db(float(np.sqrt(np.mean(y ** 2)))),
                                _db(float(np.max(np.abs(y))))))
    return written
