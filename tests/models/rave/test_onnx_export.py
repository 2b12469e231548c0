"""Explicit-state ONNX export of RAVE streaming models, checked against the TorchScript."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.commands.rave_onnx import register_export
from engine.errors import UsageError
from models.rave.onnx_export import OnnxStream, export_onnx, onnx_paths, verify
from models.rave.streaming_model import UnsupportedModelError, from_torchscript

FIXTURES = Path(__file__).resolve().parents[3].parent / "shared/fixtures/rave"
STREAMING = ["rave_v2_tiny_streaming.ts", "rave_v2_tiny_causal_streaming.ts"]
BLOCK = 2048
TOL = 1e-4


def _fixture(name: str) -> Path:
    path = FIXTURES / name
    if not path.is_file():
        pytest.fail(f"RAVE fixture missing: {path} (genuine acids-rave 2.3.1 exports expected "
                    "in ../shared/fixtures/rave)")
    return path


@pytest.fixture(scope="module", params=STREAMING)
def exported(request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(ts path, onnx base path) with the ONNX graphs written once per fixture."""
    ts_path = _fixture(request.param)
    onnx_path = tmp_path_factory.mktemp("onnx") / (ts_path.stem + ".onnx")
    export_onnx(ts_path, onnx_path)
    return ts_path, onnx_path


def _latents(blocks: int, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((1, 16, BLOCK // 2048)).astype(np.float32)
            for _ in range(blocks)]


def test_decode_matches_torchscript_over_blocks(exported: tuple[Path, Path]) -> None:
    ts_path, onnx_path = exported
    ts = torch.jit.load(str(ts_path)).eval()
    dec = OnnxStream(onnx_paths(onnx_path)[1])
    diffs = []
    with torch.no_grad():
        for z in _latents(6):
            diffs.append(float(np.abs(dec(z=z) - ts.decode(torch.from_numpy(z)).numpy()).max()))
    assert max(diffs) < TOL, diffs


def test_decode_state_is_carried(exported: tuple[Path, Path]) -> None:
    """Resetting the state every block must give a different result: the caches matter."""
    ts_path, onnx_path = exported
    path = onnx_paths(onnx_path)[1]
    carried, reset = OnnxStream(path), OnnxStream(path)
    initial = dict(reset.states)
    diff = 0.0
    for z in _latents(4):
        reset.states = dict(initial)
        diff = max(diff, float(np.abs(carried(z=z) - reset(z=z)).max()))
    assert diff > 1e-3


def test_encode_matches_torchscript_with_same_noise(exported: tuple[Path, Path]) -> None:
    ts_path, onnx_path = exported
    ts = torch.jit.load(str(ts_path)).eval()
    enc = OnnxStream(onnx_paths(onnx_path)[0])
    rng = np.random.default_rng(2)
    diffs = []
    with torch.no_grad():
        for k in range(6):
            audio = (0.3 * rng.standard_normal((1, 1, BLOCK))).astype(np.float32)
            torch.manual_seed(k)
            z_ts = ts.encode(torch.from_numpy(audio)).numpy()
            torch.manual_seed(k)  # RAVE draws randn_like(mean): the same numbers as this
            eps = torch.randn(1, 16, BLOCK // 2048).numpy()
            diffs.append(float(np.abs(enc(audio=audio, eps=eps) - z_ts).max()))
    assert max(diffs) < TOL, diffs


def test_graph_names_and_default_states(exported: tuple[Path, Path]) -> None:
    import onnxruntime as ort

    _, onnx_path = exported
    for path in onnx_paths(onnx_path):
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        outputs = [o.name for o in session.get_outputs()]
        states_out = [n for n in outputs if n.startswith("state_out_")]
        assert states_out and len(states_out) == len(outputs) - 1
        overridable = {i.name for i in session.get_overridable_initializers()}
        assert overridable == {n.replace("state_out_", "state_in_") for n in states_out}


def test_verify_reports_small_difference(exported: tuple[Path, Path]) -> None:
    result = verify(*exported, blocks=3)
    assert result["max_abs_diff"] < TOL
    assert result["max_abs_diff"] == max(result["encode_max_abs_diff"],
                                         result["decode_max_abs_diff"])


def test_torch_streaming_model_matches_exactly() -> None:
    """Our explicit-state torch modules (before ONNX) reproduce TorchScript decode."""
    path = _fixture(STREAMING[1])
    ts = torch.jit.load(str(path)).eval()
    _, decoder = from_torchscript(torch.jit.load(str(path)))
    states = decoder.initial_states(1)
    with torch.no_grad():
        for z in _latents(3):
            y, states = decoder(torch.from_numpy(z), None, states)
            assert torch.allclose(y, ts.decode(torch.from_numpy(z)), atol=1e-6)


def test_non_streaming_model_is_refused() -> None:
    path = _fixture("rave_v2_tiny.ts")
    with pytest.raises(UnsupportedModelError):
        from_torchscript(torch.jit.load(str(path)))


def _cli(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="musicmill")
    top = parser.add_subparsers(dest="command", required=True)
    rave = top.add_parser("rave").add_subparsers(dest="rave", required=True)
    register_export(rave)
    return parser.parse_args(argv)


def test_cli_export_verify_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ts_path = _fixture(STREAMING[1])
    out = tmp_path / "model.onnx"
    args = _cli(["rave", "export-onnx", str(ts_path), "-o", str(out), "--verify", "--json"])
    assert args.func(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["max_abs_diff"] < TOL
    assert all(p.is_file() for p in onnx_paths(out))
    # Atomic write: no temporary files left beside the outputs.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.decode.onnx",
                                                          "model.encode.onnx"]


def test_cli_bad_inputs_are_usage_errors(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.ts"
    garbage.write_bytes(b"not a model")
    cases = [tmp_path / "missing.ts", garbage, _fixture("rave_v2_tiny.ts")]
    for model in cases:
        args = _cli(["rave", "export-onnx", str(model), "-o", str(tmp_path / "x.onnx")])
        with pytest.raises(UsageError) as info:
            args.func(args)
        assert "\n" not in str(info.value)
    args = _cli(["rave", "export-onnx", str(_fixture(STREAMING[0])), "-o",
                 str(tmp_path / "no" / "such" / "dir" / "x.onnx")])
    with pytest.raises(UsageError):
        args.func(args)
    assert not list(tmp_path.glob("x*.onnx"))
