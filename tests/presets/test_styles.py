"""Mix styles (presets/styles.py): named targets, and targets measured from a file."""

from __future__ import annotations

import numpy as np
import pyebur128
import pytest
import soundfile as sf

from dsp.analysis.mix_readings import as_stereo
from presets.registry import INDEX, REGISTRY
from presets.styles import STYLES, measure_style, resolve_style


def test_every_style_is_within_the_controls_ranges():
    for name, style in STYLES.items():
        params = style.params()
        assert params["automix_amount"] == 1.0
        assert params["automix_loudness_lufs"] == style.loudness_lufs, name
        assert params["automix_brightness_db"] == style.brightness_db, name
        assert params["automix_width_db"] == style.width_db, name


def test_names_are_case_insensitive_and_unknown_names_list_the_styles():
    assert resolve_style("Club") == STYLES["club"].params()
    with pytest.raises(ValueError, match="streaming, broadcast"):
        resolve_style("nonesuch")


def test_a_file_style_is_its_own_measurement_clamped_to_the_ranges(tmp_path):
    # a mono file: no side at all, so its width is below what the control reaches
    rng = np.random.default_rng(0)
    path = tmp_path / "ref.wav"
    sf.write(path, 0.1 * rng.standard_normal(48000 * 5).astype(np.float32), 48000)
    params = resolve_style(str(path))
    assert params["automix_width_db"] == REGISTRY[INDEX["automix_width_db"]].min
    # white noise: 2 kHz and up is about (24 - 2) / 24 of the energy at 48 kHz, brighter
    # than the control's top
    measured = measure_style(as_stereo(sf.read(path, dtype="float32", always_2d=True)[0]),
                             48000)
    assert abs(measured.brightness_db - 10 * np.log10(22 / 24)) < 0.1
    assert params["automix_brightness_db"] == REGISTRY[INDEX["automix_brightness_db"]].max
    # loudness as pyebur128 reads the file played on both channels (steady noise: the
    # gates of the two meters keep everything)
    meter = pyebur128.R128State(2, 48000, pyebur128.MeasurementMode.MODE_I)
    audio = np.repeat(sf.read(path)[0][:, None], 2, axis=1)
    meter.add_frames(np.ascontiguousarray(audio).reshape(-1), audio.shape[0])
    assert abs(params["automix_loudness_lufs"] - pyebur128.get_loudness_global(meter)) < 0.2
