"""Captum attributions: completeness of Integrated Gradients and agreement with autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from analysis.saliency.attribution import CAPTUM_METHODS, attribute, blurred_baseline
from analysis.saliency.compute import compute_saliency
from models.atari.agents import Agent
from models.atari.policy import ActorCriticConfig, NatureActorCritic


@pytest.fixture(scope="module")
def network():
    torch.manual_seed(3)
    return NatureActorCritic(ActorCriticConfig(features_dim=32)).double().eval()


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(4)
    return torch.from_numpy(ndimage.gaussian_filter(rng.random((4, 84, 84)), sigma=(0, 1.5, 1.5)))


class SmoothActorCritic(torch.nn.Module):
    """A small tanh network: its outputs are smooth, so Gauss-Legendre quadrature converges fast."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(8)
        self.conv = torch.nn.Conv2d(2, 4, 3, stride=2)
        self.actor = torch.nn.Linear(4 * 7 * 7, 5)
        self.critic = torch.nn.Linear(4 * 7 * 7, 1)

    def forward(self, x):
        h = torch.tanh(self.conv(x)).flatten(1)
        return self.actor(h), self.critic(h).squeeze(-1)


@pytest.mark.parametrize("method", ["ig-black", "ig-blur"])
@pytest.mark.parametrize("target", ["actor", "critic"])
def test_integrated_gradients_completeness(method, target):
    network = SmoothActorCritic().double()
    x = torch.from_numpy(np.random.default_rng(9).random((2, 16, 16)) * 3)
    result = attribute(network, x, method, target=target)
    difference = result.output - result.baseline_output
    assert abs(difference) > 1e-3
    assert result.values.sum() == pytest.approx(difference, rel=1e-6)
    assert abs(result.delta) < 1e-6 * abs(difference)


def test_integrated_gradients_gradient_route():
    # Second route: the Riemann midpoint sum of the gradients along the straight path, by hand.
    network = SmoothActorCritic().double()
    x = torch.from_numpy(np.random.default_rng(10).random((2, 16, 16)))
    result = attribute(network, x, "ig-black", action=1, ig_steps=32)
    steps = 2000
    alphas = (torch.arange(steps, dtype=torch.float64) + 0.5) / steps
    path = (alphas[:, None, None, None] * x[None]).requires_grad_(True)
    logits, _ = network(path)
    (gradients,) = torch.autograd.grad(logits[:, 1].sum(), path)
    expected = (x * gradients.mean(dim=0)).numpy()
    np.testing.assert_allclose(result.values, expected, rtol=1e-4, atol=1e-8)


def test_integrated_gradients_baselines(network, frame):
    black = attribute(network, frame, "ig-black")
    blur = attribute(network, frame, "ig-blur")
    with torch.no_grad():
        zero_logits = network(torch.zeros_like(frame)[None])[0][0]
        blur_logits = network(blurred_baseline(frame)[None])[0][0]
    assert black.baseline_output == pytest.approx(float(zero_logits[black.action]))
    assert blur.baseline_output == pytest.approx(float(blur_logits[blur.action]))


def test_saliency_equals_autograd(network, frame):
    result = attribute(network, frame, "saliency", action=2)
    x = frame[None].clone().requires_grad_(True)
    logits, _ = network(x)
    (gradient,) = torch.autograd.grad(logits[0, 2], x)
    np.testing.assert_allclose(result.values, gradient[0].abs().numpy(), rtol=1e-10)
    assert result.action == 2


def test_critic_saliency_equals_autograd(network, frame):
    result = attribute(network, frame, "saliency", target="critic")
    x = frame[None].clone().requires_grad_(True)
    _, value = network(x)
    (gradient,) = torch.autograd.grad(value[0], x)
    np.testing.assert_allclose(result.values, gradient[0].abs().numpy(), rtol=1e-10)
    assert result.action is None


def test_occlusion_one_patch_by_hand(network, frame):
    result = attribute(network, frame, "occlusion", action=0)
    occluded = frame.clone()
    occluded[:, 0:8, 0:8] = 0
    with torch.no_grad():
        drop = float(network(frame[None])[0][0, 0] - network(occluded[None])[0][0, 0])
    # Pixel (0, 0) lies in exactly one window (the first), so its attribution is that drop.
    assert result.values[0, 0, 0] == pytest.approx(drop, rel=1e-9)


def test_gradient_shap_seeded(network, frame):
    first = attribute(network, frame, "gradient-shap", seed=5)
    again = attribute(network, frame, "gradient-shap", seed=5)
    np.testing.assert_array_equal(first.values, again.values)


@pytest.mark.parametrize("method", ["perturbation", *CAPTUM_METHODS])
def test_every_method_gives_every_size(network, frame, method):
    agent = Agent("test", "shipped", "ms_pacman", network, 9, frames=4, input_size=84)
    maps = compute_saliency(agent, frame, method)
    assert maps.input_map.shape == (84, 84)
    assert maps.screen.shape == (210, 160)
    assert maps.compare.shape == (84, 84)
    assert maps.probability.sum() == pytest.approx(1.0)
    assert (maps.probability >= 0).all()


def test_unknown_method_raises(network, frame):
    with pytest.raises(ValueError, match="unknown attribution method"):
        attribute(network, frame, "lime")
    with pytest.raises(ValueError, match="outside"):
        attribute(network, frame, "saliency", action=12)
