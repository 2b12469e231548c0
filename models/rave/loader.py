"""Loading acids-ircam RAVE TorchScript exports (``.ts``) and reading what they are.

A RAVE export is a ``torch.jit`` archive with ``encode``, ``decode`` and ``forward``
methods. acids-rave 2.x exports (of every config: v1, v2, v2_small...) carry attributes
``sr``, ``latent_size``, ``full_latent_size``, ``n_channels``, ``stereo_mode`` and the
buffers ``encode_params = [in_ch, in_ratio, L, compression]`` and
``decode_params = [L, compression, out_ch, out_ratio]``; exports of the older RAVE 1.x
code carry ``sampling_rate`` and ``latent_size`` buffers instead. Shapes:
``encode: (B, ch, T) -> (B, L, T / compression)``, ``decode`` the inverse; ``ch`` is 2 for
a model trained on stereo (``n_channels``).

How the properties are told:

* **streaming**: the export was scripted with cached convolutions (``cached_conv``): their
  state lives in buffers named ``....cache.pad`` (and the PQMF's ``forward_conv.cache``).
  Any buffer whose dotted name has a ``cache`` component means streaming. Such a model is
  stateful: every call continues where the last one stopped.
* **causal**: for streaming exports, ``cached_conv`` records on each ``CachedConv1d`` the
  delay it adds to stay causal (``cumulative_delay``, from its future padding). A causal
  training config has no future padding anywhere, so every ``CachedConv1d`` reports 0
  (transposed convolutions still report their stride alignment, so they are ignored).
  For non-streaming exports it is measured: an impulse at the end of a block that changes
  output *before* it means the convolutions look ahead (non-causal).
* **delay_samples**: measured, not read (unless the export declares ``latency_samples``, as
  MusicMill's drum model does). Two runs from the loaded state over blocks of the
  compression ratio, one on silence and one with a unit impulse at the start of block 1,
  with the same random seeds per block (``encode`` samples the posterior, see
  ``models/rave/processor.py``), in float64. The delay is the distance from the impulse
  to the first output sample the impulse moves by more than ``INFLUENCE_FLOOR`` (-180 dB)
  of the most it moves any sample. Both choices make it the same on every machine: in
  float32 a contribution under 6e-8 of the signal is absorbed by rounding, and which one
  is absorbed depends on the CPU's code paths (the v2_small fixture measured 2556 here and
  3592 on another x86-64 machine); in float64 rounding is 1e-16 of the signal, and the
  floor lies far above it (the fixtures' delays are equal at 1 and 2 threads, with and
  without oneDNN). It is the earliest the input is heard at all, a lower bound of what a
  listener hears (a trained model puts most of the energy a little later). An export that
  cannot run in float64 is measured in float32. On a discrete export the impulse is heard
  once it changes a code, which depends on where the codebook's boundaries lie.
* **discrete**: exports of acids-rave's ``discrete`` configs (``DiscreteScriptedRAVE``) have
  an encoder with a residual vector quantizer (``encoder.rvq``, scripted ``encode`` and
  ``decode``). Their ``encode`` returns codebook indices as float32,
  ``(B, num_quantizers, T / compression)`` (``latent_size`` is the number of quantizers),
  picked by nearest codebook entry: no sampling. ``decode`` clamps its input to
  ``0..codebook_size - 1``, truncates it to integers, sums the stages' codebook vectors
  (the quantized latent, ``full_latent_size`` dims) and appends ``noise_augmentation``
  channels of ``torch.randn`` before the decoder, so decoding draws from torch's global
  generator. Nothing in the export flags it discrete; the quantizer's presence does.
* **reset**: ``reset()`` restores every buffer to a copy taken at load. Zeroing the caches
  is wrong: some buffers (PQMF filters, latent PCA, ``warmed_up``...) are not state, and
  the caches' initial contents are whatever the export saved.
"""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models.errors import ModelError
from models.rave.meta import not_streaming_message

# The delay is where the impulse first moves the output by this fraction of its largest move
# (-180 dB): far above float64 rounding, far below anything audible (module doc).
INFLUENCE_FLOOR = 1e-9
# How many blocks after the impulse the delay measurement looks: a v2 non-causal export
# adds ~280 ms (~6 blocks of 2048 at 44.1 kHz); 16 leaves room for bigger configs.
_DELAY_PROBE_BLOCKS = 16


class RaveLoadError(ModelError):
    """A file that is not a usable RAVE export; the one-line message names the file."""


class RaveModel:
    """A loaded RAVE export plus what was read and measured about it.

    Audio at the model's ``sample_rate`` (Hz); ``compression_ratio`` samples per latent
    frame. ``encode``/``decode`` take and return torch tensors, see their docstrings.
    """

    def __init__(self, path: Path, module: torch.jit.ScriptModule) -> None:
        self.path = path
        self.module = module
        self.methods = _methods(module)
        for needed in ("encode", "decode"):
            if needed not in self.methods:
                raise RaveLoadError(f"{path}: TorchScript file has no {needed}() method; "
                                    "not a RAVE export")
        # Deep copies, taken before anything runs: the reset state.
        self._initial = {name: buf.detach().clone() for name, buf in module.named_buffers()}
        self.sample_rate = int(_number(module, ("sr", "sampling_rate"), path))
        self.latent_dims = int(_number(module, ("latent_size",), path))
        full = _optional_number(module, ("full_latent_size",))
        self.full_latent_dims = int(full) if full is not None else self.latent_dims
        self.channels = self._read_channels()
        self.compression_ratio = self._read_compression()
        self.streaming = any("cache" in name.split(".") for name, _ in module.named_buffers())
        self._rvq = _rvq(module)  # looked up once: the controls use it every block
        self.discrete = self._rvq is not None
        self._causal: bool | None = _structural_causal(module) if self.streaming else None
        self._delay: int | None = None
        # MusicMill's own exports (models/drum_ae) declare both: a trained model's delay is
        # where its output lands, which the first-influence probe below cannot see.
        declared = _optional_number(module, ("latency_samples",))
        if declared is not None:
            self._delay = int(declared)
        if isinstance(getattr(module, "is_causal", None), bool):
            self._causal = bool(module.is_causal)
        if not self.streaming:
            warnings.warn(not_streaming_message(path), stacklevel=3)

    # --- reading --------------------------------------------------------------------------
    def _read_channels(self) -> int:
        n = _optional_number(self.module, ("n_channels",))
        if n is None:
            params = _optional_tensor(self.module, "encode_params")
            n = int(params[0]) if params is not None else 1
        return int(n)

    def _read_compression(self) -> int:
        enc = _optional_tensor(self.module, "encode_params")
        if enc is not None and enc.numel() == 4:
            return int(enc[3])
        dec = _optional_tensor(self.module, "decode_params")
        if dec is not None and dec.numel() == 4:
            return int(dec[1])
        # v1 without params: measure it from the shapes, then forget the state it touched.
        n = 1 << 15
        with torch.inference_mode():
            z = self.module.encode(torch.zeros(1, self.channels, n))
        self.reset()
        return n // int(z.shape[-1])

    # --- running ------------------------------------------------------------------------
    def reset(self) -> None:
        """Restore every buffer (streaming caches included) to its state as loaded."""
        with torch.no_grad():
            for name, buf in self.module.named_buffers():
                buf.copy_(self._initial[name])

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``(1, channels, samples)`` float32 -> ``(1, latent_dims, samples / ratio)``.

        Samples the posterior: seed torch's generator first for repeatable output. A
        discrete export returns codebook indices instead (deterministic, module doc).
        """
        with torch.inference_mode():
            return self.module.encode(x)

    @property
    def has_mean_path(self) -> bool:
        """Whether :meth:`encode_mean` can rebuild ``encode`` from the export's submodules.

        True for acids-rave 2.x variational exports (v1 and v2 configs, mono or stereo) with
        PQMF input, no stereo mode and no AdaIN: the ones whose ``encode`` reads as
        ``pqmf -> encoder -> reparametrize -> (z - latent_mean) @ pca``. False for discrete
        exports: their encoder has no posterior (and no scripted ``reparametrize``).
        """
        m = self.module
        needed = ("pqmf", "encoder", "latent_mean", "latent_pca")
        return (all(hasattr(m, n) for n in needed)
                and getattr(m, "input_mode", "") == "pqmf"
                and not bool(getattr(m, "stereo_mode", False))
                and not bool(getattr(m, "is_using_adain", False))
                and m.encoder._c._has_method("reparametrize"))

    def encode_mean(self, x: torch.Tensor) -> torch.Tensor:
        """Like :meth:`encode` but the posterior mean instead of a sample: no randomness.

        ``(1, channels, samples)`` -> ``(1, latent_dims, samples / ratio)``. Streaming caches
        advance exactly as ``encode`` advances them (the same submodules run). Raises
        ``RuntimeError`` when :attr:`has_mean_path` is false.
        """
        if not self.has_mean_path:
            raise RuntimeError(f"{self.path.name}: no posterior-mean path in this export")
        m = self.module
        with torch.inference_mode():
            bands = m.pqmf(x.reshape(-1, 1, x.shape[-1]))
            bands = bands.reshape(list(x.shape[:-2]) + [-1, bands.shape[-1]])
            mean = m.encoder(bands).chunk(2, 1)[0]  # (mean, pre-softplus scale)
            z = torch.nn.functional.conv1d(mean - m.latent_mean.unsqueeze(-1),
                                           m.latent_pca.unsqueeze(-1))
            return z[:, :self.latent_dims]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``(1, latent_dims, frames)`` -> ``(1, channels, frames * compression_ratio)``."""
        with torch.inference_mode():
            return self.module.decode(z)

    @property
    def num_quantizers(self) -> int | None:
        """Codes per latent frame of a discrete export (its ``latent_dims``); else None."""
        return self.latent_dims if self.discrete else None

    @property
    def codebook_size(self) -> int | None:
        """Entries in each quantizer's codebook (codes run 0..size - 1); None if not
        discrete."""
        rvq = self._rvq
        return int(getattr(rvq.layers, "0").codebook_size) if rvq is not None else None

    def codes_to_latent(self, codes: torch.Tensor) -> torch.Tensor:
        """Discrete exports: codes ``(1, num_quantizers, frames)`` as ``encode`` gives them
        -> the quantized latent ``(1, full_latent_dims, frames)`` that ``decode`` feeds its
        decoder (clamped and truncated to integers first, as ``decode`` does)."""
        rvq = self._require_rvq()
        size = self.codebook_size
        assert size is not None
        with torch.inference_mode():
            return rvq.decode(torch.clamp(codes, 0, size - 1).long())

    def latent_to_codes(self, z: torch.Tensor) -> torch.Tensor:
        """Discrete exports: a latent ``(1, full_latent_dims, frames)`` -> its nearest codes
        ``(1, num_quantizers, frames)`` (float32, as ``encode`` returns them), each stage
        quantizing what the previous stages left, as ``encode`` does."""
        rvq = self._require_rvq()
        with torch.inference_mode():
            return rvq.encode(z).float()

    def _require_rvq(self) -> torch.jit.ScriptModule:
        if self._rvq is None:
            raise RuntimeError(f"{self.path.name}: not a discrete export (no quantizer)")
        return self._rvq

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The export's own encode -> decode: ``(1, channels, samples)`` in and out."""
        with torch.inference_mode():
            return self.module.forward(x)

    def encode_offline(self, x: torch.Tensor, seed: int | None = None) -> torch.Tensor:
        """Encode a whole reference ``(1, channels, samples)`` without disturbing the stream.

        A streaming model's caches hold the live stream: they are saved, reset for the
        reference (so it starts from silence like a file would) and put back afterwards.
        torch's generator is forked too, so the live stream's random draws do not move;
        ``seed`` makes the posterior sample repeatable.
        """
        saved = {name: buf.detach().clone() for name, buf in self.module.named_buffers()}
        self.reset()
        try:
            with torch.random.fork_rng(devices=[]):
                if seed is not None:
                    torch.manual_seed(seed)
                return self.encode(x)
        finally:
            with torch.no_grad():
                for name, buf in self.module.named_buffers():
                    buf.copy_(saved[name])

    # --- measured -----------------------------------------------------------------------
    @property
    def delay_samples(self) -> int:
        """Output delay at the model rate (samples), measured once (see module doc)."""
        if self._delay is None:
            self._measure()
        assert self._delay is not None
        return self._delay

    @property
    def causal(self) -> bool | None:
        """True/False when it can be told (structure, or a look-ahead measurement)."""
        if self._causal is None:
            self._measure()
        return self._causal

    def _run_blocks(self, x: np.ndarray) -> np.ndarray:
        """Mono ``(samples,)`` through ``forward`` in blocks, from reset, seeded per block,
        in the module's float type; float64 out."""
        b = self.compression_ratio
        dtype = next((p.dtype for p in self.module.parameters()), torch.float32)
        self.reset()
        out = []
        # fork_rng: the measurement must not move the caller's random stream.
        with torch.random.fork_rng(devices=[]), torch.inference_mode():
            for i in range(0, x.size, b):
                torch.random.default_generator.manual_seed(i // b)
                block = torch.from_numpy(np.ascontiguousarray(x[i:i + b])).to(dtype)
                block = block.reshape(1, 1, -1).expand(1, self.channels, -1).contiguous()
                out.append(self.module.forward(block)[0, 0].double().numpy().copy())
        self.reset()
        return np.concatenate(out)

    def _measure(self) -> None:
        try:
            self.module.double()
            self._measure_runs()
        except RuntimeError:  # an export whose code pins float32: measure it in float32
            self.module.float()
            self._measure_runs()
        finally:
            self.module.float()
            self.reset()

    def _measure_runs(self) -> None:
        b = self.compression_ratio
        n = b * (2 + _DELAY_PROBE_BLOCKS)
        silence = np.zeros(n)
        base = self._run_blocks(silence)
        start = silence.copy()
        start[b] = 1.0
        heard = _first_heard(np.abs(self._run_blocks(start) - base))
        self._delay = heard - b if heard is not None else 0
        if self._causal is None:
            end = silence.copy()
            end[2 * b - 1] = 1.0
            heard = _first_heard(np.abs(self._run_blocks(end) - base))
            self._causal = bool(heard is None or heard >= 2 * b - 1)

    def info(self) -> dict[str, Any]:
        """What the CLI prints: plain JSON-able values (discrete exports add ``discrete``,
        ``num_quantizers`` and ``codebook_size``)."""
        info: dict[str, Any] = {
            "sample_rate": self.sample_rate,
            "channels": self.channels,
            "latent_dims": self.latent_dims,
            "full_latent_dims": self.full_latent_dims,
            "compression_ratio": self.compression_ratio,
            "streaming": self.streaming,
            "methods": list(self.methods),
            "causal": self.causal,
            "delay_samples": self.delay_samples,
        }
        if self.discrete:
            info.update(discrete=True, num_quantizers=self.num_quantizers,
                        codebook_size=self.codebook_size)
        return info


def load_rave(path: str | Path) -> RaveModel:
    """Load a RAVE TorchScript export on the CPU; :class:`RaveLoadError` says why not."""
    path = Path(path)
    if not path.is_file():
        raise RaveLoadError(f"{path}: no such model file")
    # TorchScript archives are zip files; anything else (a WAV renamed .ts...) stops here
    # with a clearer message than torch's.
    if not zipfile.is_zipfile(path):
        raise RaveLoadError(f"{path}: not a TorchScript export (not a zip archive)")
    try:
        with warnings.catch_warnings():
            # torch 2.13 deprecates torch.jit.load; RAVE exports exist only in this format.
            warnings.simplefilter("ignore", DeprecationWarning)
            module = torch.jit.load(str(path), map_location="cpu")
    except Exception as exc:  # torch raises RuntimeError with multi-line C++ traces
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        low = str(exc).lower()
        if "version" in low or "unknown builtin op" in low or "schema" in low:
            raise RaveLoadError(f"{path}: saved by an incompatible torch "
                                f"(this is {torch.__version__}): {first}") from None
        raise RaveLoadError(f"{path}: not a loadable TorchScript export: {first}") from None
    module.eval()
    return RaveModel(path, module)


# --- helpers ----------------------------------------------------------------------------
def _methods(module: torch.jit.ScriptModule) -> tuple[str, ...]:
    if module._c._has_method("get_methods"):
        return tuple(module.get_methods())
    return tuple(m for m in ("encode", "decode", "forward") if module._c._has_method(m))


def _optional_tensor(module: torch.jit.ScriptModule, name: str) -> torch.Tensor | None:
    value = getattr(module, name, None)
    return value if isinstance(value, torch.Tensor) else None


def _optional_number(module: torch.jit.ScriptModule, names: tuple[str, ...]) -> float | None:
    for name in names:
        value = getattr(module, name, None)
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            return float(value.item())
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            return float(value)
    return None


def _number(module: torch.jit.ScriptModule, names: tuple[str, ...], path: Path) -> float:
    value = _optional_number(module, names)
    if value is None:
        raise RaveLoadError(f"{path}: RAVE export lacks {' / '.join(names)}")
    return value


def _first_heard(moved: np.ndarray) -> int | None:
    """The first index where ``moved`` exceeds INFLUENCE_FLOOR of its largest value."""
    if not moved.any():
        return None
    return int(np.flatnonzero(moved > INFLUENCE_FLOOR * moved.max())[0])


def _rvq(module: torch.jit.ScriptModule) -> torch.jit.ScriptModule | None:
    """The residual vector quantizer of a discrete export (``encoder.rvq``), else None."""
    rvq = getattr(getattr(module, "encoder", None), "rvq", None)
    if rvq is None or not all(rvq._c._has_method(m) for m in ("encode", "decode")):
        return None
    return rvq


def _structural_causal(module: torch.jit.ScriptModule) -> bool | None:
    convs = [m for _, m in module.named_modules()
             if getattr(m, "original_name", "") == "CachedConv1d"
             and hasattr(m, "cumulative_delay")]
    if not convs:
        return None
    return all(int(m.cumulative_delay) == 0 for m in convs)
