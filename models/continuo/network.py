"""The neural transcriber: a causal dilated-convolution network with FiLM instrument
conditioning and four heads per key.

Feature frames (:mod:`models.continuo.frontend`) are normalised with the training set's
statistics, projected to ``width`` channels and go through residual blocks, each a causal
dilated convolution (kernel 3) whose output is scaled and shifted by the instrument's FiLM
parameters, then a ReLU and a 1x1 mix. The heads give, per key MIDI 21-108: onset and
frame-activity probabilities, the fine pitch offset from the key in semitones (+-0.5) and
the velocity. The instrument is one of ``INSTRUMENT_NAMES``: ``auto`` was trained on every
instrument's material with the label hidden.

Streaming: each block keeps its last ``(kernel - 1) * dilation`` inputs as its state, so
:meth:`Continuo.step` on one frame with the states equals :meth:`Continuo.forward` on the
whole sequence (zero states are the offline zero padding). :meth:`Continuo.silent_states`
are the states after a second of silence: what a stream starts from.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional

from models.continuo.frontend import FLOOR, N_FEATURES
from models.continuo.layout import HEADS, INSTRUMENT_NAMES, N_KEYS

DILATIONS = (1, 2, 4, 8, 16, 32, 1, 2)
KERNEL = 3
DROPOUT = 0.1


class Block(nn.Module):
    def __init__(self, width: int, dilation: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(width, width, KERNEL, dilation=dilation)
        self.mix = nn.Conv1d(width, width, 1)
        self.drop = nn.Dropout(DROPOUT)  # training only: an identity in the export
        self.context = (KERNEL - 1) * dilation

    def run(self, padded: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor
            ) -> torch.Tensor:
        """``padded`` holds ``context`` frames of history before the frames to compute."""
        h = self.conv(padded) * (1.0 + gamma[:, :, None]) + beta[:, :, None]
        return padded[:, :, self.context:] + self.mix(self.drop(functional.relu(h)))


class Continuo(nn.Module):
    def __init__(self, width: int = 128) -> None:
        super().__init__()
        self.width = width
        self.register_buffer("mean", torch.full((N_FEATURES,), float(torch.log(
            torch.tensor(FLOOR)))))
        self.register_buffer("std", torch.ones(N_FEATURES))
        self.inp = nn.Conv1d(N_FEATURES, width, 1)
        self.blocks = nn.ModuleList(Block(width, d) for d in DILATIONS)
        self.film = nn.Embedding(len(INSTRUMENT_NAMES), 2 * width * len(DILATIONS))
        nn.init.zeros_(self.film.weight)
        self.heads = nn.Conv1d(width, len(HEADS) * N_KEYS, 1)

    def _film(self, p: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per block (gamma, beta) from the FiLM vector ``p`` (B, 2 * width * blocks)."""
        p = p.view(-1, len(DILATIONS), 2, self.width)
        return [(p[:, i, 0], p[:, i, 1]) for i in range(len(DILATIONS))]

    def _inp(self, x: torch.Tensor) -> torch.Tensor:
        return self.inp((x - self.mean[:, None]) / self.std[:, None])

    def forward(self, x: torch.Tensor, instrument: torch.Tensor) -> torch.Tensor:
        """Raw head outputs (B, 4 * 88, T) for features ``x`` (B, N_FEATURES, T)."""
        h = self._inp(x)
        film = self._film(self.film(instrument))
        for block, (g, b) in zip(self.blocks, film, strict=True):
            h = block.run(functional.pad(h, (block.context, 0)), g, b)
        return self.heads(h)

    @staticmethod
    def activate(raw: torch.Tensor) -> torch.Tensor:
        """Probabilities, offset in semitones and velocity from the raw outputs."""
        onset, frame, offset, velocity = raw.split(N_KEYS, dim=1)
        return torch.cat([torch.sigmoid(onset), torch.sigmoid(frame),
                          0.5 * torch.tanh(offset), torch.sigmoid(velocity)], dim=1)

    def zero_states(self, batch: int = 1) -> list[torch.Tensor]:
        return [torch.zeros(batch, self.width, b.context) for b in self.blocks]

    def step(self, x: torch.Tensor, instrument: torch.Tensor, *states: torch.Tensor
             ) -> tuple[torch.Tensor, ...]:
        """One or more new frames ``x`` (B, N_FEATURES, T) with each block's state, the
        instrument one-hot (B, instruments, 1): (activated outputs (B, 4 * 88, T), *new
        states)."""
        h = self._inp(x)
        new = []
        film = self._film(instrument[:, :, 0] @ self.film.weight)
        for block, (g, b), s in zip(self.blocks, film, states, strict=True):
            padded = torch.cat([s, h], dim=2)
            new.append(padded[:, :, padded.shape[2] - block.context:])
            h = block.run(padded, g, b)
        return (self.activate(self.heads(h)), *new)

    @torch.no_grad()
    def silent_states(self, instrument: int = len(INSTRUMENT_NAMES) - 1
                      ) -> list[torch.Tensor]:
        """Each block's state after 1.5 s of silent frames (any instrument gives the same
        input-side history; FiLM makes it depend on the instrument, so pass it)."""
        silence = torch.full((1, N_FEATURES, 140), float(torch.log(torch.tensor(FLOOR))))
        out = self.step(silence, one_hot(instrument), *self.zero_states())
        return list(out[1:])


def one_hot(instrument: int) -> torch.Tensor:
    """The step's instrument input (1, instruments, 1)."""
    out = torch.zeros(1, len(INSTRUMENT_NAMES), 1)
    out[0, instrument, 0] = 1.0
    return out


class StepGraph(nn.Module):
    """``step`` with the states as separate arguments, for the ONNX export."""

    def __init__(self, model: Continuo) -> None:
        super().__init__()
        self.model = model

    def forward(self, features: torch.Tensor, instrument: torch.Tensor,
                *states: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return self.model.step(features, instrument, *states)
