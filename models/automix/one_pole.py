"""The compressor's branching one-pole smoother as a torch function with an exact gradient.

``dsp.compressor`` smooths the gain reduction in dB with a one-pole whose coefficient is the
attack's while the target reduction is above the current one and the release's otherwise.
Run sample by sample in Python autograd it would cost minutes per batch, so the forward
pass and its adjoint (the same recursion run backwards in time) are Numba loops; the branch
taken is piecewise constant, so its derivative is the recursion's with the branch held.
"""

from __future__ import annotations

import numpy as np
import torch
from numba import njit, prange


@njit(nogil=True, cache=True, parallel=True)
def _forward(target: np.ndarray, a_attack: float, a_release: float,
             out: np.ndarray, coef: np.ndarray) -> None:
    for r in prange(target.shape[0]):
        gr = 0.0
        for t in range(target.shape[1]):
            u = target[r, t]
            a = a_attack if u > gr else a_release
            gr = a * gr + (1.0 - a) * u
            out[r, t] = gr
            coef[r, t] = a


@njit(nogil=True, cache=True, parallel=True)
def _backward(grad_out: np.ndarray, coef: np.ndarray, grad_target: np.ndarray) -> None:
    for r in prange(grad_out.shape[0]):
        lam = 0.0
        for t in range(grad_out.shape[1] - 1, -1, -1):
            lam = grad_out[r, t] + lam
            a = coef[r, t]
            grad_target[r, t] = (1.0 - a) * lam
            lam = a * lam


class BranchingOnePole(torch.autograd.Function):
    """``gr[t] = a gr[t-1] + (1 - a) target[t]``, ``a`` the attack coefficient while
    ``target[t] > gr[t-1]``, the release one otherwise; ``target (rows, frames)``."""

    @staticmethod
    def forward(ctx, target: torch.Tensor, a_attack: float, a_release: float) -> torch.Tensor:
        u = target.detach().to(torch.float64).contiguous().numpy()
        out = np.empty_like(u)
        coef = np.empty_like(u)
        _forward(u, a_attack, a_release, out, coef)
        ctx.save_for_backward(torch.from_numpy(coef))
        return torch.from_numpy(out).to(target.dtype)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        (coef,) = ctx.saved_tensors
        g = grad_out.detach().to(torch.float64).contiguous().numpy()
        grad = np.empty_like(g)
        _backward(g, coef.numpy(), grad)
        return torch.from_numpy(grad).to(grad_out.dtype), None, None


def smooth(target: torch.Tensor, a_attack: float, a_release: float) -> torch.Tensor:
    return BranchingOnePole.apply(target, a_attack, a_release)
