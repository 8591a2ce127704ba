"""Poisoned-pair selection and the batch hook that triggers them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from analysis.backdoor.attacks import Poisoner, choose_poison_indices
from analysis.backdoor.triggers import make_trigger


def test_poison_indices_avoid_target():
    labels = np.repeat(np.arange(10), 100)
    indices = choose_poison_indices(labels, target=8, rate=0.05, seed=0)
    assert len(indices) == 50
    assert not np.any(labels[indices] == 8)
    assert np.array_equal(indices, np.sort(np.unique(indices)))


def test_poison_rate_checked():
    labels = np.arange(10)
    with pytest.raises(ValueError, match="poison rate"):
        choose_poison_indices(labels, 0, 1.5, 0)
    with pytest.raises(ValueError, match="cannot poison"):
        choose_poison_indices(np.zeros(10, dtype=int), 0, 0.5, 0)


def test_poisoner_triggers_only_chosen_rows():
    trigger = make_trigger("sig", 32)
    poisoner = Poisoner(trigger, np.array([3, 7]), target=8, seed=0)
    pixels = torch.rand(4, 3, 32, 32) * 0.5
    caption_labels = torch.tensor([0, 1, 2, 3])
    index = torch.tensor([7, 1, 12, 3])
    out, out_labels = poisoner(pixels, caption_labels, index)
    assert out_labels.tolist() == [8, 1, 2, 8]
    assert torch.allclose(out[0], trigger.apply(pixels[:1])[0])
    assert torch.equal(out[1], pixels[1])
    assert torch.equal(out[2], pixels[2])
    assert poisoner.seen == 2
    assert caption_labels.tolist() == [0, 1, 2, 3]  # inputs are not changed in place
