"""``musicmill bench denoise``: our streaming noise reducer against noisereduce, same audio.

Held-out noisy speech made here: sentences spoken by espeak-ng (several voices, pitches and
speeds), resampled to 48 kHz, each file a second of noise alone and then the sentences with
short pauses between them. Noises are synthesised with fixed seeds:

- ``fan``: pink plus brown noise with a slowly wobbling 100 Hz blade hum,
- ``hum``: 50 Hz mains hum and its harmonics (odd ones stronger) over a faint hiss,
- ``white``: white noise,

each mixed at 0, 5 and 10 dB SNR (speech power over the whole file against noise power).
Scores are the scale-invariant SDR (Le Roux et al. 2019) against the clean speech, and its
improvement over the unprocessed mix. Ours runs as it would live: one state from reset (no
capture but the automatic one of the first 0.25 s), 128-frame blocks, the output moved back by
``latency_samples`` before scoring. The peer, noisereduce (spectral gating), sees the whole
file at once: stationary mode with its noise statistics from the whole file (its default),
the same given the noise-only first second as ``y_noise``, and non-stationary mode.

The reducer's constants were tuned on the ``tuning`` split (other sentences, voices and noise
seeds); the default ``heldout`` split was only scored.
"""

from __future__ import annotations

import io
import shutil
import statistics
import subprocess
import time

import numpy as np
import soundfile as sf

from dsp import denoise
from dsp.resample import resample
from dsp.units import db_to_gain, db_to_power, power_to_db

SR = 48000
BLOCK = 128
LEAD_IN_S = 1.0
PAUSE_S = 0.4
SNRS_DB = (0.0, 5.0, 10.0)
NOISES = ("fan", "hum", "white")
# (text, espeak-ng voice, pitch 0-99, words per minute), Harvard sentences.
UTTERANCES = {
    "heldout": (
        ("The stale smell of old beer lingers.", "en-gb-x-gbclan+m5", 35, 145),
        ("A pot of tea helps to pass the evening.", "en-us+f5", 65, 165),
        ("The box was thrown beside the parked truck.", "en-gb-x-gbcwmd+m2", 45, 155),
        ("Four hours of steady work faced us.", "en-us-nyc+f2", 55, 140),
        ("Take the winding path to reach the lake.", "en+Michael", 40, 150),
    ),
    "tuning": (
        ("The birch canoe slid on the smooth planks.", "en-us", 40, 150),
        ("Glue the sheet to the dark blue background.", "en-gb-x-rp+f3", 60, 160),
        ("It is easy to tell the depth of a well.", "en-gb-scotland+m3", 30, 140),
        ("These days a chicken leg is a rare dish.", "en-029+f4", 70, 170),
        ("Rice is often served in round bowls.", "en-us+klatt", 50, 135),
    ),
}
SEEDS = {"heldout": 1, "tuning": 0}


def _espeak(text: str, voice: str, pitch: int, wpm: int) -> np.ndarray:
    """espeak-ng's rendering of ``text``, float32 mono at its own rate, resampled to SR."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise RuntimeError("bench denoise needs espeak-ng (apt-get install espeak-ng)")
    cmd = [exe, "--stdout", "-v", voice, "-p", str(pitch), "-s", str(wpm), text]
    wav = subprocess.run(cmd, capture_output=True, check=True, timeout=60).stdout
    audio, rate = sf.read(io.BytesIO(wav), dtype="float32", always_2d=True)
    return resample(audio[:, 0], rate, SR)


def clean_speech(split: str = "heldout") -> np.ndarray:
    """The clean reference: lead-in silence, then every utterance with pauses (float64)."""
    rng = np.random.default_rng(SEEDS[split])
    parts = [np.zeros(int(LEAD_IN_S * SR))]
    for text, voice, pitch, wpm in UTTERANCES[split]:
        s = _espeak(text, voice, pitch, wpm).astype(np.float64)
        parts.append(s / np.max(np.abs(s)) * db_to_gain(rng.uniform(-6.0, 0.0)))
        parts.append(np.zeros(int(PAUSE_S * SR)))
    return 0.5 * np.concatenate(parts)


def _shaped(rng: np.random.Generator, n: int, exponent: float, low_hz: float) -> np.ndarray:
    """Gaussian noise whose power falls as 1/f**exponent above ``low_hz`` (unit RMS)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / SR)
    spec *= np.maximum(f, low_hz) ** (-exponent / 2.0)
    spec[f < 0.5 * low_hz] = 0.0
    x = np.fft.irfft(spec, n)
    return x / np.sqrt(np.mean(x**2))


def noise(kind: str, n: int, seed: int) -> np.ndarray:
    """``n`` samples of the noise ``kind`` (see the module docstring), unit RMS, float64."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SR
    if kind == "fan":
        wobble = 1.0 + 0.01 * np.sin(2 * np.pi * 0.2 * t)
        hum = np.sin(2 * np.pi * np.cumsum(100.0 * wobble) / SR)
        hum *= 1.0 + 0.3 * np.sin(2 * np.pi * 0.35 * t + 1.0)
        x = _shaped(rng, n, 1.0, 20.0) + 0.7 * _shaped(rng, n, 2.0, 30.0) + 0.3 * hum
    elif kind == "hum":
        x = 1e-2 * rng.standard_normal(n)
        phases = rng.uniform(0, 2 * np.pi, 12)
        for h in range(1, 13):
            x += (1.0 if h % 2 else 0.5) / h * np.sin(2 * np.pi * 50.0 * h * t + phases[h - 1])
    elif kind == "white":
        x = rng.standard_normal(n)
    else:
        raise ValueError(f"unknown noise {kind!r}")
    return x / np.sqrt(np.mean(x**2))


def si_sdr_db(estimate: np.ndarray, reference: np.ndarray) -> float:
    """Scale-invariant SDR (dB) of ``estimate`` against ``reference`` (same length, 1-D)."""
    ref = reference.astype(np.float64)
    est = estimate.astype(np.float64)
    alpha = np.dot(est, ref) / np.dot(ref, ref)
    target = alpha * ref
    return power_to_db(float(np.sum(target**2) / np.sum((est - target) ** 2)))


def ours(x: np.ndarray, amount: float = 1.0, block: int = BLOCK) -> np.ndarray:
    """Our kernel on mono ``x`` in ``block``-frame blocks from reset, latency removed."""
    state = denoise.prepare(SR)
    lat = denoise.latency_samples(state)
    padded = np.zeros((1, x.shape[0] + lat + block), dtype=np.float32)
    padded[0, : x.shape[0]] = x
    for i in range(0, padded.shape[1] - block + 1, block):
        view = padded[:, i : i + block]
        denoise.process(state, amount, view, view)
    return padded[0, lat : lat + x.shape[0]]


def peer(x: np.ndarray, stationary: bool, noise_clip: np.ndarray | None = None) -> np.ndarray:
    """noisereduce's spectral gating of the whole file, its defaults otherwise; stationary
    mode takes its noise statistics from ``noise_clip`` if given, else from the whole file."""
    import noisereduce

    clip = None if noise_clip is None else noise_clip.astype(np.float32)
    out = noisereduce.reduce_noise(y=x.astype(np.float32), sr=SR, stationary=stationary,
                                   y_noise=clip, use_tqdm=False, n_jobs=1)
    return np.asarray(out, dtype=np.float64)


def time_blocks(channels: int, blocks: int = 1500, passes: int = 3,
                amount: float = 1.0) -> dict[str, float]:
    """Wall time (us) of ``process`` per ``BLOCK``-frame block of noisy input, from reset.

    median_us: the median block (a hop is 96 samples, so most blocks run one frame, some two,
    and one in six also runs the voicing detector); mean_us: total time over blocks, the
    lowest of ``passes`` passes (a pass that another process interrupted reads high).
    """
    rng = np.random.default_rng(1)
    x = (0.05 * rng.standard_normal((channels, blocks * BLOCK))).astype(np.float32)
    y = np.empty((channels, BLOCK), dtype=np.float32)
    denoise.process(denoise.prepare(SR), amount, x[:, :BLOCK].copy(), y)  # compile
    times, means = [], []
    for _ in range(passes):
        state = denoise.prepare(SR)
        pass_times = []
        for b in range(blocks):
            xb = x[:, b * BLOCK : (b + 1) * BLOCK]
            t0 = time.perf_counter_ns()
            denoise.process(state, amount, xb, y)
            pass_times.append(time.perf_counter_ns() - t0)
        times += pass_times
        means.append(statistics.fmean(pass_times) / 1000.0)
    return {"median_us": statistics.median(times) / 1000.0, "mean_us": min(means)}


def _scores(clean: np.ndarray, mix: np.ndarray, lead: int, nonstationary: bool) -> dict:
    """SI-SDR of the mix, and the improvement of ours and of every peer variant (dB)."""
    base = si_sdr_db(mix, clean)
    row = {"input_si_sdr_db": base,
           "ours_db": si_sdr_db(ours(mix), clean) - base,
           "peer_stationary_db": si_sdr_db(peer(mix, True), clean) - base,
           "peer_stationary_clip_db": si_sdr_db(peer(mix, True, mix[:lead]), clean) - base}
    if nonstationary:
        row["peer_nonstationary_db"] = si_sdr_db(peer(mix, False), clean) - base
    return row


def bench_denoise(split: str = "heldout", nonstationary: bool = True) -> dict:
    """SI-SDR improvements of every noise x SNR for ours and the peer, their means per noise
    and overall, and our cost per block."""
    clean = clean_speech(split)
    n = clean.shape[0]
    speech_power = np.mean(clean**2)
    lead = int(LEAD_IN_S * SR)
    rows = []
    for k, kind in enumerate(NOISES):
        v = noise(kind, n, 100 * SEEDS[split] + 100 + k)
        for snr_db in SNRS_DB:
            mix = clean + v * np.sqrt(speech_power / db_to_power(snr_db))
            rows.append({"noise": kind, "snr_db": snr_db,
                         **_scores(clean, mix, lead, nonstationary)})
    keys = [key for key in rows[0] if key.endswith("_db") and key != "snr_db"]
    means = {}
    for kind in (*NOISES, "all"):
        sel = [r for r in rows if kind in ("all", r["noise"])]
        means[kind] = {key: float(np.mean([r[key] for r in sel])) for key in keys}
    state = denoise.prepare(SR)
    return {"split": split, "rows": rows, "means": means, "seconds_per_file": n / SR,
            "latency_ms": 1e3 * denoise.latency_samples(state) / SR,
            "cost_mono": time_blocks(1), "cost_stereo": time_blocks(2),
            "block_ms": 1e3 * BLOCK / SR}
