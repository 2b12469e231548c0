"""The random-weight RAVE v2 of ``bench rave --full-size``: one network, three forms.

A small-capacity build of the same architecture keeps the tests quick; the explicit-state
modules, the scripted stateful peer and the ONNX graphs must agree block by block. No
wall-clock assertions: the timings themselves are only reported.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.bench import rave_full
from engine.bench.rave_full import (
    V2Config,
    build_v2,
    export_v2_onnx,
    interleaved_seconds,
    module_parameter_count,
    parameter_count,
    pqmf_filters,
    script_peer,
)
from engine.commands import bench
from engine.errors import UsageError
from models.rave.onnx_stream import OnnxStream

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rave"

# v2's bands, ratios, dilations and kernels; only the widths are small.
SMALL = V2Config(capacity=4, latent_size=8)
BLOCKS = 6
# acids-rave 2.3.1 configs/v2.gin built with EncoderV2 / GeneratorV2 / CachedPQMF and
# exported (weight norm removed): sum of the export's parameter sizes.
ACIDS_V2_PARAMETERS = 31_530_768


@pytest.fixture(scope="module")
def small() -> tuple[torch.nn.Module, torch.nn.Module]:
    return build_v2(SMALL, seed=3)


def _audio_blocks(n: int, seed: int = 0) -> list[torch.Tensor]:
    rng = np.random.default_rng(seed)
    return [torch.from_numpy((0.3 * rng.standard_normal((1, 1, SMALL.compression)))
                             .astype(np.float32)) for _ in range(n)]


def _explicit_run(encoder, decoder, blocks: list[torch.Tensor], seed: int = 10):
    """(z, audio) per block from the explicit-state modules, posterior noise seeded per
    block so the peer's ``randn_like`` can replay it."""
    enc_states, dec_states = encoder.initial_states(1), decoder.initial_states(1)
    out = []
    with torch.no_grad():
        for k, x in enumerate(blocks):
            torch.manual_seed(seed + k)
            eps = torch.randn(1, SMALL.latent_size, 1)
            z, enc_states = encoder(x, eps, enc_states)
            y, dec_states = decoder(z, None, dec_states)
            out.append((z, y, eps))
    return out


def test_scripted_peer_matches_explicit_state_block_by_block(small) -> None:
    encoder, decoder = small
    peer = script_peer(encoder, decoder, SMALL)
    blocks = _audio_blocks(BLOCKS)
    diffs = []
    with torch.no_grad():
        for k, (x, (z, y, _)) in enumerate(zip(blocks, _explicit_run(encoder, decoder, blocks),
                                               strict=True)):
            torch.manual_seed(10 + k)
            z_peer = peer.encode(x)
            diffs += [float((z_peer - z).abs().max()), float((peer.decode(z) - y).abs().max())]
    assert max(diffs) < 1e-6, diffs


def test_onnx_export_matches_explicit_state(small, tmp_path: Path) -> None:
    encoder, decoder = small
    enc_path, dec_path = export_v2_onnx(encoder, decoder, SMALL, tmp_path / "v2.onnx")
    enc, dec = OnnxStream(enc_path), OnnxStream(dec_path)
    blocks = _audio_blocks(BLOCKS, seed=1)
    diffs = []
    for x, (z, y, eps) in zip(blocks, _explicit_run(encoder, decoder, blocks), strict=True):
        z_onnx = enc(audio=x.numpy(), eps=eps.numpy())
        diffs += [float(np.abs(z_onnx - z.numpy()).max()),
                  float(np.abs(dec(z=z.numpy()) - y.numpy()).max())]
    assert max(diffs) < 1e-4, diffs


def test_caches_carry_between_blocks(small) -> None:
    """The same block from fresh caches decodes differently once the caches hold history."""
    encoder, decoder = small
    run = _explicit_run(encoder, decoder, _audio_blocks(4, seed=2))
    z_last = run[-1][0]
    with torch.no_grad():
        fresh, _ = decoder(z_last, None, decoder.initial_states(1))
    assert float((fresh - run[-1][1]).abs().max()) > 1e-4


def test_outputs_stay_finite_and_bounded_over_many_blocks(small) -> None:
    encoder, decoder = small
    run = _explicit_run(encoder, decoder, _audio_blocks(40, seed=4))
    peak = max(float(y.abs().max()) for _, y, _ in run)
    assert all(torch.isfinite(z).all() and torch.isfinite(y).all() for z, y, _ in run)
    assert 1e-3 < peak < 4.0, peak


def test_pqmf_filters_equal_a_genuine_export() -> None:
    """Our Kaiser-prototype bank is the one acids-rave 2.3.1 stores in its exports."""
    ts = torch.jit.load(str(FIXTURES / "rave_v2_tiny_streaming.ts"))
    analysis, synthesis = pqmf_filters(16, 100.0)
    assert torch.allclose(analysis, ts.pqmf.forward_conv.weight, atol=1e-6)
    assert torch.allclose(synthesis, ts.pqmf.inverse_conv.weight, atol=1e-6)


def test_parameter_count_formula(small) -> None:
    assert parameter_count(SMALL) == module_parameter_count(*small)
    assert parameter_count(V2Config()) == ACIDS_V2_PARAMETERS


def test_interleaved_rounds_feed_every_step_all_blocks_in_order() -> None:
    """Streams are stateful: each runtime must see a warm-up call, then every block once,
    in order, whatever the rounds."""
    blocks = np.arange(10, dtype=np.float32).reshape(10, 1, 1, 1)
    seen: list[list[float]] = [[], []]
    steps = [lambda x, k=k: seen[k].append(float(x.item())) for k in range(2)]
    totals = interleaved_seconds(steps, blocks, rounds=3)
    assert len(totals) == 2 and all(t >= 0 for t in totals)
    assert seen[0] == seen[1] == [0.0, *range(10)]


def _bench_args(*argv: str) -> argparse.Namespace:
    """``musicmill bench ...`` arguments parsed by the bench command's own parser (without
    the whole CLI, whose other commands are slow to import)."""
    parser = argparse.ArgumentParser()
    bench.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["bench", *argv])


def test_bench_full_size_json(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """The command's wiring and keys, on a stand-in result (the real run takes minutes)."""
    result = {"torchscript_rtf": 1.1, "onnx_rtf": 3.0, "speedup": 2.7, "params": 31_530_768,
              "blocks": 2, "block": 2048, "path": "encode+decode", "threads": 1}
    seen: list[float] = []
    monkeypatch.setattr(rave_full, "bench_v2_full", lambda seconds: seen.append(seconds) or result)
    args = _bench_args("rave", "--full-size", "--seconds", "0.1", "--json")
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert seen == [0.1]
    for key in ("torchscript_rtf", "onnx_rtf", "speedup", "params", "block"):
        assert out[key] == result[key]
    args = _bench_args("rave", "--full-size", "--seconds", "0.1")
    assert args.func(args) == 0
    assert "31.5 M parameters" in capsys.readouterr().out


def test_bench_full_size_refuses_a_model() -> None:
    args = _bench_args("rave", "some.ts", "--full-size")
    with pytest.raises(UsageError, match="leave MODEL out"):
        args.func(args)
