"""Contrastive inversion loss against a hand-written loop, its gradient, and the trigger blend."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from analysis.backdoor.inversion import InvertedTrigger, blend, trigger_contrastive_loss


def _loop_loss(
    a: torch.Tensor, b: torch.Tensor, clean: torch.Tensor, temperature: float
) -> torch.Tensor:
    """The loss written anchor by anchor: mean over positives of -log softmax over all others."""
    anchors = torch.cat([a, b])
    total = torch.zeros((), dtype=a.dtype)
    for i in range(len(anchors)):
        others = [anchors[j] for j in range(len(anchors)) if j != i]
        positives = torch.stack(others) @ anchors[i] / temperature
        negatives = clean @ anchors[i] / temperature
        denominator = torch.log(torch.exp(positives).sum() + torch.exp(negatives).sum())
        total = total + (-(positives - denominator)).mean()
    return total / len(anchors)


def test_loss_matches_loop():
    generator = torch.Generator().manual_seed(0)
    a = F.normalize(torch.randn(4, 8, generator=generator, dtype=torch.float64), dim=-1)
    b = F.normalize(torch.randn(4, 8, generator=generator, dtype=torch.float64), dim=-1)
    clean = F.normalize(torch.randn(5, 8, generator=generator, dtype=torch.float64), dim=-1)
    expected = _loop_loss(a, b, clean, 0.2)
    assert trigger_contrastive_loss(a, b, clean, 0.2).item() == pytest.approx(
        expected.item(), rel=1e-10
    )


def test_gradient_matches_loop():
    generator = torch.Generator().manual_seed(1)
    a = F.normalize(
        torch.randn(3, 6, generator=generator, dtype=torch.float64), dim=-1
    ).requires_grad_(True)
    b = F.normalize(
        torch.randn(3, 6, generator=generator, dtype=torch.float64), dim=-1
    ).requires_grad_(True)
    clean = F.normalize(torch.randn(3, 6, generator=generator, dtype=torch.float64), dim=-1)
    (grad_a, grad_b) = torch.autograd.grad(trigger_contrastive_loss(a, b, clean, 0.1), (a, b))
    (loop_a, loop_b) = torch.autograd.grad(_loop_loss(a, b, clean, 0.1), (a, b))
    assert torch.allclose(grad_a, loop_a, atol=1e-10)
    assert torch.allclose(grad_b, loop_b, atol=1e-10)


def test_collapsed_trigger_gives_closed_form():
    # All triggered features equal and orthogonal to the clean ones: every anchor has 2B - 1
    # positives at similarity 1 and K negatives at 0, so the loss is log(2B - 1 + K e^{-1/T}).
    z = torch.zeros(3, 4, dtype=torch.float64)
    z[:, 0] = 1.0
    clean = torch.zeros(5, 4, dtype=torch.float64)
    clean[:, 1] = 1.0
    expected = math.log(5 + 5 * math.exp(-1 / 0.5))
    assert trigger_contrastive_loss(z, z, clean, 0.5).item() == pytest.approx(expected, rel=1e-12)


def test_collapse_scores_lower_than_spread():
    generator = torch.Generator().manual_seed(2)
    clean = F.normalize(torch.randn(8, 16, generator=generator), dim=-1)
    spread = F.normalize(torch.randn(8, 16, generator=generator), dim=-1)
    point = F.normalize(torch.randn(1, 16, generator=generator), dim=-1).expand(8, 16)
    assert trigger_contrastive_loss(point, point, clean, 0.1) < trigger_contrastive_loss(
        spread, spread, clean, 0.1
    )


def test_blend_formula_and_range():
    pixels = torch.rand(2, 3, 4, 4)
    mask = torch.zeros(1, 4, 4)
    mask[0, 1, 2] = 1.0
    mask[0, 0, 0] = 0.25
    pattern = torch.ones(3, 4, 4)
    out = InvertedTrigger(mask, pattern).apply(pixels)
    assert torch.equal(out[:, :, 1, 2], torch.ones(2, 3))
    assert torch.allclose(out[:, :, 0, 0], 0.75 * pixels[:, :, 0, 0] + 0.25)
    assert torch.equal(out[:, :, 3, 3], pixels[:, :, 3, 3])
    assert torch.equal(blend(pixels, mask, pattern), out)


def test_inverted_trigger_roundtrip():
    inverted = InvertedTrigger(torch.rand(1, 4, 4), torch.rand(3, 4, 4))
    again = InvertedTrigger.from_state(inverted.state_dict(prefix="seed0."), prefix="seed0.")
    assert torch.equal(again.mask, inverted.mask)
    assert torch.equal(again.pattern, inverted.pattern)
