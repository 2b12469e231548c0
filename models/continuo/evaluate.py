"""How well the streaming transcriber turns a sung phrase into notes.

Phrases come from :mod:`models.continuo.corpus` (``"heldout"`` by default: voices and
seeds the transcriber's constants were not chosen on). Each is transcribed block by block
as the live callback would (:func:`models.continuo.transcribe.transcribe`) and scored with
mir_eval's note-transcription metrics, pooled over all phrases' notes:

* ``onset_*``: a note matches when its onset is within 50 ms and its pitch within 50
  cents of a reference note's;
* ``onset_offset_*``: the offset must also be within 20 % of the reference note's length
  (or 50 ms, whichever is larger);
* ``pitch_error_cents_median``: over onset-matched notes, |estimated - reference| pitch,
  the microtonal part included (the reference pitches are detuned up to 20 cents);
* ``note_on_latency_ms_*``: from a matched reference note's start to the input frame
  where the transcriber decided its note-on: what live MIDI out lags a voice by, less
  the audio and MIDI buffers.
"""

from __future__ import annotations

from typing import Any

import mir_eval
import numpy as np

from models.continuo import corpus
from models.continuo.notes import to_intervals
from models.continuo.transcribe import transcribe

ONSET_TOLERANCE_S = 0.05
PITCH_TOLERANCE_CENTS = 50.0


def _prf(matched: int, n_ref: int, n_est: int) -> tuple[float, float, float]:
    p = matched / n_est if n_est else 0.0
    r = matched / n_ref if n_ref else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def evaluate(split: str = "heldout", phrases: int = 20, **kwargs) -> dict[str, Any]:
    """Metrics over ``phrases`` phrases of ``split``; ``kwargs`` go to the transcriber."""
    n_ref = n_est = on_match = onoff_match = 0
    cents: list[float] = []
    latency_ms: list[float] = []
    for ph in corpus.split_phrases(split, phrases):
        tr = transcribe(ph.audio, ph.sample_rate_hz, **kwargs)
        ri, rp = to_intervals(ph.notes)
        ei, ep = to_intervals(tr.notes)
        n_ref += len(ph.notes)
        n_est += len(tr.notes)
        if not tr.notes:
            continue
        pairs = mir_eval.transcription.match_notes(
            ri, rp, ei, ep, onset_tolerance=ONSET_TOLERANCE_S,
            pitch_tolerance=PITCH_TOLERANCE_CENTS, offset_ratio=None)
        on_match += len(pairs)
        onoff_match += len(mir_eval.transcription.match_notes(
            ri, rp, ei, ep, onset_tolerance=ONSET_TOLERANCE_S,
            pitch_tolerance=PITCH_TOLERANCE_CENTS))
        for i_ref, i_est in pairs:
            cents.append(100.0 * abs(tr.notes[i_est].pitch - ph.notes[i_ref].pitch))
            latency_ms.append(1e3 * (tr.decision_s[i_est] - ph.notes[i_ref].start_s))
    p, r, f = _prf(on_match, n_ref, n_est)
    p2, r2, f2 = _prf(onoff_match, n_ref, n_est)
    return {
        "split": split, "phrases": phrases, "reference_notes": n_ref, "estimated_notes": n_est,
        "onset_precision": p, "onset_recall": r, "onset_f_measure": f,
        "onset_offset_precision": p2, "onset_offset_recall": r2, "onset_offset_f_measure": f2,
        "pitch_error_cents_median": float(np.median(cents)) if cents else float("nan"),
        "note_on_latency_ms_median": float(np.median(latency_ms)) if latency_ms
        else float("nan"),
        "note_on_latency_ms_p90": float(np.percentile(latency_ms, 90)) if latency_ms
        else float("nan"),
    }
