"""Training: the loss sees real errors, and a resumed run equals one that never stopped."""

from __future__ import annotations

import pytest
import torch

from models.drum_ae.network import COMPRESSION
from models.drum_ae.train import TrainOptions, mrstft_loss, train

# shape_from_step=2: the resumed test crosses into the late stage (shape + onset terms).
TINY = dict(batch=2, clip_frames=16 * COMPRESSION, threads=1, checkpoint_every=2,
            kl_warmup_steps=2, shape_from_step=2)


def test_mrstft_loss_is_zero_only_for_a_match():
    x = torch.randn(2, 8192)
    assert float(mrstft_loss(x, x)) == 0.0
    assert float(mrstft_loss(0.5 * x, x)) > float(mrstft_loss(0.9 * x, x)) > 0.0


def test_resumed_run_equals_an_uninterrupted_one(tmp_path):
    straight = tmp_path / "straight"
    train(straight, TrainOptions(steps=4, **TINY), log=lambda _: None)
    split = tmp_path / "split"
    assert train(split, TrainOptions(steps=4, **TINY), log=lambda _: None, stop_at=3) is None
    assert not (split / "drums.ts").exists()
    train(split, TrainOptions(steps=4, **TINY), resume=True, log=lambda _: None)
    a = torch.load(straight / "checkpoint.pt")
    b = torch.load(split / "checkpoint.pt")
    assert a["step"] == b["step"] == 4
    for name, value in a["model"].items():
        assert torch.equal(value, b["model"][name]), name
    assert (split / "drums.ts").is_file()


def test_resume_refuses_other_options(tmp_path):
    train(tmp_path, TrainOptions(steps=1, **TINY), log=lambda _: None)
    with pytest.raises(ValueError, match="batch"):
        train(tmp_path, TrainOptions(steps=2, **{**TINY, "batch": 3}), resume=True,
              log=lambda _: None)
