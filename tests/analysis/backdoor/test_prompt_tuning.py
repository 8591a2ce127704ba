"""The three prompt losses against a direct computation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from analysis.backdoor.prompt_tuning import prompt_losses


def _numpy_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(labels)), labels].mean())


def test_losses_match_numpy():
    generator = torch.Generator().manual_seed(0)
    clean = F.normalize(torch.randn(6, 5, generator=generator, dtype=torch.float64), dim=-1)
    triggered = F.normalize(torch.randn(6, 5, generator=generator, dtype=torch.float64), dim=-1)
    text = F.normalize(torch.randn(3, 5, generator=generator, dtype=torch.float64), dim=-1)
    hand = F.normalize(torch.randn(3, 5, generator=generator, dtype=torch.float64), dim=-1)
    labels = torch.tensor([0, 1, 2, 2, 1, 0])
    losses = prompt_losses(
        torch.tensor(20.0, dtype=torch.float64), clean, triggered, labels, text, hand
    )
    assert losses["clean"].item() == pytest.approx(
        _numpy_cross_entropy(20 * clean.numpy() @ text.numpy().T, labels.numpy())
    )
    assert losses["triggered"].item() == pytest.approx(
        _numpy_cross_entropy(20 * triggered.numpy() @ text.numpy().T, labels.numpy())
    )
    expected_reg = float(((text.numpy() - hand.numpy()) ** 2).sum(axis=1).mean())
    assert losses["regularizer"].item() == pytest.approx(expected_reg)


def test_without_trigger_features():
    clean = F.normalize(torch.randn(4, 3), dim=-1)
    text = F.normalize(torch.randn(2, 3), dim=-1)
    losses = prompt_losses(torch.tensor(10.0), clean, None, torch.tensor([0, 1, 1, 0]), text, text)
    assert losses["triggered"].item() == 0.0
    assert losses["regularizer"].item() == 0.0


def test_triggered_loss_pulls_text_toward_true_class():
    # One triggered feature labelled class 1 sits nearer class 0's text; descending the
    # triggered loss must raise its similarity to class 1 relative to class 0.
    text = torch.tensor([[1.0, 0.0], [0.0, 1.0]], requires_grad=True)
    triggered = F.normalize(torch.tensor([[0.9, 0.1]]), dim=-1)
    loss = prompt_losses(
        torch.tensor(10.0), triggered, triggered, torch.tensor([1]), text, text.detach()
    )["triggered"]
    loss.backward()
    step = text.detach() - 0.1 * text.grad
    margin_before = (triggered @ text.detach().T)[0, 1] - (triggered @ text.detach().T)[0, 0]
    margin_after = (triggered @ step.T)[0, 1] - (triggered @ step.T)[0, 0]
    assert margin_after > margin_before
