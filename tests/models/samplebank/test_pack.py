"""load_for_engine: a bank folder becomes the sampler's buffer and table at any rate."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from dsp import sampler
from dsp.errors import InputError
from models.samplebank.build import build_bank
from models.samplebank.pack import load_for_engine


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
    with pytest.raises(InputError, match="absent: no such directory"):
        load_for_engine(tmp_path / "absent", 48000)


def test_kit_map_takes_the_first_slice_of_each_voice_class(tmp_path):
    from models.samplebank.index import BankIndex, Slice, write_bank
    from models.samplebank.pack import kit_map
    from presets.registry import DRUM_VOICES

    def make_slice(i, cls, pitch_hz=None):
        return Slice(file=f"slices/{i:04d}.wav", source="in.wav", start_s=0.5 * i,
                     duration_s=0.01, pitch_hz=pitch_hz,
                     midi_note=None if pitch_hz is None else 57.0, peak_dbfs=-6.0,
                     rms_db=-12.5, loudness_lufs=None, centroid_hz=321.5, class_=cls)

    slices = (make_slice(0, "tonal", 220.0), make_slice(1, "hat"), make_slice(2, "kick"),
              make_slice(3, "hat"))
    audio = [np.zeros(480, np.float32) for _ in slices]
    write_bank(tmp_path / "kit", BankIndex(slices=slices), audio)
    m = dict(zip(DRUM_VOICES, kit_map(tmp_path / "kit"), strict=True))
    assert m == {"kick": 2, "snare": -1, "hat_closed": 1, "hat_open": 1, "tom_low": -1,
                 "tom_mid": -1, "tom_high": -1, "clap": -1}
    with pytest.raises(InputError, match="absent"):
        kit_map(tmp_path / "absent")
