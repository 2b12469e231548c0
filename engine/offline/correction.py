"""The offline mix's last step: measure the mastered mix and move the master's tilt, side
gain and gain until the style's figures are met.

The predictor lands near the targets; what is left is corrected by measurement: the M/S
ratio scales exactly with the side gain, the centroid moves monotonically with the tilt
(and, past the tilt's end, with a high-cut or low-cut's frequency) and the loudness with
the gain, less what the limiter takes. First the linear chain before the limiter is brought
to the centroid and M/S targets on estimates (:class:`_ToneFigures`: no pass over the
audio); then rounds through the limiter read all three figures on the output and move the
side gain, the gain and the tone again until every figure is within half its tolerance.

The gain's step comes from a model of what the limiter leaves of the loudness
(``dsp.analysis.limited_loudness``, calibrated on the pass just measured), so the
limiter's loss is stepped over at once rather than learnt over passes. Where the model
says no gain reaches the target, the limiter's release is halved, down to 25 ms (louder,
at the cost of more pumping), and past that the gain stops where the limiter would take
nearly all it adds: the loudness target is reported missed rather than forced. The
centroid is aimed past what the limiter did to it in the last round (at loud targets it
darkens), that shift scaled by how much more or less the model says the limiter will take
at the new gain.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from dsp import mastering
from dsp.analysis import mix_figures
from dsp.analysis.limited_loudness import Blocks, LimitedLoudness
from dsp.units import db_to_gain, gain_to_db
from presets.mix_styles import MixStyle

TONE_STEPS = 8  # estimates: cheap
ENERGY_BINS = 8193  # 2.9 Hz bands at 48 kHz for the M/S estimate
AIM_SHARE = 0.25  # of the tolerance: what the tone is aimed within, on estimates
OUTPUT_STEPS = 8
TILT_DB_PER_OCTAVE = 8.0  # first guess of how far the tilt must move per octave of centroid
FASTEST_RELEASE_MS = 25.0
HIGHEST_CUT_HZ = 0.99 * mastering.HIGH_CUT_OFF_HZ  # the high-cut's last setting before off
MAX_SCALE = 2.0  # at most this power of the last darkening: the model's share is rough
MODEL_TAKEN_DB = 0.1  # under this the limiter's darkening is not scaled by the model


@dataclass
class Correction:
    params: np.ndarray  # the master's parameters after correction
    figures: dict[str, float]  # measured on the output
    steps: int  # passes through the limiter


class _Secant:
    """Steps one parameter ``x`` towards ``f(x) = target``: a secant step from the last two
    reads (``fallback`` slope until there are two, or when they disagree in sign), kept
    inside the bracket once the target has been seen on both sides (false position when
    the secant would leave it), so a figure that other controls also move cannot make it
    swing back and forth."""

    def __init__(self, fallback: float) -> None:
        self.fallback = fallback
        self.last: tuple[float, float] | None = None
        self.below: tuple[float, float] | None = None  # (x, error) with the error < 0
        self.above: tuple[float, float] | None = None

    def step(self, x: float, y: float, target: float) -> float:
        slope = self.fallback
        if self.last is not None and abs(x - self.last[0]) > 1e-6:
            measured = (y - self.last[1]) / (x - self.last[0])
            # a slope far flatter than expected would throw x to its end: the other
            # controls moved the figure too, so trust at most a tenth of the fallback's
            if math.isfinite(measured) and measured * self.fallback > 0.0:
                slope = measured if abs(measured) > 0.1 * abs(self.fallback) else \
                    0.1 * self.fallback
        self.last = (x, y)
        error = y - target
        if error < 0.0:
            self.below = (x, error)
        else:
            self.above = (x, error)
        new = x - error / slope
        if self.below is not None and self.above is not None:
            (x0, e0), (x1, e1) = self.below, self.above
            if not min(x0, x1) < new < max(x0, x1) and e1 != e0:
                new = x0 - e0 * (x1 - x0) / (e1 - e0)
        return new


def _set(p: np.ndarray, name: str, value: float) -> None:
    spec = mastering.MASTER_PARAMS[mastering.INDEX[name]]
    p[mastering.INDEX[name]] = min(max(value, spec.low), spec.high)


class _Controls:
    """The tone's secant controls, whether the gain is spent, and one round of moves from a
    set of figures (towards ``centroid_hz`` if given, else the style's centroid)."""

    def __init__(self, style: MixStyle, centroid_hz: float | None = None) -> None:
        self.style = style
        self.centroid_hz = style.centroid_hz if centroid_hz is None else centroid_hz
        self.tilt = _Secant(1.0 / TILT_DB_PER_OCTAVE)  # octaves of centroid per dB
        self.high_cut = _Secant(0.5)  # octaves of centroid per octave of cut-off
        self.low_cut = _Secant(0.3)
        self.gain_spent = False

    def within(self, fig: dict[str, float], share: float, loudness: bool) -> bool:
        s, tol = self.style, self.style.tolerance
        ok = (_near(fig["centroid_hz"], self.centroid_hz, share * tol["centroid_hz"])
              and (_near(fig["ms_ratio"], s.ms_ratio, share * tol["ms_ratio"])
                   or not fig["ms_ratio"] > 1e-4))
        return ok and (not loudness or _near(fig["lufs"], s.lufs, share * tol["lufs_db"]))

    def move(self, p: np.ndarray, fig: dict[str, float], centroid: bool = True,
             model: LimitedLoudness | None = None) -> None:
        """Side gain, then (``centroid``) tilt or cuts, then (given the limiter's
        ``model`` at ``p``) gain."""
        s = self.style
        ms, now = fig["ms_ratio"], fig["centroid_hz"]
        if ms > 1e-4:
            _set(p, "side_db", p[mastering.INDEX["side_db"]] + gain_to_db(s.ms_ratio / ms))
        if centroid and math.isfinite(now) and now > 0.0:
            self._move_centroid(p, math.log2(now), math.log2(self.centroid_hz))
        if model is not None and not self.gain_spent:
            # the gain the model says reaches the target within the gain's range; where
            # none does but by driving the limiter into taking nearly all of it, a faster
            # release (louder, at the cost of more pumping), down to the fastest, and
            # there the gain past which the limiter takes nearly all it adds
            gain = p[mastering.INDEX["gain_db"]]
            spec = mastering.MASTER_PARAMS[mastering.INDEX["gain_db"]]
            low, high = spec.low - gain, spec.high - gain
            step = model.step_db(s.lufs, low, high)
            while step is None and model.release_ms > FASTEST_RELEASE_MS:
                model.release_ms = max(FASTEST_RELEASE_MS, 0.5 * model.release_ms)
                step = model.step_db(s.lufs, low, high)
            if step is None:
                step = model.spent_db(low, high)
                self.gain_spent = True
            _set(p, "limiter_release_ms", model.release_ms)
            _set(p, "gain_db", gain + step)

    def _move_centroid(self, p: np.ndarray, now: float, goal: float) -> None:
        """The tilt, or past its end the high-cut (too bright) or low-cut (too dark)."""
        tilt_spec = mastering.MASTER_PARAMS[mastering.INDEX["tilt_db"]]
        tilt = p[mastering.INDEX["tilt_db"]]
        high_cut = p[mastering.INDEX["high_cut_hz"]]
        low_cut = p[mastering.INDEX["low_cut_hz"]]
        cutting_high = high_cut < mastering.HIGH_CUT_OFF_HZ
        cutting_low = low_cut > mastering.LOW_CUT_OFF_HZ
        if cutting_high and high_cut >= HIGHEST_CUT_HZ and \
                (tilt > tilt_spec.low if now > goal else tilt < tilt_spec.high):
            # the cut at its highest, and the tilt free to move the right way: the tilt
            # aims, the cut kept (past it only off is left, which at high rates lets a
            # band far above it back in at once: a jump no step could aim across)
            _set(p, "tilt_db", self.tilt.step(tilt, now, goal))
        elif cutting_high or (tilt <= tilt_spec.low and now > goal):
            # engaged at four times the target centroid; switched off again past its end,
            # but only from its highest setting (above)
            start = math.log2(high_cut if cutting_high else 4.0 * 2.0 ** goal)
            new = 2.0 ** self.high_cut.step(start, now, goal)
            if new >= HIGHEST_CUT_HZ:
                new = mastering.HIGH_CUT_OFF_HZ if high_cut >= HIGHEST_CUT_HZ else HIGHEST_CUT_HZ
            _set(p, "high_cut_hz", new)
        elif cutting_low or (tilt >= tilt_spec.high and now < goal):
            start = math.log2(low_cut if cutting_low else 0.1 * 2.0 ** goal)
            new = 2.0 ** self.low_cut.step(start, now, goal)
            _set(p, "low_cut_hz", new if new > mastering.LOW_CUT_OFF_HZ
                 else mastering.LOW_CUT_OFF_HZ)
        else:
            _set(p, "tilt_db", self.tilt.step(tilt, now, goal))


def _near(value: float, target: float, tolerance: float) -> bool:
    return math.isfinite(value) and abs(value - target) <= tolerance


class _ToneFigures:
    """The centroid and M/S ratio the tone stage would give ``bused``, read without running
    it: the mid's frame spectra, and the mid's and side's energy per frequency, once; then
    per setting each weighted by the filters' |H| (:func:`dsp.mastering.tone_response`) and
    the side by its gain. The centroid's filters ring for far less than its 43 ms frames, so
    it reads the measured figure to within a few hertz; the energies come from one
    whole-signal FFT each (windowed frames would weigh a burst by where it falls in them).
    It aims the tone before each pass through the limiter; the figures that decide are
    measured on the output."""

    def __init__(self, bused: np.ndarray, rate: int) -> None:
        from scipy.fft import next_fast_len, rfft

        self.rate = rate
        x = np.asarray(bused, np.float32)
        n = next_fast_len(x.shape[1], real=True)
        with ThreadPoolExecutor(2) as pool:  # the FFTs release the GIL: three at once
            # float32 (a 2e-7 relative error on energies)
            mid, side = (pool.submit(lambda v: np.abs(rfft(v, n)) ** 2, v)
                         for v in (x[0] + x[1], x[0] - x[1]))
            self.mid, self.freqs = mix_figures.mono_power_spectra(bused, rate)
            power = np.stack([mid.result(), side.result()])
        # summed into ENERGY_BINS bands (|H| read at their centres: a steady tone sits
        # within 1.5 Hz of one, where the shelves' slopes move |H| by far under 0.1 dB)
        self.fine_hz = np.linspace(0.0, 0.5 * rate, ENERGY_BINS)
        half_band = 0.5 * self.fine_hz[1]
        starts = np.searchsorted(np.arange(power.shape[1]) * rate / n, self.fine_hz - half_band)
        self.mid_power, self.side_power = np.add.reduceat(power, starts, axis=1)
        self.z = mastering.unit_delays(self.freqs, rate)  # once: every estimate reads them
        self.fine_z = mastering.unit_delays(self.fine_hz, rate)

    def __call__(self, p: np.ndarray) -> dict[str, float]:
        h = mastering.tone_response(self.freqs, self.rate, p, self.z)
        centroid = mix_figures.centroid_from_spectra(self.mid * h, self.freqs)
        h2 = mastering.tone_response(self.fine_hz, self.rate, p, self.fine_z) ** 2
        mid, side = float(self.mid_power @ h2), float(self.side_power @ h2)
        gain = db_to_gain(p[mastering.INDEX["side_db"]])
        ms = gain * math.sqrt(side / mid) if mid > 0.0 else math.nan
        return {"centroid_hz": centroid, "ms_ratio": ms}


def _aim_tone(p: np.ndarray, tone_figures: _ToneFigures, style: MixStyle, centroid_hz: float
              ) -> None:
    """Move the tilt (or cuts) and side gain until the tone stage alone gives
    ``centroid_hz`` and the style's M/S ratio, on estimates (no pass over the audio)."""
    tone = _Controls(style, centroid_hz)
    for _ in range(TONE_STEPS):
        fig = tone_figures(p)
        if tone.within(fig, AIM_SHARE, False) or not math.isfinite(fig["centroid_hz"]):
            break
        tone.move(p, fig)


def limited_pass(bused: np.ndarray, rate: int, p: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """``bused`` through the master's tone stages (the limiter's input) and limiter as
    ``p`` sets them, and the output's figures."""
    pre = mastering.tone(bused, rate, p)
    y = mastering.limit(pre, rate, p[mastering.INDEX["limiter_release_ms"]])
    return pre, y, mix_figures.figures(y, rate)


def correct(bused: np.ndarray, rate: int, style: MixStyle, params: np.ndarray
            ) -> tuple[np.ndarray, Correction]:
    """``bused``: the stems' sum after the bus compressor; ``params``: the master's values
    from the predictor. Returns the output and the correction made."""
    p = mastering.clamp(np.array(params, dtype=np.float64))
    tone_figures = _ToneFigures(bused, rate)
    _aim_tone(p, tone_figures, style, style.centroid_hz)
    out = _Controls(style)  # the tone's secants learn afresh: the limiter moves the centroid
    pre, y, fig = limited_pass(bused, rate, p)
    steps = 1
    # once the gain is spent, the loudness no longer holds the rounds open
    while steps < OUTPUT_STEPS and not out.within(fig, 0.5, not out.gain_spent) \
            and math.isfinite(fig["lufs"]):
        before = p.copy()
        model = None if out.gain_spent else LimitedLoudness(
            Blocks.read(pre, rate), mastering.CEILING_DBTP,
            p[mastering.INDEX["limiter_release_ms"]], fig["lufs"])
        # what the limiter did to the centroid: measured over the tone alone at the
        # settings just measured (read before this round moves them)
        shift = fig["centroid_hz"] / tone_figures(p)["centroid_hz"]
        gain = p[mastering.INDEX["gain_db"]]
        out.move(p, fig, centroid=False, model=model)
        if math.isfinite(shift) and shift > 0.0:
            # the darkening grows with what the limiter takes: scaled (in octaves) to what
            # the model says the new gain will take (at the same release)
            same_release = p[mastering.INDEX["limiter_release_ms"]] == \
                before[mastering.INDEX["limiter_release_ms"]]
            if model is not None and same_release:
                taken = model.taken_db(0.0)
                taking = model.taken_db(p[mastering.INDEX["gain_db"]] - gain)
                if taken > MODEL_TAKEN_DB:
                    shift = shift ** min(MAX_SCALE, taking / taken)
            _aim_tone(p, tone_figures, style, style.centroid_hz / shift)
        if np.array_equal(before, p):  # every control at its end: nothing more to gain
            break
        pre, y, fig = limited_pass(bused, rate, p)
        steps += 1
    return y, Correction(p, fig, steps)
