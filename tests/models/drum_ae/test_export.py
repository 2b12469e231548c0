"""Exports: the RAVE TorchScript interface and explicit-state ONNX give the same output."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.drum_ae.export import export_onnx, export_torchscript
from models.drum_ae.network import COMPRESSION, DELAY_SAMPLES, LATENT_DIMS, DrumAE
from models.drum_ae.shipped import load_network
from models.rave.loader import load_rave
from models.rave.onnx_export import onnx_paths
from models.rave.onnx_stream import OnnxStream


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    torch.manual_seed(1)
    net = DrumAE().eval()
    d = tmp_path_factory.mktemp("drum_export")
    ts = export_torchscript(net, d / "drums.ts")
    export_onnx(net, d / "drums.onnx")
    return net, ts, d / "drums.onnx"


def test_torchscript_reads_as_a_causal_streaming_rave_model(exported):
    _, ts, _ = exported
    info = load_rave(ts).info()
    assert info == {"sample_rate": 48000, "channels": 1, "latent_dims": LATENT_DIMS,
                    "full_latent_dims": LATENT_DIMS, "compression_ratio": COMPRESSION,
                    "streaming": True, "methods": ["encode", "decode", "forward"],
                    "causal": True, "delay_samples": DELAY_SAMPLES}


def test_weights_round_trip_through_the_export(exported):
    net, ts, _ = exported
    back = load_network(ts)
    for (name, a), b in zip(net.state_dict().items(), back.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_onnx_blocks_equal_torchscript_blocks(exported):
    _, ts, onnx_base = exported
    model = load_rave(ts)
    enc_path, dec_path = onnx_paths(onnx_base)
    enc, dec = OnnxStream(enc_path), OnnxStream(dec_path)
    rng = np.random.default_rng(0)
    worst = 0.0
    with torch.inference_mode():
        # Blocks of 1, 2 and 4 latent frames: the graphs take any multiple of the ratio,
        # and the noise table position must advance by each block's length.
        for frames in (1, 2, 4, 1, 1, 3):
            x = (0.3 * rng.standard_normal((1, 1, frames * COMPRESSION))).astype(np.float32)
            torch.manual_seed(frames)
            eps = torch.randn(1, LATENT_DIMS, frames)
            torch.manual_seed(frames)
            z_ts = model.module.encode(torch.from_numpy(x))
            z_onnx = enc(audio=x, eps=eps.numpy())
            assert np.allclose(z_onnx, z_ts.numpy(), atol=1e-5)
            y_ts = model.module.decode(z_ts).numpy()
            y_onnx = dec(z=z_onnx)
            worst = max(worst, float(np.max(np.abs(y_onnx - y_ts))))
    assert worst < 1e-4


def test_reset_restores_the_initial_stream(exported):
    _, ts, _ = exported
    model = load_rave(ts)
    x = torch.from_numpy((0.3 * np.random.default_rng(2).standard_normal(
        (1, 1, 4 * COMPRESSION))).astype(np.float32))
    torch.manual_seed(0)
    first = model.forward(x)
    torch.manual_seed(0)
    second = model.forward(x)  # continues: caches and noise position moved on
    model.reset()
    torch.manual_seed(0)
    again = model.forward(x)
    assert torch.equal(first, again)
    assert not torch.equal(first, second)
