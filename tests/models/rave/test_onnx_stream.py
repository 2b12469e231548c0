"""OnnxStream: block-by-block runs with IOBinding-held states equal the whole signal's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from models.rave.onnx_export import export_graph
from models.rave.onnx_stream import OnnxStream

KERNEL = 5
CHANNELS = 3


class _CausalConv(torch.nn.Module):
    """``y = conv([cache, x])`` carrying the last KERNEL - 1 samples, with a running sum as
    a second state (so the stream has more than one state to swap)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv1d(1, CHANNELS, KERNEL)

    def forward(self, x: torch.Tensor, cache: torch.Tensor, total: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        padded = torch.cat([cache, x], -1)
        y = self.conv(padded) + total
        return y, padded[..., -(KERNEL - 1):], total + x.sum(-1, keepdim=True)


def _initial() -> list[torch.Tensor]:
    # Non-zero defaults: a stream that ignored them would show it on the first block.
    return [torch.linspace(-1.0, 1.0, KERNEL - 1).reshape(1, 1, -1), torch.full((1, 1, 1), 0.5)]


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("stream") / "conv.onnx"
    export_graph(_CausalConv(), [torch.zeros(1, 1, 16)], ["audio"], "y", _initial(), path,
                 dynamic_batch=False)
    return path


def _blocks(lengths: list[int], seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((1, 1, n)).astype(np.float32) for n in lengths]


def _reference(blocks: list[np.ndarray]) -> list[np.ndarray]:
    """Torch, one block at a time, states fed back by hand."""
    module, states, out = _CausalConv(), _initial(), []
    with torch.no_grad():
        for block in blocks:
            y, *states = module(torch.from_numpy(block), *states)
            out.append(y.numpy())
    return out


def test_blocks_match_torch_with_states_carried(graph: Path) -> None:
    blocks = _blocks([16] * 6)
    stream = OnnxStream(graph)
    got = [stream(audio=b) for b in blocks]
    for mine, ref in zip(got, _reference(blocks), strict=True):
        np.testing.assert_allclose(mine, ref, atol=1e-5)


def test_returned_blocks_are_not_overwritten(graph: Path) -> None:
    blocks = _blocks([16] * 3)
    stream = OnnxStream(graph)
    got = [stream(audio=b) for b in blocks]
    kept = [g.copy() for g in got]
    stream(audio=blocks[0])
    for a, b in zip(got, kept, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(got[1], got[2])


def test_block_length_may_change_mid_stream(graph: Path) -> None:
    blocks = _blocks([16, 16, 32, 8, 16])
    stream = OnnxStream(graph)
    for mine, ref in zip([stream(audio=b) for b in blocks], _reference(blocks), strict=True):
        assert mine.shape == ref.shape
        np.testing.assert_allclose(mine, ref, atol=1e-5)


def test_reset_and_states(graph: Path) -> None:
    blocks = _blocks([16] * 3)
    stream = OnnxStream(graph)
    first = stream(audio=blocks[0])
    saved = stream.states
    saved["state_in_0"][...] = 99.0  # a copy: editing it changes nothing the stream reads
    second = stream(audio=blocks[1])
    np.testing.assert_allclose(second, _reference(blocks[:2])[1], atol=1e-5)
    stream.reset()
    np.testing.assert_array_equal(stream(audio=blocks[0]), first)
    stream.states = stream.states | {"state_in_1": stream.states["state_in_1"] * 0}
    moved = stream(audio=blocks[1])
    # Only the running sum was changed (to 0 from the carried value), so the output moves by
    # exactly that value.
    carried = float(_initial()[1]) + float(blocks[0].sum())
    np.testing.assert_allclose(second - moved, carried, atol=1e-5)
    np.testing.assert_array_equal(stream.initial["state_in_0"], _initial()[0].numpy())
