"""load_for_engine: a bank folder becomes the sampler's buffer and table at any rate."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from dsp import sampler
from engine.bank.build import build_bank
from engine.bank.pack import load_for_engine
from engine.errors import UsageError


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pack")
    t = np.arange(14400) / 48000
    parts = [np.zeros(4800)]
    for f in (220.0, 330.0):  # two 300 ms notes
        parts += [0.5 * np.sin(2 * np.pi * f * t) * np.exp(-t / 0.2), np.zeros(9600)]
    sf.write(folder / "notes.wav", np.concatenate(parts), 48000)
    build_bank([folder / "notes.wav"], folder / "bank")
    return folder / "bank"


@pytest.mark.parametrize("rate", [48000, 44100])
def test_slices_are_laid_end_to_end_at_the_engine_rate(bank, rate):
    audio, table = load_for_engine(bank, rate)
    assert audio.dtype == np.float32 and audio.shape[0] == 1
    assert table.shape == (2, sampler.TABLE_COLS)
    np.testing.assert_array_equal(table[:, sampler.T_START], [0, table[0, sampler.T_LENGTH]])
    assert table[:, sampler.T_LENGTH].sum() == audio.shape[1]
    expected = 69 + 12 * np.log2(np.array([220.0, 330.0]) / 440)
    np.testing.assert_allclose(table[:, sampler.T_NOTE], expected, atol=0.5)
    # the 44.1 kHz buffer is the same audio: length scales with the rate
    seconds = table[:, sampler.T_LENGTH] / rate
    assert np.all(np.abs(seconds - table[:, sampler.T_LENGTH].mean() / rate) < 0.05)


def test_a_missing_bank_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="absent: no such directory"):
        load_for_engine(tmp_path / "absent", 48000)
