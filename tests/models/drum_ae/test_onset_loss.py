"""The torch onset flux equals the Numba detector's, frame for frame."""

import numpy as np
import torch

from dsp import onset
from models.drum_ae import corpus
from models.drum_ae.onset_loss import band_matrix, onset_flux, onset_flux_loss

SR = 48000
HOP = 64


def _detector_flux(x: np.ndarray) -> np.ndarray:
    """The live detector's flux after each hop (hop 64, lag 2: spectra 128 samples apart)."""
    state = onset.prepare(SR, frame_size=512, hop=HOP, lag=2)
    out = np.zeros((64, 2))
    flux = []
    for i in range(0, x.shape[0] - HOP + 1, HOP):
        onset.process(state, x[i:i + HOP], out)
        flux.append(state[onset._FLUX1])
    return np.array(flux)


def test_flux_matches_the_detector_frame_for_frame():
    x = corpus.heldout(3, 0.5)
    ours = onset_flux(torch.from_numpy(x.astype(np.float64))[None],
                      band_matrix(SR).double(), HOP)[0].numpy()
    theirs = _detector_flux(x)
    # Ours starts at the first full frame (ends at sample 512, detector frame 7) plus the lag.
    first = 512 // HOP - 1 + 2
    theirs = theirs[first:first + ours.shape[0]]
    assert ours.shape == theirs.shape
    assert theirs.max() > 0.5  # the clip has hits
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_loss_is_zero_on_identity_and_points_at_an_extra_hit():
    bands = band_matrix(SR)
    x = torch.from_numpy(corpus.heldout(1, 0.5))[None]
    assert onset_flux_loss(x, x, bands).item() == 0.0
    y = x.clone()
    y[0, 12000:12480] += 0.2 * torch.randn(480)  # a 10 ms burst the input does not have
    assert onset_flux_loss(y, x, bands).item() > 0.0
    diff = (onset_flux(y, bands) - onset_flux(x, bands))[0]
    # Flux index i compares the frames ending at 512 + 64 * (i + 2) and 128 samples before.
    end = 512 + HOP * (int(diff.argmax()) + 2)
    assert 12000 <= end <= 12480 + 512
    assert diff.max() > 0.5  # a clear onset in the detector's units (its threshold is 0.08)
