"""The training entry point on real FSDD recordings with a tiny budget, and its checkpoint."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from data import fsdd
from models.registry import CheckpointError, read_card
from models.speech.batches import AugmentConfig, FeatureMaker, place_clips, spec_augment
from models.speech.checkpoints import load_model
from models.speech.config import SpikCommanderConfig
from models.speech.train import TrainConfig, evaluate, train
from tests.conftest import shared_path

TINY = SpikCommanderConfig(dim=16, heads=2)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("speech-checkpoints")
    config = TrainConfig(
        data_dir=str(shared_path("fsdd")),
        model=TINY,
        epochs=1,
        batch_size=12,
        limit=24,
        threads=1,
        name="tiny",
        out_dir=str(out),
        command="glimpse train speech --epochs 1 --limit 24",
    )
    return config, train(config), out


def test_train_reports_metrics(trained):
    _, metrics, _ = trained
    assert metrics["train_recordings"] == 24
    assert metrics["test_recordings"] == 300
    confusion = np.array(metrics["confusion"])
    assert confusion.shape == (10, 10)
    assert confusion.sum() == 300
    assert metrics["test_accuracy"] == pytest.approx(np.trace(confusion) / 300)
    assert len(metrics["history"]) == 1


def test_checkpoint_card_and_reload(trained):
    config, metrics, out = trained
    card = read_card(out / "tiny.json")
    assert card["command"] == config.command
    assert card["area"] == "speech"
    assert card["dtype"] == "float16"
    assert card["config"]["train"]["split"] == "recordings"
    assert "recordings 0-4" in card["data"]
    model, front_end, _ = load_model("tiny", root=out)
    assert model.config == TINY
    # Second route: the reloaded fp16 weights score the held-out split as the card says.
    _, test = fsdd.split_recordings(fsdd.list_recordings(shared_path("fsdd")))
    labels = np.array([r.digit for r in test])
    accuracy, _ = evaluate(model, fsdd.load_waveforms(test), labels, FeatureMaker(front_end))
    assert accuracy == pytest.approx(metrics["test_accuracy"], abs=0.02)


def test_missing_checkpoint_names_fix(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_model("absent", root=tmp_path)


def test_place_clips_random_offsets_stay_inside():
    rng = np.random.default_rng(0)
    short = np.ones(3000, dtype=np.float32)
    long = np.ones(9000, dtype=np.float32)
    clips = place_clips([short, long, short], rng)
    assert clips.shape == (3, 8000)
    assert clips[0].sum() == 3000
    assert clips[1].sum() == 8000


def test_spec_augment_masks_blocks():
    rng = np.random.default_rng(3)
    features = torch.ones(100, 8, 140)
    config = AugmentConfig(mask_probability=1.0)
    masked = spec_augment(features, config, rng)
    zeros_per_sample = (masked == 0).sum(dim=(0, 2))
    assert (zeros_per_sample <= 10 * 100 + 25 * 140).all()
    assert features.min() == 1.0  # the input is left untouched
