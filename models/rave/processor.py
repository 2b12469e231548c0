"""RAVE as the engine's worker insert: encode -> latent controls -> decode, block by block.

Signal path per worker call (``block`` is ``(2, block_frames)`` at the engine rate):

1. input gain, stereo -> mono downmix for mono models (mean of the two channels);
2. resample engine -> model rate (``StreamResampler``; skipped when the rates match) into
   an input FIFO;
3. whenever ``model_block`` (= compression ratio x ``latent_frames``) samples are queued:
   ``encode`` (and/or a generator, ``source``) -> latent controls
   (``models/rave/latent.py``) -> ``decode``;
4. resample model -> engine rate into an output FIFO that was primed with silence, and pop
   exactly ``block_frames``; mono -> both channels;
5. dry/wet against the dry input delayed by ``delay_frames`` (so they line up; with
   ``align_dry`` 0 the dry plays undelayed), output gain.

Length accounting: the output FIFO starts with ``prime_frames`` of silence, enough that it
never runs dry whatever the resamplers hold back (bound in ``_prime_frames``); every call
returns exactly ``block_frames``. ``underruns`` counts calls that had to pad (should stay 0).

Encode determinism: the exported ``encode`` is ``post_process_latent(encoder(x))`` whose
first step is ``encoder.reparametrize``: ``mean + randn_like(mean) * (softplus(scale) +
1e-4)`` -- it samples the posterior from torch's global generator (read from
``model.module.encode.code`` and ``model.module.encoder.reparametrize.code``). ``decode``
is deterministic on the fixtures (no noise branch; it draws noise only to pad latents when
``latent_dims < full_latent_dims``). With ``seed`` set, the processor calls
``torch.manual_seed(seed + n)`` before the ``n``-th model block (counted from reset), so a
run is repeatable and equals ``forward`` on the same blocks with the same seeds. Other
torch users (a hot-swap loading a model, references being encoded) run on the console
thread and only fork the generator, so a live run can shift by a draw then; offline
renders and tests, where nothing else runs, are exact.
``encode_mode="mean"`` instead rebuilds ``encode`` from the export's submodules without the
sampling step (the posterior mean): deterministic with no seed at all.

Discrete exports (a residual vector quantizer, see ``models/rave/loader.py``): ``encode``
gives codebook indices, deterministic (no posterior, so ``encode_mode="mean"`` is refused),
and ``decode`` takes them back; only its noise-augmentation channels draw from torch's
generator, seeded per block as above. Arithmetic on indices would pick unrelated codebook
entries, so the codes pass from encoder to decoder untouched except for what means the
same on any latent: ``energy`` and ``chaos`` act on the quantized latent (the codebook
vectors' sum, :meth:`RaveModel.codes_to_latent`; chaos noise relative to its RMS, since
nothing pins it to unit scale) and it is quantized back to the nearest codes
(:meth:`RaveModel.latent_to_codes`), the only inputs the decoder was trained on. At neutral
energy and chaos the encoder's own codes are decoded, so the output equals the export's
``forward``. ``bias``/``scale``, ``texture`` and ``match`` do nothing on them, and the
generators are not used (``source`` is ignored: the voice drives the decoder), because
they make, blend and interpolate continuous values, which are not codes.

Playing without input: ``source`` crossfades the decoder's latents from the voice's (0)
to a generator's (1, ``models/rave/generate.py``): a random walk, per-dimension LFOs, the
captured pattern (:meth:`RaveProcessor.capture_pattern`: the voice's last seconds of
latents, looped) or the style blend of encoded references
(:meth:`RaveProcessor.set_style_references`), all at ``tempo``. The input keeps clocking
the model blocks (the engine always delivers input, silence included).

Live controls: :meth:`RaveProcessor.bind` hands the processor the engine's parameter array
(``Engine.effective``: this block's targets with macros, LFOs and preset morphs applied,
indexed by ``presets.registry.INDEX``). While bound, every ``process`` call first copies the
``rave_*`` parameters into the plain attributes, so MIDI, LFOs, macros and presets drive the
model; unbound, the attributes are whatever the caller set.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from dsp.resample import StreamResampler
from dsp.units import db_to_gain
from models.rave import latent
from models.rave.generate import LfoPattern, RandomWalk, SequencePlayer, StyleBank
from models.rave.voice_gate import VoiceGate
from presets.registry import INDEX, RAVE_GENERATORS, RAVE_LATENT_CONTROLS, REGISTRY

if TYPE_CHECKING:
    from models.rave.loader import RaveModel
    from models.rave.meta import LazyRaveModel

# Registry parameter -> processor attribute, read once per ``process`` call while bound.
PARAM_ATTRS: tuple[tuple[str, str], ...] = (
    ("rave_dry_wet", "dry_wet"),
    ("rave_input_gain_db", "input_gain_db"),
    ("rave_output_gain_db", "output_gain_db"),
    ("rave_energy", "energy"),
    ("rave_chaos", "chaos"),
    ("rave_texture", "texture"),
    ("rave_match", "match_amount"),
    ("rave_align_dry", "align_dry"),
    ("rave_source", "source"),
    ("rave_generator", "generator"),
    ("rave_tempo", "tempo"),
    ("rave_style", "style"),
)
# (slot, attribute, min, max) resolved once, so the per-block read is plain indexing.
_SLOTS: tuple[tuple[int, str, float, float], ...] = tuple(
    (INDEX[pid], attr, REGISTRY[INDEX[pid]].min, REGISTRY[INDEX[pid]].max)
    for pid, attr in PARAM_ATTRS
)

# Registry slots of the per-dimension controls, dimension order.
_BIAS_SLOTS = np.array([INDEX[f"rave_bias_{d}"] for d in range(1, RAVE_LATENT_CONTROLS + 1)])
_SCALE_SLOTS = np.array([INDEX[f"rave_scale_{d}"] for d in range(1, RAVE_LATENT_CONTROLS + 1)])
_BIAS_RANGE = (REGISTRY[_BIAS_SLOTS[0]].min, REGISTRY[_BIAS_SLOTS[0]].max)
_SCALE_RANGE = (REGISTRY[_SCALE_SLOTS[0]].min, REGISTRY[_SCALE_SLOTS[0]].max)

# Encoded voice latents kept for pattern capture (the longest capture).
HISTORY_S = 16.0
# Pattern mode with nothing captured loops the last this-many seconds of the voice.
DEFAULT_PATTERN_S = 4.0

# Running latent statistics for ``match``: exponential average per latent frame, ~2 s at
# 2048 samples / 44.1 kHz. They start at the VAE prior (mean 0, std 1) so the first
# frames are not divided by a zero deviation.
_STATS_ALPHA = 0.02


def _worst_holdback(from_hz: float, to_hz: float, chunk: int, chunks: int = 330) -> float:
    """Most output frames a ``StreamResampler`` owes but has not returned, feeding it
    ``chunk`` input frames at a time (counts do not depend on the signal, so zeros do).

    330 chunks cover the repeating pattern of 44.1 <-> 48 kHz (160 or 147 chunks) twice.
    """
    stream = StreamResampler(from_hz, to_hz, 1)
    zeros = np.zeros((chunk, 1), np.float32)
    produced, worst = 0, 0.0
    for n in range(1, chunks + 1):
        produced += stream.process(zeros).shape[0]
        worst = max(worst, n * chunk * to_hz / from_hz - produced)
    return worst


class RaveProcessor:
    """The engine ``Processor`` running a RAVE model (see module doc for the path).

    Plain attributes, set between calls or pulled from the bound parameter array
    (:meth:`bind`, registry ids in ``PARAM_ATTRS``): ``input_gain_db``, ``output_gain_db``
    (dB), ``dry_wet`` (0 dry .. 1 wet), ``align_dry`` (1: the dry waits for the wet,
    0: it plays at once), ``energy`` (0.3..2 x), ``chaos`` (0..1), ``texture``
    (0..1), ``match_amount`` (0..1), ``source`` (0 voice .. 1 generator), ``generator``
    (index into ``RAVE_GENERATORS``), ``tempo`` (0.5..2 x, generated material), ``style``
    (0..1 across the style references). ``bias`` and ``scale`` (``(latent_dims,)``
    float32): while bound, their first ``RAVE_LATENT_CONTROLS`` dimensions come from the
    ``rave_bias_N``/``rave_scale_N`` parameters; the rest stay as set.
    """

    def __init__(self, model: RaveModel | LazyRaveModel, engine_rate_hz: float = 48000.0,
                 latent_frames: int = 1, block_frames: int | None = None,
                 seed: int | None = None, texture_seed: int = 0,
                 encode_mode: str = "sample") -> None:
        """``latent_frames``: latent frames per model call (x compression ratio samples).

        ``block_frames`` (engine rate) defaults to the model block at the engine rate,
        rounded down so no worker call ever needs two model calls.
        ``seed``: deterministic encode (see module doc); ``None`` samples freely.
        ``encode_mode``: ``"sample"`` (the export's ``encode``, as RAVE plays) or
        ``"mean"`` (the posterior mean, :meth:`RaveModel.encode_mean`: deterministic
        without seeding, a little less lively).
        """
        if encode_mode not in ("sample", "mean"):
            raise ValueError(f"encode_mode must be 'sample' or 'mean', got {encode_mode!r}")
        if encode_mode == "mean" and model.discrete:
            raise ValueError(f"{model.path.name}: a discrete export has no posterior mean "
                             "(its encode is already deterministic); use 'sample'")
        if encode_mode == "mean" and not model.has_mean_path:
            raise ValueError(f"{model.path.name}: no posterior-mean path; use 'sample'")
        self.encode_mode = encode_mode
        self.model = model
        self.engine_rate_hz = float(engine_rate_hz)
        self.model_block = model.compression_ratio * latent_frames
        self.resampling = self.engine_rate_hz != model.sample_rate
        ratio = model.sample_rate / self.engine_rate_hz  # model samples per engine frame
        self._ratio = ratio
        # The model block at the engine rate, rounded down so no call needs two model calls.
        self.natural_block_frames = int(math.floor(self.model_block / ratio))
        self.block_frames = int(block_frames or self.natural_block_frames)
        self.seed = seed
        self.texture_seed = texture_seed

        self.input_gain_db = 0.0
        self.output_gain_db = 0.0
        self.dry_wet = 1.0
        self.energy = 1.0
        self.chaos = 0.0
        self.texture = 0.0
        self.match_amount = 0.0
        self.align_dry = 1.0  # 1: the dry signal waits delay_frames, in time with the wet
        self.source = 0.0
        self.generator = 0.0  # index into RAVE_GENERATORS (a float: it is a parameter)
        self.tempo = 1.0
        self.style = 0.0
        self.bias, self.scale = latent.neutral_bias_scale(model.latent_dims)
        self._styles: StyleBank | None = None
        self._history_len = int(math.ceil(HISTORY_S * model.sample_rate
                                          / model.compression_ratio))
        self._pattern_player: SequencePlayer | None = None
        self.last_latent: np.ndarray | None = None  # (latent_dims,) last decoded frame
        self._params: np.ndarray | None = None
        self._ref_mean: np.ndarray | None = None
        self._ref_std: np.ndarray | None = None
        self._texture_pattern = latent.texture_pattern(model.latent_dims, texture_seed)

        self.reset()  # builds the resamplers, FIFOs and counters
        model_delay = model.delay_samples * self.engine_rate_hz / model.sample_rate
        self.delay_frames = self.prime_frames + int(round(model_delay))
        self._dry = np.zeros((2, self.delay_frames), np.float32)
        self._gate = VoiceGate(self.engine_rate_hz, self.delay_frames)

    # --- setup --------------------------------------------------------------------------
    def _prime_frames(self) -> int:
        """Silence the output FIFO starts with so it never runs dry (engine frames).

        After ``n`` calls the input resampler has returned all but ``h_in`` of the
        ``n*B*r`` model samples it owes, all but at most ``model_block - 1`` of those were
        decoded, and the output resampler returns all but ``h_out`` of what it owes at the
        engine rate, so priming with ``(h_in + model_block - 1) / r + h_out + 1`` always
        covers the ``n*B`` popped. ``h_in``/``h_out`` are the worst hold-backs simulated
        for these chunk sizes (:func:`_worst_holdback`): soxr holds back more with small
        chunks than ``StreamResampler.delay_frames`` (measured on 100 ms chunks) says.
        """
        if not self.resampling and self.block_frames % self.model_block == 0:
            return 0  # exact: every call is a whole number of model blocks
        h_in = h_out = 0.0
        if self.resampling:
            h_in = _worst_holdback(self.engine_rate_hz, self.model.sample_rate,
                                   self.block_frames)
            h_out = _worst_holdback(self.model.sample_rate, self.engine_rate_hz,
                                    self.model_block)
        return int(math.ceil((h_in + self.model_block - 1) / self._ratio + h_out)) + 1

    def reset(self) -> None:
        """Back to the state as constructed: model caches as loaded, FIFOs, counters."""
        self.model.reset()
        ch = self.model.channels
        self._to_model = (StreamResampler(self.engine_rate_hz, self.model.sample_rate, ch)
                          if self.resampling else None)
        self._to_engine = (StreamResampler(self.model.sample_rate, self.engine_rate_hz, ch)
                           if self.resampling else None)
        if not hasattr(self, "prime_frames"):  # simulated once: reset stays cheap
            self.prime_frames = self._prime_frames()
        self._in = np.zeros((ch, 0), np.float32)
        self._out = np.zeros((ch, self.prime_frames), np.float32)
        self._blocks = 0
        self._chaos_rng = np.random.default_rng(self.seed)
        self._live_mean = np.zeros(self.model.latent_dims, np.float32)
        self._live_sq = np.ones(self.model.latent_dims, np.float32)
        frame_s = self.model.compression_ratio / self.model.sample_rate
        gen_seed = 0 if self.seed is None else self.seed
        self._walk = RandomWalk(self.model.latent_dims, frame_s, seed=gen_seed)
        self._lfo = LfoPattern(self.model.latent_dims, frame_s, seed=gen_seed)
        self._style_player: SequencePlayer | None = None
        self._style_at = -1.0  # blend position the style player holds
        if getattr(self, "_pattern_player", None) is not None:
            self._pattern_player.rewind()  # the pattern itself is memory: it stays
        self._history = np.zeros((self.model.latent_dims, self._history_len), np.float32)
        self._history_frames = 0  # encoded frames written so far
        self.underruns = 0
        if hasattr(self, "_dry"):
            self._dry[:] = 0.0
            self._gate.reset()

    def encode_reference(self, audio: np.ndarray) -> np.ndarray:
        """``(channels, samples)`` at the model rate -> its latents ``(latent_dims, frames)``.

        Encoded offline (the live caches are saved and restored), deterministic when
        ``seed`` is set; a reference shorter than one latent frame is an error.
        """
        audio = np.asarray(audio, dtype=np.float32)
        if audio.ndim != 2 or audio.shape[1] < self.model.compression_ratio:
            raise ValueError(f"a reference must be (channels, >= "
                             f"{self.model.compression_ratio} samples), got {audio.shape}")
        if audio.shape[0] != self.model.channels:  # downmix or spread to the model's width
            audio = np.broadcast_to(audio.mean(axis=0, keepdims=True),
                                    (self.model.channels, audio.shape[1]))
        import torch  # the reference is encoded by the TorchScript module, on either path

        x = torch.from_numpy(np.ascontiguousarray(audio))[None]
        return self.model.encode_offline(x, self.seed)[0].numpy()

    def warm_up(self) -> None:
        """Run the model three blocks on silence, then reset, before audio starts.

        TorchScript's profiling executor optimises a method on its first calls (the first
        block took ~250 ms here, against ~2 ms after), and ONNX Runtime plans its buffers on
        the first run: paid live, that is a start-up gap in the worker path.
        """
        x = np.zeros((self.model.channels, self.model_block), np.float32)
        saved = self.source
        for source in (0.0, 1.0, 0.0):  # the encoder path and the decoder alone
            self.source = source
            self._run_model(x)
        self.source = saved
        self.reset()

    def set_match_reference(self, audio: np.ndarray) -> None:
        """Reference for ``match_amount`` ("match this track"): ``(channels, samples)`` at
        the model rate; the live latent is pulled toward its per-dimension statistics."""
        self._ref_mean, self._ref_std = latent.latent_stats(self.encode_reference(audio))

    def set_style_references(self, audios: list[np.ndarray]) -> None:
        """References for the style blend (``style`` slider, ``style`` generator): each
        ``(channels, samples)`` at the model rate, encoded once here, off the audio path."""
        self._styles = StyleBank([self.encode_reference(a) for a in audios])
        self._style_at = -1.0

    def set_pattern(self, z: np.ndarray) -> None:
        """Latents ``(latent_dims, frames)`` for the ``pattern`` generator to loop."""
        z = latent._as_z(z)
        if z.shape[0] != self.model.latent_dims:
            raise ValueError(f"a pattern for this model has {self.model.latent_dims} latent "
                             f"dims, got {z.shape[0]}")
        # A new player stored in one assignment: the worker may be reading the old one
        # (set_pattern runs on a console or GUI thread). It continues from the old
        # player's position, so the loop stays in time.
        player = SequencePlayer(z)
        if self._pattern_player is not None:
            player.seek(self._pattern_player.position)
        self._pattern_player = player

    @property
    def pattern(self) -> np.ndarray | None:
        """The pattern generator's latents ``(latent_dims, frames)`` (a copy), or None."""
        player = self._pattern_player
        return None if player is None else player.frames.copy()

    def capture_pattern(self, seconds: float = DEFAULT_PATTERN_S) -> np.ndarray | None:
        """Store the voice's last ``seconds`` of latents as the pattern and return them
        ``(latent_dims, frames)``; None when nothing has been encoded yet."""
        size = self._history_len
        frames = min(self._history_frames, size, max(1, int(round(
            seconds * self.model.sample_rate / self.model.compression_ratio))))
        if frames == 0:
            return None
        end = self._history_frames % size
        idx = np.arange(end - frames, end) % size
        z = self._history[:, idx].copy()
        self.set_pattern(z)
        return z

    def bind(self, values: np.ndarray | None) -> None:
        """Read the controls from ``values`` (the engine's live parameter array) from now on.

        ``values`` is a view indexed by ``presets.registry.INDEX`` (``Engine.effective``);
        it is kept, not copied, so later writes by the audio callback are seen. A torn read
        of one float64 cannot happen on the platforms we support, and a control lagging one
        callback block behind is inaudible. ``None`` unbinds (attributes stay as last read).
        """
        if values is not None:
            # the built-in slots are all it reads (plugin slots follow them)
            if values.ndim != 1 or values.shape[0] < len(REGISTRY):
                raise ValueError(f"bind needs a parameter array of {len(REGISTRY)} or more, "
                                 f"got shape {values.shape}")
            self._params = values
            self.pull_params()
        else:
            self._params = None

    def pull_params(self) -> None:
        """Copy the bound ``rave_*`` values into the attributes (no-op when unbound).

        Clamped to the registry range: modulation sums may overshoot, and a gain or energy
        outside it is never intended.
        """
        values = self._params
        if values is None:
            return
        for slot, attr, lo, hi in _SLOTS:
            setattr(self, attr, min(hi, max(lo, float(values[slot]))))
        n = min(self.model.latent_dims, RAVE_LATENT_CONTROLS)
        self.bias[:n] = np.clip(values[_BIAS_SLOTS[:n]], *_BIAS_RANGE)
        self.scale[:n] = np.clip(values[_SCALE_SLOTS[:n]], *_SCALE_RANGE)

    # --- per block ----------------------------------------------------------------------
    def _controls(self, z: np.ndarray) -> np.ndarray:
        """Latent controls on ``(latent_dims, frames)``; neutral settings change nothing."""
        if self.model.discrete:
            return self._code_controls(z)
        z = latent.bias_scale(z, self.bias, self.scale)
        for frame in z.T:  # running stats for match, before the creative controls
            self._live_mean += _STATS_ALPHA * (frame - self._live_mean)
            self._live_sq += _STATS_ALPHA * (frame * frame - self._live_sq)
        if self.match_amount > 0.0 and self._ref_mean is not None:
            std = np.sqrt(np.maximum(self._live_sq - self._live_mean ** 2, 0.0))
            z = latent.match(z, self._live_mean, std, self._ref_mean, self._ref_std,
                             self.match_amount)
        if self.energy != 1.0:
            z = latent.energy(z, self.energy)
        if self.texture > 0.0:
            z = latent.texture(z, self.texture, self._texture_pattern)
        if self.chaos > 0.0:
            z = latent.chaos(z, self.chaos, self._chaos_rng)
        return z

    def _code_controls(self, codes: np.ndarray) -> np.ndarray:
        """Discrete exports: ``energy`` and ``chaos`` on the quantized latent of ``codes``
        ``(num_quantizers, frames)``, quantized back to codes (module doc)."""
        if self.energy == 1.0 and self.chaos <= 0.0:
            return codes  # the encoder's own codes: requantizing may pick another split
        import torch  # the codebooks are the TorchScript module's

        z = self.model.codes_to_latent(torch.from_numpy(codes)[None])[0].numpy()
        z = latent.energy(z, self.energy)
        if self.chaos > 0.0:
            rms = float(np.sqrt(np.mean(z * z))) or 1.0
            z = rms * latent.chaos(z / rms, self.chaos, self._chaos_rng)
        return self.model.latent_to_codes(torch.from_numpy(z)[None])[0].numpy()

    def _remember(self, z: np.ndarray) -> None:
        """Append encoded voice frames to the capture history ring."""
        for frame in z.T:
            self._history[:, self._history_frames % self._history_len] = frame
            self._history_frames += 1

    def _generated(self, frames: int) -> np.ndarray:
        """``frames`` latent frames from the selected generator at ``tempo``.

        ``pattern`` with nothing stored first captures the voice's last
        ``DEFAULT_PATTERN_S``; ``pattern`` or ``style`` with nothing to play give the
        latent origin (the model's neutral sound) rather than failing mid-performance.
        """
        mode = RAVE_GENERATORS[min(len(RAVE_GENERATORS) - 1, max(0, round(self.generator)))]
        if mode == "walk":
            return self._walk.next(frames, self.tempo)
        if mode == "lfo":
            return self._lfo.next(frames, self.tempo)
        if mode == "pattern":
            if self._pattern_player is None:
                self.capture_pattern()
            player = self._pattern_player
        else:
            player = self._style_player_at(self.style)
        if player is None:
            return np.zeros((self.model.latent_dims, frames), np.float32)
        return player.next(frames, self.tempo)

    def _style_player_at(self, position: float) -> SequencePlayer | None:
        """The style blend's player, re-blended when the slider has moved."""
        if self._styles is None:
            return None
        if abs(position - self._style_at) > 1e-4:
            blend = self._styles.blend(position)
            if self._style_player is None:
                self._style_player = SequencePlayer(blend)
            else:
                self._style_player.set(blend)
            self._style_at = position
        return self._style_player

    def _latents(self, x: np.ndarray) -> np.ndarray:
        """The model block's latents: the voice's (encoded), the generator's, or a mix
        (``source`` 0..1). At ``source`` 1 the encoder is skipped: the model plays alone.
        Discrete exports always take the voice's codes (module doc)."""
        frames = x.shape[1] // self.model.compression_ratio
        source = 0.0 if self.model.discrete else self.source
        voice = None
        if source < 1.0:
            voice = self._encode(x)
            self._remember(voice)
            if source <= 0.0:
                return voice
        gen = self._generated(frames)
        if voice is None:
            return gen
        return ((1.0 - source) * voice + source * gen).astype(np.float32)

    def _encode(self, x: np.ndarray) -> np.ndarray:
        """``(channels, model_block)`` at the model rate -> ``(latent_dims, frames)``."""
        import torch

        with torch.inference_mode():
            x_t = torch.from_numpy(x)[None]
            z = (self.model.encode_mean(x_t) if self.encode_mode == "mean"
                 else self.model.module.encode(x_t))
        return z[0].numpy()

    def _decode(self, z: np.ndarray) -> np.ndarray:
        """``(latent_dims, frames)`` -> ``(channels, frames x compression)``, model rate."""
        import torch

        with torch.inference_mode():
            y = self.model.module.decode(torch.from_numpy(np.ascontiguousarray(z))[None])
        return y[0].numpy()

    def _seed_block(self, seed: int) -> None:
        """Seed the generator this block's model draws from (torch's, for TorchScript)."""
        import torch

        # the CPU generator alone: torch.manual_seed also seeds every accelerator backend,
        # and with none present each of those formats a stack (~1 ms a block)
        torch.random.default_generator.manual_seed(seed)

    def _run_model(self, x: np.ndarray) -> np.ndarray:
        """One model block ``(channels, model_block)`` -> same shape, at the model rate.

        Seeded per block before the encode, so the encode's posterior sample and the
        decode's latent padding noise are the same on every run (module doc).
        """
        if self.seed is not None:
            self._seed_block(self.seed + self._blocks)
        self._blocks += 1
        z = self._controls(self._latents(x))
        if not self.model.discrete:
            # the newest latent frame the decoder plays, for the window's latent view: a
            # new array in one assignment (the window reads it from another thread)
            self.last_latent = np.array(z[:, -1], dtype=np.float32)
        return self._decode(z)

    def process(self, block: np.ndarray) -> np.ndarray:
        """``(2, block_frames)`` float32 at the engine rate in, the same shape out.

        Bound controls are read once here: with the default ``block_frames`` a call runs at
        most one model block, so they update once per model block.
        """
        self.pull_params()
        block = np.asarray(block, dtype=np.float32)
        gained = block * np.float32(db_to_gain(self.input_gain_db))
        x = gained.mean(axis=0, keepdims=True) if self.model.channels == 1 else gained
        if self._to_model is not None:
            x = self._to_model.process(x.T).T
        self._in = np.concatenate([self._in, x], axis=1)
        outs = [self._out]
        while self._in.shape[1] >= self.model_block:
            chunk = np.ascontiguousarray(self._in[:, :self.model_block])
            self._in = self._in[:, self.model_block:]
            y = self._run_model(chunk)
            if self._to_engine is not None:
                y = self._to_engine.process(y.T).T
            outs.append(y)
        out = np.concatenate(outs, axis=1)
        n = self.block_frames
        if out.shape[1] < n:
            self.underruns += 1
            out = np.pad(out, ((0, 0), (0, n - out.shape[1])))
        wet, self._out = out[:, :n], out[:, n:]
        wet = np.broadcast_to(wet, (2, n)) if wet.shape[0] == 1 else wet
        # silent until the voice (or a generator) is heard: no start-state burst or hiss
        gate = self._gate.gains(gained, keep_open=self.source > 0.0)
        if gate.shape[0] != n:  # a short last block (offline): hold its last gain
            gate = np.pad(gate, (0, max(0, n - gate.shape[0])), mode="edge")[:n]
        wet = wet * gate
        # The dry signal waits delay_frames too, so dry and wet stay in time; the line
        # runs either way so switching alignment on mid-stream has its history ready.
        dry_line = np.concatenate([self._dry, block], axis=1)
        dry, self._dry = dry_line[:, :n], dry_line[:, n:]
        if self.align_dry < 0.5:
            dry = block
        mix = self.dry_wet * wet + (1.0 - self.dry_wet) * dry
        return (mix * db_to_gain(self.output_gain_db)).astype(np.float32)


def make_rave_insert(path: str, sample_rate_hz: float, latent_frames: int = 1,
                     seed: int | None = None, block_frames: int | None = None
                     ) -> RaveProcessor:
    """The worker insert: load ``path`` and wrap it.

    ``sample_rate_hz``: the engine rate; ``block_frames``: the worker block (default the
    model block). Errors loading the file are ``RaveLoadError`` (a ``ModelError``: one
    line, exit 2 from the CLI).
    """
    from models.rave.loader import load_rave

    return RaveProcessor(load_rave(path), sample_rate_hz, latent_frames=latent_frames,
                         seed=seed, block_frames=block_frames)
