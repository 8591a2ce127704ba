"""Greydanus perturbation saliency: batched against the one-mask loop, and its parts."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from analysis.saliency.perturbation import (
    grid_centers,
    interpolate_grid,
    perturbation_saliency,
    perturbation_saliency_reference,
    soft_mask,
)
from models.atari.baby_a3c import BabyA3CPolicy
from models.atari.policy import ActorCriticConfig, NatureActorCritic


@pytest.fixture(scope="module")
def network():
    torch.manual_seed(0)
    model = NatureActorCritic(ActorCriticConfig(n_actions=9, features_dim=32)).double().eval()
    return model


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    x = ndimage.gaussian_filter(rng.random((4, 84, 84)), sigma=(0, 2, 2))
    return torch.from_numpy(x)


@pytest.mark.parametrize("target", ["actor", "critic"])
def test_batched_equals_one_mask_loop(network, frame, target):
    # Stride 10 keeps the one-mask loop short; the batching is the same at every stride.
    batched = perturbation_saliency(network, frame, target=target, stride=10, batch_size=37)
    reference = perturbation_saliency_reference(network, frame, target=target, stride=10)
    assert batched.shape == (84, 84)
    assert batched.max() > 0
    np.testing.assert_allclose(batched, reference, rtol=1e-5, atol=1e-5 * reference.max())


def test_batched_equals_loop_for_shipped_agent(frame):
    # In float64 batching changes nothing beyond 1e-5 of the peak. The page runs the agents
    # in float32, where convolutions sum in a batch-size-dependent order: the maps then
    # agree to 1e-4 of the peak.
    import copy

    from models.atari.agents import load_shipped, shipped_agents

    cards = [c for c in shipped_agents() if c.get("frames", 0) > 0]
    if not cards:
        pytest.skip("no trained agent checkpoint is installed")
    agent = load_shipped(cards[-1]["name"])
    network64 = copy.deepcopy(agent.network).double()
    batched = perturbation_saliency(network64, frame.double())
    reference = perturbation_saliency_reference(network64, frame.double())
    assert reference.max() > 0
    np.testing.assert_allclose(batched, reference, rtol=1e-5, atol=1e-5 * reference.max())

    x = frame.float()
    batched = perturbation_saliency(agent.forward_fn(), x)
    reference = perturbation_saliency_reference(agent.forward_fn(), x)
    np.testing.assert_allclose(batched, reference, rtol=1e-4, atol=1e-4 * reference.max())


def test_recurrent_agent_with_fixed_state():
    torch.manual_seed(2)
    model = BabyA3CPolicy(n_actions=4).double().eval()
    hx = torch.randn(1, 256, dtype=torch.float64)

    def forward(x):
        logits, value, _ = model(x, hx.expand(x.shape[0], -1))
        return logits, value

    x = torch.rand(1, 80, 80, dtype=torch.float64)
    batched = perturbation_saliency(forward, x, stride=10)
    reference = perturbation_saliency_reference(forward, x, stride=10)
    np.testing.assert_allclose(batched, reference, rtol=1e-5, atol=1e-5 * reference.max())


def test_score_is_half_squared_logit_change(network, frame):
    # The score at a grid centre is 1/2 ||f(I) - f(I')||^2 of the policy logits.
    mask = soft_mask((40, 40), (84, 84), 5.0)
    image = frame.numpy()
    blurred = np.stack([ndimage.gaussian_filter(c, sigma=3) for c in image])
    perturbed = torch.from_numpy(image * (1 - mask) + blurred * mask)
    with torch.no_grad():
        expected = 0.5 * float(((network(frame[None])[0] - network(perturbed[None])[0]) ** 2).sum())
    saliency = perturbation_saliency(network, frame)
    assert saliency[40, 40] == pytest.approx(expected, rel=1e-9)


def test_soft_mask_shape_and_peak():
    mask = soft_mask((10, 20), (84, 84), 5.0)
    assert mask.max() == pytest.approx(1.0)
    assert np.unravel_index(mask.argmax(), mask.shape) == (10, 20)
    assert mask[10, 40] < 0.01  # 20 pixels = 4 sigma away


def test_interpolation_is_exact_at_centres():
    rows, cols = grid_centers((84, 84), 5)
    grid = np.random.default_rng(0).random((len(rows), len(cols)))
    full = interpolate_grid(grid, (84, 84), 5)
    np.testing.assert_allclose(full[np.ix_(rows, cols)], grid)
    assert full[2, 0] == pytest.approx(0.6 * grid[0, 0] + 0.4 * grid[1, 0])
    assert full[83, 83] == pytest.approx(grid[-1, -1])  # held past the last centre


def test_bad_arguments_raise(network, frame):
    with pytest.raises(ValueError, match="target"):
        perturbation_saliency(network, frame, target="value")
    with pytest.raises(ValueError, match=r"\[C, H, W\]"):
        perturbation_saliency(network, frame[None])
    with pytest.raises(ValueError, match="stride"):
        perturbation_saliency(network, frame, stride=0)
