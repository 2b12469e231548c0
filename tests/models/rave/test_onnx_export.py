"""Explicit-state ONNX export of RAVE streaming models, checked against the TorchScript."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from dsp.errors import InputError
from engine.commands.rave_onnx import register_export
from models.rave.onnx_export import decode_noise_layout, export_onnx, verify
from models.rave.onnx_graphs import draw_decode_noise, graph_noise_layout, onnx_paths
from models.rave.onnx_stream import OnnxStream
from models.rave.torch_rng import TorchRng
from models.rave.ts_convert import UnsupportedModelError, from_torchscript

from .conftest import STEREO, V1, V2_SMALL, fixture_path

MONO_V2 = ["rave_v2_tiny_streaming.ts", "rave_v2_tiny_causal_streaming.ts"]
STREAMING = [*MONO_V2, V1, STEREO, V2_SMALL]
TOL = 1e-4
# Non-state graph inputs per export: v1 keeps 8 of its 16 latent dims (latent_noise) and
# v1 / v2_small have a noise branch (noise).
DECODE_INPUTS = {MONO_V2[0]: ["z"], MONO_V2[1]: ["z"], STEREO: ["z"],
                 V1: ["z", "latent_noise", "noise"], V2_SMALL: ["z", "noise"]}


def _load(ts_path: Path) -> torch.jit.ScriptModule:
    return torch.jit.load(str(ts_path)).eval()


@pytest.fixture(scope="module", params=STREAMING)
def exported(request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(ts path, onnx base path) with the ONNX graphs written once per fixture."""
    ts_path = fixture_path(request.param)
    onnx_path = tmp_path_factory.mktemp("onnx") / (ts_path.stem + ".onnx")
    export_onnx(ts_path, onnx_path)
    return ts_path, onnx_path


def _latents(ts: torch.jit.ScriptModule, blocks: int, seed: int = 1) -> list[np.ndarray]:
    """One latent frame per block (one compression ratio of audio)."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((1, int(ts.latent_size), 1)).astype(np.float32)
            for _ in range(blocks)]


def _decode_diffs(ts: torch.jit.ScriptModule, dec: OnnxStream, blocks: int,
                  noise_seed_offset: int = 0) -> list[float]:
    """Per-block max |ONNX - TorchScript| of decode, the ONNX noise drawn from a TorchRng
    seeded like torch before the TorchScript call (plus ``noise_seed_offset``: nonzero
    feeds other noise)."""
    layout = decode_noise_layout(ts, from_torchscript(ts)[1])
    diffs = []
    with torch.no_grad():
        for k, z in enumerate(_latents(ts, blocks)):
            torch.manual_seed(k)
            y_ts = ts.decode(torch.from_numpy(z)).numpy()
            y = dec(z=z, **draw_decode_noise(layout, 1, TorchRng(k + noise_seed_offset)))
            assert y.shape == y_ts.shape == (1, int(ts.n_channels), int(ts.decode_params[1]))
            diffs.append(float(np.abs(y - y_ts).max()))
    return diffs


def test_decode_matches_torchscript_over_blocks(exported: tuple[Path, Path]) -> None:
    ts_path, onnx_path = exported
    diffs = _decode_diffs(_load(ts_path), OnnxStream(onnx_paths(onnx_path)[1]), 6)
    assert max(diffs) < TOL, diffs


@pytest.mark.parametrize("name", [V1, V2_SMALL])
def test_noise_branch_is_heard_and_replayed(name: str, tmp_path: Path) -> None:
    """The fixtures' noise is loud enough that feeding other noise fails the tolerance, so
    the equivalence above really checks the noise path."""
    ts_path = fixture_path(name)
    export_onnx(ts_path, tmp_path / "m.onnx")
    dec_path = onnx_paths(tmp_path / "m.onnx")[1]
    same = _decode_diffs(_load(ts_path), OnnxStream(dec_path), 3)
    other = _decode_diffs(_load(ts_path), OnnxStream(dec_path), 3, noise_seed_offset=100)
    assert max(same) < TOL and min(other) > 100 * TOL, (same, other)


def test_decode_state_is_carried(exported: tuple[Path, Path]) -> None:
    """Resetting the state every block must give a different result: the caches matter."""
    ts_path, onnx_path = exported
    ts = _load(ts_path)
    path = onnx_paths(onnx_path)[1]
    carried, reset = OnnxStream(path), OnnxStream(path)
    noise = draw_decode_noise(decode_noise_layout(ts, from_torchscript(ts)[1]), 1, TorchRng(0))
    diff = 0.0
    for z in _latents(ts, 4):
        reset.reset()
        diff = max(diff, float(np.abs(carried(z=z, **noise) - reset(z=z, **noise)).max()))
    assert diff > 1e-3


def test_encode_matches_torchscript_with_same_noise(exported: tuple[Path, Path]) -> None:
    ts_path, onnx_path = exported
    ts = _load(ts_path)
    enc = OnnxStream(onnx_paths(onnx_path)[0])
    channels, ratio = int(ts.n_channels), int(ts.decode_params[1])
    rng = np.random.default_rng(2)
    diffs = []
    with torch.no_grad():
        for k in range(6):
            # Distinct channels: a swapped or mixed stereo layout shows up as a difference.
            audio = (0.3 * rng.standard_normal((1, channels, ratio))).astype(np.float32)
            torch.manual_seed(k)
            z_ts = ts.encode(torch.from_numpy(audio)).numpy()
            torch.manual_seed(k)  # RAVE draws randn_like(mean): the same numbers as this
            eps = torch.randn(1, int(ts.full_latent_size), 1).numpy()
            z = enc(audio=audio, eps=eps)
            assert z.shape == z_ts.shape == (1, int(ts.latent_size), 1)
            diffs.append(float(np.abs(z - z_ts).max()))
    assert max(diffs) < TOL, diffs


def test_graph_names_and_default_states(exported: tuple[Path, Path]) -> None:
    import onnxruntime as ort

    ts_path, onnx_path = exported
    encoder, decoder = from_torchscript(_load(ts_path))
    expected_inputs = (["audio", "eps"], DECODE_INPUTS[ts_path.name])
    for path, module, inputs in zip(onnx_paths(onnx_path), (encoder, decoder),
                                    expected_inputs, strict=True):
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        n = module.n_states()
        assert n > 0
        outputs = [o.name for o in session.get_outputs()]
        assert outputs[0] == ("z" if inputs[0] == "audio" else "audio")
        assert outputs[1:] == [f"state_out_{k}" for k in range(n)]
        # The states have defaults, so ORT lists them apart from the required inputs.
        assert [i.name for i in session.get_inputs()] == inputs
        overridable = {i.name for i in session.get_overridable_initializers()}
        assert overridable == {f"state_in_{k}" for k in range(n)}


def test_decode_graph_records_its_noise_layout(exported: tuple[Path, Path]) -> None:
    ts_path, onnx_path = exported
    recorded = graph_noise_layout(OnnxStream(onnx_paths(onnx_path)[1]))
    assert recorded == decode_noise_layout(_load(ts_path), from_torchscript(_load(ts_path))[1])
    assert (recorded.latent_dims > 0) == ("latent_noise" in DECODE_INPUTS[ts_path.name])
    assert (recorded.bands > 0) == ("noise" in DECODE_INPUTS[ts_path.name])


def test_noise_layout_of_graphs_without_the_record(tmp_path: Path) -> None:
    """Graphs exported before the layout was recorded: read from the inputs, and a noise
    input without a record is refused rather than guessed."""
    import onnx

    for name, expected in ((MONO_V2[0], 0), (V1, None)):
        export_onnx(fixture_path(name), tmp_path / "m.onnx")
        dec_path = onnx_paths(tmp_path / "m.onnx")[1]
        graph = onnx.load(str(dec_path))
        del graph.metadata_props[:]
        onnx.save(graph, str(dec_path))
        if expected is None:
            with pytest.raises(ValueError, match="export it again"):
                graph_noise_layout(OnnxStream(dec_path))
        else:
            assert graph_noise_layout(OnnxStream(dec_path)).bands == expected


def test_audio_channels_in_the_encode_graph(exported: tuple[Path, Path]) -> None:
    """The audio input declares the model's channel count (decode's output is checked at
    run time in the comparisons above)."""
    import onnxruntime as ort

    ts_path, onnx_path = exported
    session = ort.InferenceSession(str(onnx_paths(onnx_path)[0]),
                                   providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape[1] == (2 if ts_path.name == STEREO else 1)


def test_verify_reports_small_difference(exported: tuple[Path, Path]) -> None:
    result = verify(*exported, blocks=3)
    assert result["max_abs_diff"] < TOL
    assert result["max_abs_diff"] == max(result["encode_max_abs_diff"],
                                         result["decode_max_abs_diff"])


@pytest.mark.parametrize("name", [MONO_V2[1], V1, STEREO, V2_SMALL])
def test_torch_streaming_model_matches_exactly(name: str) -> None:
    """Our explicit-state torch modules (before ONNX) reproduce TorchScript decode."""
    ts = _load(fixture_path(name))
    _, decoder = from_torchscript(_load(fixture_path(name)))
    layout = decode_noise_layout(ts, decoder)
    states = decoder.initial_states(1)
    with torch.no_grad():
        for k, z in enumerate(_latents(ts, 3)):
            torch.manual_seed(k)
            expected = ts.decode(torch.from_numpy(z))
            drawn = draw_decode_noise(layout, 1, TorchRng(k))
            noise = {n: torch.from_numpy(v) for n, v in drawn.items()}
            y, states = decoder(torch.from_numpy(z), noise.get("latent_noise"), states,
                                noise.get("noise"))
            assert torch.allclose(y, expected, atol=1e-5)


def test_v1_before_warm_up_has_no_noise_input(tmp_path: Path) -> None:
    """A v1 model still in its first training phase runs its noise branch but does not add
    it: the export leaves the branch (and its input) out and still matches."""
    ts = _load(fixture_path(V1))
    ts.decoder.warmed_up.zero_()
    ts_path = tmp_path / "v1_phase1.ts"
    ts.save(str(ts_path))
    export_onnx(ts_path, tmp_path / "m.onnx")
    _, decoder = from_torchscript(_load(ts_path))
    assert decoder.noise_filter is None
    assert verify(ts_path, tmp_path / "m.onnx", blocks=3)["max_abs_diff"] < TOL


def test_non_streaming_model_is_refused() -> None:
    path = fixture_path("rave_v2_tiny.ts")
    with pytest.raises(UnsupportedModelError, match="not a streaming export"):
        from_torchscript(torch.jit.load(str(path)))


def test_stereo_mode_is_refused_by_name() -> None:
    """A mono model switched to stereo_mode (the VST's trick) runs another graph."""
    ts = torch.jit.load(str(fixture_path(MONO_V2[0])))
    ts.set_stereo_mode(torch.tensor(True))
    with pytest.raises(UnsupportedModelError, match="stereo_mode"):
        from_torchscript(ts)


def test_rave_1x_export_format_is_refused_by_name() -> None:
    class Legacy(torch.nn.Module):
        """The RAVE 1.x export's names: sampling_rate / latent_size buffers, no params."""

        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("sampling_rate", torch.tensor(48000))
            self.register_buffer("latent_size", torch.tensor(8))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x

    with pytest.raises(UnsupportedModelError, match="RAVE 1.x"):
        from_torchscript(torch.jit.script(Legacy()))


def _cli(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="musicmill")
    top = parser.add_subparsers(dest="command", required=True)
    rave = top.add_parser("rave").add_subparsers(dest="rave", required=True)
    register_export(rave)
    return parser.parse_args(argv)


@pytest.mark.parametrize("name", [MONO_V2[1], STEREO])
def test_cli_export_verify_json(name: str, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    ts_path = fixture_path(name)
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
    cases = [tmp_path / "missing.ts", garbage, fixture_path("rave_v2_tiny.ts")]
    for model in cases:
        args = _cli(["rave", "export-onnx", str(model), "-o", str(tmp_path / "x.onnx")])
        with pytest.raises(InputError) as info:
            args.func(args)
        assert "\n" not in str(info.value)
    args = _cli(["rave", "export-onnx", str(fixture_path(MONO_V2[0])), "-o",
                 str(tmp_path / "no" / "such" / "dir" / "x.onnx")])
    with pytest.raises(InputError):
        args.func(args)
    assert not list(tmp_path.glob("x*.onnx"))
