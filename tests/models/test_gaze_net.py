"""The Zhang et al. 2018 gaze network, its KL loss and a short training run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.atari.gaze_net import GazeNet, kl_loss, load_gaze_model
from models.atari.train_gaze import GazeTrainConfig, split_frames, train
from tests.conftest import REPO

SAMPLE = (
    REPO / "data" / "samples" / "atari_head" / "ms_pacman" / "593_RZ_5037271_Aug-05-15-35-12.txt"
)


def test_output_is_distribution():
    torch.manual_seed(0)
    model = GazeNet().eval()
    out = model.predict(torch.rand(3, 4, 84, 84))
    assert out.shape == (3, 84, 84)
    torch.testing.assert_close(out.sum(dim=(1, 2)), torch.ones(3))


def test_layer_shapes():
    model = GazeNet().eval()
    x = torch.rand(1, 4, 84, 84)
    encoded = model.encoder(x)
    assert encoded.shape == (1, 64, 7, 7)
    assert model.decoder[0](encoded).shape == (1, 64, 9, 9)
    assert model.decoder[1](model.decoder[0](encoded)).shape == (1, 32, 20, 20)


def test_kl_loss_by_hand():
    target = torch.tensor([[[0.5, 0.5], [0.0, 0.0]]])
    prediction = torch.full((1, 2, 2), 0.25)
    expected = 0.5 * np.log(0.5 / 0.25) * 2 + 2 * 1e-10 * np.log(1e-10 / 0.25)
    assert float(kl_loss(prediction.log(), target)) == pytest.approx(expected, rel=1e-6)


def test_kl_loss_gradient_matches_finite_difference():
    torch.manual_seed(1)
    logits = torch.randn(1, 4, dtype=torch.float64, requires_grad=True)
    target = torch.softmax(torch.randn(1, 4, dtype=torch.float64), -1).view(1, 2, 2)

    def loss(values):
        return kl_loss(torch.log_softmax(values, -1).view(1, 2, 2), target)

    (gradient,) = torch.autograd.grad(loss(logits), logits)
    # d KL / d logits = softmax(logits) - target for a softmax output.
    expected = torch.softmax(logits, -1) - target.view(1, 4)
    torch.testing.assert_close(gradient, expected.detach())


def test_split_keeps_gap():
    ids = [f"f{i}" for i in range(100)]
    train_ids, held = split_frames(ids, 0.2)
    assert held == ids[80:]
    assert train_ids == ids[:77]  # three frames dropped before the held-out block


def test_short_training_run(tmp_path):
    result = train(
        GazeTrainConfig(
            trial=str(SAMPLE), epochs=2, limit=60, batch_size=16, out_dir=str(tmp_path), threads=1
        )
    )
    assert set(result["held_out"]) == {"nss", "auc", "kl", "cc"}
    assert result["paper"]["nss"] == 4.674
    _model, card = load_gaze_model(tmp_path / "gaze-ms_pacman")
    assert card["architecture"] == "GazeNet"
    assert card["metrics"]["train_frames"] == result["train_frames"]
    assert (tmp_path / "gaze-ms_pacman.safetensors").stat().st_size < 400_000
