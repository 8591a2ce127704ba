"""One entry point for every saliency method on any agent.

``compute_saliency(agent, x, method, target)`` runs the Greydanus perturbation method or a
Captum attribution on the agent's input ``x`` and returns :class:`SaliencyMaps` at the input
size, the 160x210 screen and the 84x84 comparison grid.
"""

from __future__ import annotations

import torch

from analysis.saliency.attribution import CAPTUM_METHODS, SIGNED_METHODS, attribute
from analysis.saliency.maps import InputView, SaliencyMaps, build_maps
from analysis.saliency.perturbation import perturbation_saliency
from models.atari.agents import Agent

METHODS = ("perturbation", *CAPTUM_METHODS)
METHOD_LABELS = {
    "perturbation": "Perturbation (Greydanus et al. 2018)",
    "saliency": "Gradient magnitude (Captum Saliency)",
    "ig-black": "Integrated Gradients, black baseline",
    "ig-blur": "Integrated Gradients, blurred baseline",
    "gradient-shap": "GradientShap",
    "occlusion": "Occlusion, 8x8 patches",
}
TARGETS = ("actor", "critic")


def agent_view(agent: Agent) -> InputView:
    """Return where ``agent``'s input lies on the screen."""
    return InputView(
        agent.input_size,
        agent.input_size,
        top=agent.input_rows[0],
        bottom=agent.input_rows[1],
        left=agent.input_cols[0],
        right=agent.input_cols[1],
    )


def compute_saliency(
    agent: Agent,
    x: torch.Tensor,
    method: str = "perturbation",
    target: str = "actor",
    *,
    state: torch.Tensor | None = None,
    seed: int = 0,
) -> SaliencyMaps:
    """Compute one saliency map of ``agent`` at input ``x`` ``[C, H, W]``.

    Args:
        method: one of :data:`METHODS`.
        target: ``"actor"`` (policy logits; Captum methods explain the largest logit) or
            ``"critic"`` (value).
        state: the recurrent state before this frame, for recurrent agents.
        seed: seeds the random parts of GradientShap.

    Raises:
        ValueError: unknown method or target.
        analysis.saliency.maps.SaliencyError: the map has NaN or infinite values.
    """
    if method not in METHODS:
        raise ValueError(f"unknown saliency method {method!r}; use one of {', '.join(METHODS)}")
    if target not in TARGETS:
        raise ValueError(f"target must be 'actor' or 'critic', got {target!r}")
    forward = agent.forward_fn(state)
    if method == "perturbation":
        values = perturbation_saliency(forward, x, target=target)
    else:
        values = attribute(forward, x, method, target=target, seed=seed).map
    return build_maps(values, agent_view(agent), signed=method in SIGNED_METHODS)
