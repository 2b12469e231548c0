import numpy as np
import pytest
import torch

from dsp.errors import InputError
from models.rave.loader import RaveLoadError, load_rave

from .conftest import DISCRETE, V2_SMALL, fixture_path


def test_v2_attributes_are_read(streaming):
    info = streaming.info()
    assert list(info) == ["sample_rate", "channels", "latent_dims", "full_latent_dims",
                          "compression_ratio", "streaming", "methods", "causal",
                          "delay_samples"]
    assert info["sample_rate"] == 44100
    assert info["channels"] == 1
    assert info["latent_dims"] == 16
    assert info["full_latent_dims"] == 16
    assert info["compression_ratio"] == 2048
    assert info["streaming"] is True
    assert info["methods"] == ["encode", "decode", "forward"]


def test_causality_and_delay_are_told_apart(streaming, causal, plain):
    assert streaming.causal is False
    assert causal.causal is True
    assert plain.streaming is False
    assert plain.causal is False  # non-streaming convolutions look ahead inside a block
    assert plain.delay_samples == 0
    # Measured first-influence delays of the fixtures (see loader doc): the causal config
    # answers within about a block, the non-causal one some 2.5 blocks later.
    assert 2048 <= causal.delay_samples < 2 * 2048
    assert 2 * 2048 < streaming.delay_samples < 3 * 2048
    assert causal.delay_samples < streaming.delay_samples


def test_non_streaming_export_warns_about_clicks():
    with pytest.warns(UserWarning, match="clicks"):
        load_rave(fixture_path("rave_v2_tiny.ts"))


def _blocks(model, x):
    out = []
    for i in range(0, x.size, 2048):
        torch.manual_seed(i)
        out.append(model.forward(torch.from_numpy(x[None, None, i:i + 2048].copy())))
    return torch.cat(out, -1).numpy()


def test_reset_restores_the_loaded_state_and_zeroing_would_not(streaming):
    x = np.random.default_rng(1).standard_normal(2048 * 3).astype(np.float32) * 0.1
    streaming.reset()
    first = _blocks(streaming, x)
    second = _blocks(streaming, x)  # caches now hold the first run: different output
    assert not np.array_equal(first, second)
    streaming.reset()
    np.testing.assert_array_equal(_blocks(streaming, x), first)
    # Zeroing every buffer is not a reset: it wipes non-state buffers (PQMF filters...).
    saved = {k: b.clone() for k, b in streaming.module.named_buffers()}
    with torch.no_grad():
        for _, b in streaming.module.named_buffers():
            if b.is_floating_point():
                b.zero_()
    zeroed = _blocks(streaming, x)
    with torch.no_grad():
        for k, b in streaming.module.named_buffers():
            b.copy_(saved[k])
    assert not np.allclose(zeroed, first)
    streaming.reset()


@pytest.mark.parametrize(("name", "channels"), [("streaming", 1), ("stereo", 2)])
def test_encode_decode_shapes(name, channels, request):
    model = request.getfixturevalue(name)
    model.reset()
    z = model.encode(torch.zeros(1, channels, 4096))
    assert tuple(z.shape) == (1, 16, 2)
    assert tuple(model.decode(z).shape) == (1, channels, 4096)
    model.reset()


def test_missing_file(tmp_path):
    with pytest.raises(RaveLoadError, match="no such model file"):
        load_rave(tmp_path / "nope.ts")


def test_wav_renamed_ts_is_not_torchscript(tmp_path):
    import soundfile as sf

    path = tmp_path / "drums.ts"
    sf.write(path, np.zeros(1000, np.float32), 44100, format="WAV")
    with pytest.raises(RaveLoadError, match="not a TorchScript export") as err:
        load_rave(path)
    assert "drums.ts" in str(err.value) and "\n" not in str(err.value)
    assert isinstance(err.value, InputError)  # the CLI turns it into exit 2


def test_corrupt_zip_is_a_one_line_error(tmp_path):
    import zipfile

    path = tmp_path / "junk.ts"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("junk/data.pkl", b"not a pickle")
    with pytest.raises(RaveLoadError, match="junk.ts") as err:
        load_rave(path)
    assert "\n" not in str(err.value)


def test_torchscript_without_encode_decode(tmp_path):
    class Gain(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * 2

    path = tmp_path / "gain.ts"
    torch.jit.save(torch.jit.script(Gain()), str(path))
    with pytest.raises(RaveLoadError, match=r"gain.ts: .*no encode\(\) method"):
        load_rave(path)


def test_incompatible_torch_is_named(tmp_path, monkeypatch):
    path = tmp_path / "future.ts"
    import shutil

    shutil.copy(fixture_path("rave_v2_tiny.ts"), path)

    def refuse(*_args, **_kwargs):
        raise RuntimeError("version_ number 99 is not supported\nC++ trace...")

    monkeypatch.setattr(torch.jit, "load", refuse)
    with pytest.raises(RaveLoadError, match="incompatible torch") as err:
        load_rave(path)
    assert "\n" not in str(err.value)


def test_v1_names_are_read(tmp_path):
    class V1(torch.nn.Module):
        """The v1 export's names: sampling_rate / latent_size buffers, no params."""

        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("sampling_rate", torch.tensor(48000))
            self.register_buffer("latent_size", torch.tensor(8))

        @torch.jit.export
        def encode(self, x: torch.Tensor) -> torch.Tensor:
            return x.reshape(1, 1, -1, 512).mean(-1).repeat(1, 8, 1)

        @torch.jit.export
        def decode(self, z: torch.Tensor) -> torch.Tensor:
            return z[:, :1].repeat_interleave(512, -1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.decode(self.encode(x))

    path = tmp_path / "v1.ts"
    torch.jit.save(torch.jit.script(V1()), str(path))
    with pytest.warns(UserWarning):
        model = load_rave(path)
    assert model.sample_rate == 48000
    assert model.latent_dims == 8
    assert model.full_latent_dims == 8
    assert model.compression_ratio == 512
    assert model.methods == ("encode", "decode", "forward")


def test_encode_is_a_posterior_sample_around_the_mean_path(plain):
    """encode = PCA(mean + randn * (softplus(scale) + 1e-4) - latent_mean), first draw."""
    m = plain.module
    x = torch.from_numpy(np.random.default_rng(2).standard_normal((1, 1, 4096))
                         .astype(np.float32) * 0.1)
    assert plain.has_mean_path
    with torch.inference_mode():
        torch.manual_seed(11)
        sampled = m.encode(x)
        raw = m.encoder(m.pqmf(x).reshape(1, -1, 4096 // 16))
        mean, scale = raw.chunk(2, 1)
        torch.manual_seed(11)
        noisy = mean + torch.randn_like(mean) * (torch.nn.functional.softplus(scale) + 1e-4)
        expected = torch.nn.functional.conv1d(noisy - m.latent_mean.unsqueeze(-1),
                                              m.latent_pca.unsqueeze(-1))[:, :16]
        mean_path = plain.encode_mean(x)
        noiseless = torch.nn.functional.conv1d(mean - m.latent_mean.unsqueeze(-1),
                                               m.latent_pca.unsqueeze(-1))[:, :16]
    torch.testing.assert_close(sampled, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(mean_path, noiseless, atol=1e-6, rtol=0)
    torch.testing.assert_close(plain.encode_mean(x), mean_path, atol=0, rtol=0)
    assert not torch.allclose(sampled, mean_path, atol=1e-3)


# Genuine acids-rave 2.3.1 exports of the v1, stereo v2 and v2_small configs (see
# tests/fixtures/rave/make_fixtures.py): what their exports declare, and the delays
# measured on them (float64, -180 dB of the impulse's largest effect: see the loader doc).
NEW_FIXTURES = {
    "v1": {"channels": 1, "latent_dims": 8, "compression_ratio": 2048, "delay_samples": 4707},
    "stereo": {"channels": 2, "latent_dims": 16, "compression_ratio": 2048,
               "delay_samples": 4460},
    "v2_small": {"channels": 1, "latent_dims": 16, "compression_ratio": 512,
                 "delay_samples": 2623},
}


@pytest.mark.parametrize("name", list(NEW_FIXTURES))
def test_v1_stereo_and_v2_small_info(name, request):
    model = request.getfixturevalue(name)
    expected = NEW_FIXTURES[name]
    assert model.info() == {
        "sample_rate": 44100,
        "channels": expected["channels"],
        "latent_dims": expected["latent_dims"],
        "full_latent_dims": 16,
        "compression_ratio": expected["compression_ratio"],
        "streaming": True,
        "methods": ["encode", "decode", "forward"],
        "causal": False,
        "delay_samples": expected["delay_samples"],
    }


@pytest.mark.parametrize("name", list(NEW_FIXTURES))
def test_mean_path_matches_the_rebuilt_encoder_without_noise(name, request):
    """encode_mean reads the export's submodules directly; our rebuilt encoder with zero
    posterior noise is an independent reading of the same export."""
    from models.rave.ts_convert import from_torchscript

    model = request.getfixturevalue(name)
    channels, ratio = model.channels, model.compression_ratio
    x = torch.from_numpy(np.random.default_rng(3).standard_normal((1, channels, 2 * ratio))
                         .astype(np.float32) * 0.3)
    model.reset()  # the rebuilt encoder starts from the caches as loaded
    encoder, _ = from_torchscript(model.module)
    assert model.has_mean_path
    mean = model.encode_mean(x)
    model.reset()
    with torch.no_grad():
        rebuilt, _ = encoder(x, torch.zeros(1, model.full_latent_dims, 2),
                             encoder.initial_states(1))
    assert tuple(mean.shape) == (1, model.latent_dims, 2)
    torch.testing.assert_close(mean, rebuilt, atol=1e-5, rtol=0)


def test_discrete_info(discrete):
    """acids-rave 2.3.1's discrete config (4 quantizers of 32 codes on a 16-dim latent,
    ratios 4 4 2 2): the variational keys unchanged, the quantizer's facts added."""
    assert discrete.discrete
    assert discrete.info() == {
        "sample_rate": 44100,
        "channels": 1,
        "latent_dims": 4,
        "full_latent_dims": 16,
        "compression_ratio": 1024,
        "streaming": True,
        "methods": ["encode", "decode", "forward"],
        "causal": False,
        "delay_samples": 9728,
        "discrete": True,
        "num_quantizers": 4,
        "codebook_size": 32,
    }


def test_variational_exports_are_not_discrete(v1, v2_small):
    for model in (v1, v2_small):
        assert not model.discrete
        assert model.num_quantizers is None and model.codebook_size is None
        assert "discrete" not in model.info()
        with pytest.raises(RuntimeError, match="not a discrete export"):
            model.latent_to_codes(torch.zeros(1, model.full_latent_dims, 1))


def test_discrete_encode_gives_codes_and_no_mean_path(discrete):
    """Codebook indices as float32, the same with any seed (nearest entry: no sampling)."""
    x = torch.from_numpy(np.random.default_rng(4).standard_normal((1, 1, 4 * 1024))
                         .astype(np.float32) * 0.3)
    runs = []
    for seed in (0, 1):
        discrete.reset()
        torch.manual_seed(seed)
        runs.append(discrete.encode(x))
    discrete.reset()
    codes = runs[0]
    assert codes.shape == (1, 4, 4) and codes.dtype == torch.float32
    assert torch.equal(codes, codes.round()) and 0 <= codes.min() and codes.max() < 32
    assert torch.equal(runs[0], runs[1])
    assert not discrete.has_mean_path


def test_discrete_codes_and_quantized_latent(discrete):
    """codes_to_latent sums the stages' codebook vectors, as the export's decode does;
    latent_to_codes is the quantizer step of the export's encode."""
    stages = [getattr(discrete.module.encoder.rvq.layers, str(i)) for i in range(4)]
    codes = torch.tensor([[[0.0, 31.0], [5.0, 7.0], [12.0, 1.0], [30.0, 2.0]]])
    z = discrete.codes_to_latent(codes)
    expected = sum(s._codebook.embed[codes[0, i].long()].T for i, s in enumerate(stages))
    assert z.shape == (1, 16, 2)
    torch.testing.assert_close(z[0], expected, atol=1e-7, rtol=0)
    # Out-of-range codes are clamped as decode clamps them.
    torch.testing.assert_close(discrete.codes_to_latent(codes + 40)[..., 1],
                               discrete.codes_to_latent(codes.clamp(min=31))[..., 1])

    x = torch.from_numpy(np.random.default_rng(5).standard_normal((1, 1, 3 * 1024))
                         .astype(np.float32) * 0.3)
    m = discrete.module
    discrete.reset()
    with torch.inference_mode():
        unquantized = m.encoder(m.pqmf(x))
    discrete.reset()
    encoded = discrete.encode(x)
    discrete.reset()
    assert torch.equal(discrete.latent_to_codes(unquantized), encoded)


@pytest.mark.parametrize("name", [V2_SMALL, DISCRETE, "rave_v2_tiny_streaming.ts"])
def test_the_delay_is_the_same_at_any_thread_count(name):
    """Float rounding (thread count, oneDNN or not) must not move the measured delay:
    rave_align_dry lines the dry voice up by it."""
    delays = set()
    before = torch.get_num_threads()
    try:
        for threads, onednn in ((1, True), (2, True), (2, False)):
            torch.set_num_threads(threads)
            torch.backends.mkldnn.enabled = onednn
            delays.add(load_rave(fixture_path(name)).delay_samples)
    finally:
        torch.set_num_threads(before)
        torch.backends.mkldnn.enabled = True
    assert len(delays) == 1, delays
