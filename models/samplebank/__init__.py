"""Sample banks: a folder of one-shot slices cut from recordings, with an index.

``musicmill samples build IN... -o BANK_DIR`` (engine/commands/samples.py) reads each input
(WAV/FLAC/OGG/MP3), downmixes it to mono, resamples it to 48 kHz (soxr) and cuts it at the
onsets reported by :mod:`dsp.onset` (run offline with a 1024-sample frame, which keeps low
voices from flickering into false onsets, and warmed up on zeros so an attack at the very
start counts). The first sound (the first 10 ms within 40 dB of the file's loudest, and
above -60 dBFS) always starts a slice, and onsets before it are lead-in noise. A slice
ends where the next one starts, or once its 10 ms RMS has fallen 50 dB below the slice's
loudest 10 ms, or after ``--max-ms``, whichever comes first. Its start is trimmed to the
attack (the first sample within 40 dB of the slice's peak and 6 dB above the tail of what
came before) less 2 ms of pre-roll, and it gets a 1 ms raised-cosine fade-in and a 5 ms
fade-out, so no slice starts or ends with a click. Slices shorter than ``--min-ms`` or
whose sample peak is below -60 dBFS are dropped. ``start_s`` is the slice's first sample
in the source (so about 2 ms before the attack).

Known limit: the detector occasionally fires inside a decaying noise tail (a noisy kick or
snare), which cuts that hit short and adds a quiet tail slice.

Each slice is analysed (:mod:`models.samplebank.build`):

- ``pitch_hz``: median f0 of the voiced frames of :mod:`dsp.pitch` (frames whose YIN
  confidence passes the tracker's voicing threshold, 50 Hz - 2 kHz); null when fewer than
  half of the frames are voiced, or the slice is shorter than one analysis window (40 ms);
- ``midi_note``: ``69 + 12 * log2(pitch_hz / 440)`` (fractional), or null;
- ``peak_dbfs`` (sample peak), ``rms_db`` (``10 * log10(mean(x ** 2))``), and
  ``loudness_lufs`` (BS.1770 integrated, :mod:`dsp.loudness`) for slices of at least 400 ms
  (one gating block), else null;
- ``centroid_hz``: magnitude-weighted spectral centroid
  (:func:`dsp.analysis.features.spectral_centroid_hz`);
- ``class``: ``tonal`` when a pitch was found, else by centroid ``kick`` (< 600 Hz),
  ``snare`` (< 3.5 kHz) or ``hat``. This is a heuristic for sorting one-shots, not a drum
  classifier: a low tom reads as a kick, a clap as a snare, a pitched 808 as tonal.

On disk (written by :mod:`models.samplebank.index`; the whole folder is built beside BANK_DIR
under a temporary name and renamed into place, so a bank is never half written; ``--force``
replaces only an existing bank, a folder holding ``index.json``, never any other folder)::

    BANK_DIR/
      index.json    {"format": "musicmill-bank", "version": 1, "sample_rate_hz": 48000,
                     "slices": [{"file": "slices/0000.wav", "source": ..., "start_s": ...,
                                 ...}, ...]}   sorted by source, then start
      strudel.json  Strudel sample map: {"_base": "./", "<bank>_<class>": [files...]}
      slices/NNNN.wav   float32 WAV, 48 kHz, mono

Strudel's ``samples()`` prefixes each path with ``_base`` and ``"./"`` resolves against the
page that loads the map, so for a bank served over HTTP set ``_base`` to the folder's URL
(recent Strudel versions also take it as ``samples()``'s second argument). Then
``s("kick snare").bank("<bank>")`` plays the first kick and snare, ``n("0 1 2")
.s("<bank>_tonal")`` the first three tonal slices.

The engine loads a bank with :func:`models.samplebank.index.load_slices`.
"""

from models.samplebank.index import (
    CLASSES,
    FORMAT,
    SAMPLE_RATE_HZ,
    VERSION,
    BankError,
    BankIndex,
    Slice,
    load_slices,
    read_index,
)

__all__ = ["CLASSES", "FORMAT", "SAMPLE_RATE_HZ", "VERSION", "BankError", "BankIndex", "Slice",
           "load_slices", "read_index"]
