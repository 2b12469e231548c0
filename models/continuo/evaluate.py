"""How well the transcribers turn held-out performances into notes.

Material: for ``voice`` the sung phrases of :mod:`models.continuo.corpus` (``"heldout"``:
voices and seeds no constant was chosen on and the network never heard); for ``piano``,
``guitar``, ``violin`` and ``flute`` takes of :mod:`models.continuo.performances` rendered
through TimGM6mb (:func:`models.continuo.dataset.heldout_clips`), a soundfont never trained
on. Transcribers: ``continuo`` (the neural stream, told the instrument), ``continuo-auto``
(the same, not told), ``yin`` (the live kernel, voice only by design) and ``basic-pitch``
(the peer, whole file at once). Scored
with mir_eval's note-transcription matching, pooled over each instrument's clips:

* ``onset_*``: a note matches when its onset is within 50 ms and its pitch within 50
  cents of a reference note's;
* ``onset_offset_*``: the offset must also be within 20 % of the reference note's length
  (or 50 ms, whichever is larger);
* ``pitch_error_cents_median``: over onset-matched notes, |estimated - reference| pitch,
  the microtonal part included (sung references are detuned up to 20 cents);
* ``note_on_latency_ms_*`` (streaming transcribers): from a matched reference note's start
  to the input time its note-on was decided: what live MIDI out lags the player by, less
  the audio and MIDI buffers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import mir_eval
import numpy as np

from models.continuo.notes import Note, to_intervals

ONSET_TOLERANCE_S = 0.05
PITCH_TOLERANCE_CENTS = 50.0
TRANSCRIBERS = ("continuo", "continuo-auto", "yin", "basic-pitch")
# one transcription: (notes, decision time per note or None when it saw the whole file)
Result = tuple[list[Note], list[float] | None]


def _prf(matched: int, n_ref: int, n_est: int) -> tuple[float, float, float]:
    p = matched / n_est if n_est else 0.0
    r = matched / n_ref if n_ref else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def score(pairs: Sequence[tuple[list[Note], Result]]) -> dict[str, Any]:
    """Pooled metrics over (reference notes, transcription) pairs."""
    n_ref = n_est = on_match = onoff_match = 0
    cents: list[float] = []
    latency_ms: list[float] = []
    for ref, (est, decided) in pairs:
        n_ref += len(ref)
        n_est += len(est)
        if not est or not ref:
            continue
        ri, rp = to_intervals(ref)
        ei, ep = to_intervals(est)
        matched = mir_eval.transcription.match_notes(
            ri, rp, ei, ep, onset_tolerance=ONSET_TOLERANCE_S,
            pitch_tolerance=PITCH_TOLERANCE_CENTS, offset_ratio=None)
        on_match += len(matched)
        onoff_match += len(mir_eval.transcription.match_notes(
            ri, rp, ei, ep, onset_tolerance=ONSET_TOLERANCE_S,
            pitch_tolerance=PITCH_TOLERANCE_CENTS))
        for i_ref, i_est in matched:
            cents.append(100.0 * abs(est[i_est].pitch - ref[i_ref].pitch))
            if decided is not None:
                latency_ms.append(1e3 * (decided[i_est] - ref[i_ref].start_s))
    p, r, f = _prf(on_match, n_ref, n_est)
    p2, r2, f2 = _prf(onoff_match, n_ref, n_est)

    def stat(values: list[float], fn: Callable) -> float | None:
        return float(fn(values)) if values else None

    return {
        "reference_notes": n_ref, "estimated_notes": n_est,
        "onset_precision": p, "onset_recall": r, "onset_f_measure": f,
        "onset_offset_precision": p2, "onset_offset_recall": r2, "onset_offset_f_measure": f2,
        "pitch_error_cents_median": stat(cents, np.median),
        "note_on_latency_ms_median": stat(latency_ms, np.median),
        "note_on_latency_ms_p90": stat(latency_ms, lambda v: np.percentile(v, 90)),
    }


def evaluate(split: str = "heldout", phrases: int = 20, **kwargs) -> dict[str, Any]:
    """The YIN transcriber on ``phrases`` sung phrases of ``split`` (``kwargs`` go to it)."""
    from models.continuo import corpus
    from models.continuo.transcribe import transcribe

    pairs = []
    for ph in corpus.split_phrases(split, phrases):
        tr = transcribe(ph.audio, ph.sample_rate_hz, **kwargs)
        pairs.append((ph.notes, (tr.notes, tr.decision_s)))
    return {"split": split, "phrases": phrases, **score(pairs)}


def _runner(name: str, instrument: str, yin_kwargs: dict) -> Callable[[Any], Result]:
    if name.startswith("continuo"):
        from models.continuo.neural import transcribe_file

        told = "auto" if name == "continuo-auto" else instrument

        def run(clip) -> Result:
            tr = transcribe_file(clip.audio, clip.rate_hz, told)
            return tr.notes, tr.decision_s
        return run
    if name == "yin":
        from models.continuo.transcribe import transcribe

        def run_yin(clip) -> Result:
            tr = transcribe(clip.audio, clip.rate_hz, **yin_kwargs)
            return tr.notes, tr.decision_s
        return run_yin
    from models.continuo.peer import BasicPitch

    peer = BasicPitch()
    return lambda clip: (peer.notes(clip.audio, clip.rate_hz), None)


def evaluate_instruments(instruments: Sequence[str], clips: int,
                         transcribers: Sequence[str] = TRANSCRIBERS,
                         yin_kwargs: dict | None = None, log=None) -> dict[str, Any]:
    """``{instrument: {transcriber: metrics}}`` over ``clips`` held-out clips each."""
    from models.continuo.dataset import heldout_clips

    out: dict[str, Any] = {}
    for inst in instruments:
        material = heldout_clips(inst, clips)
        out[inst] = {}
        for name in transcribers:
            run = _runner(name, inst, yin_kwargs or {})
            out[inst][name] = score([(c.notes, run(c)) for c in material])
            if log is not None:
                log(f"{inst} {name}: onset F {out[inst][name]['onset_f_measure']:.3f}")
    return out
