"""Offline analysis of whole clips (never in the callback): level and spectral features
(``features``: the auto-mix's RMS, crest, centroid, bands, dynamic range, M/S), frame-wise
spectra (``spectral``: mel, MFCC, chroma, flux), original-vs-rendered similarity
(``similarity``, what ``musicmill compare`` prints) and a whole file's loudness
(``loudness_file``: the streaming meter's readings in numpy, for ``musicmill loudness``)."""
