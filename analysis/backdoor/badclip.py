"""Optimise the BadCLIP-style patch on the clean model before poisoning.

BadCLIP (Liang et al., CVPR 2024) guides its patch by two embeddings so that the trigger is
already close to the target before poisoning, which makes the backdoor easy to plant and hard
to fine-tune away. We reconstruct that guidance as

    L(delta) = - mean_i cos(f(x_i + delta), t_target) - w_v * mean_i cos(f(x_i + delta), v_target)

over non-target training images ``x_i`` with the patch ``delta`` pasted in the middle, where
``t_target`` is the target's zero-shot text feature and ``v_target`` the normalised mean image
feature of clean target-class images. The pattern is ``sigmoid(theta)`` so it stays in [0, 1].
The original also uses negative samples and a specific schedule, which are not reproduced.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from analysis.backdoor.triggers import Trigger
from models.clip.images import pixels_from_uint8
from models.clip.model import ClipBundle, frozen
from models.clip.training import augment_batch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PatchOptimisation:
    """Settings of ``optimise_patch``: steps, batch size, Adam step, visual weight, seed."""

    steps: int = 200
    batch_size: int = 64
    lr: float = 0.1
    visual_weight: float = 1.0
    seed: int = 0


def optimise_patch(
    bundle: ClipBundle,
    trigger: Trigger,
    images: np.ndarray,
    labels: np.ndarray,
    target: int,
    target_text_feature: torch.Tensor,
    config: PatchOptimisation,
) -> list[float]:
    """Replace ``trigger``'s pattern by one optimised toward the target's embeddings.

    Args:
        bundle: the clean model; it is not changed.
        trigger: a ``badclip`` trigger whose ``pattern`` is overwritten.
        images, labels: uint8 training images and labels.
        target: target class index.
        target_text_feature: normalised text feature ``[D]`` of the target class.
        config: optimisation settings.

    Returns:
        The loss of every step.
    """
    generator = torch.Generator().manual_seed(config.seed)
    with frozen(bundle.model):
        target_images = images[labels == target][:512]
        with torch.no_grad():
            v_target = F.normalize(
                bundle.encode_pixels(pixels_from_uint8(target_images)).mean(0), dim=-1
            )
        others = np.flatnonzero(labels != target)
        theta = (
            torch.logit(trigger.tensors["pattern"].clamp(0.05, 0.95)).clone().requires_grad_(True)
        )
        optimizer = torch.optim.Adam([theta], lr=config.lr)
        losses = []
        for _ in range(config.steps):
            pick = others[
                torch.randint(0, len(others), (config.batch_size,), generator=generator).numpy()
            ]
            pixels = augment_batch(images[pick], bundle.image_size, generator, augment=True)
            candidate = Trigger(
                trigger.kind,
                trigger.image_size,
                {"pattern": torch.sigmoid(theta)},
                trigger.settings,
            )
            feats = bundle.encode_pixels(candidate.apply(pixels))
            loss = (
                -(feats @ target_text_feature).mean()
                - config.visual_weight * (feats @ v_target).mean()
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    trigger.tensors["pattern"] = torch.sigmoid(theta).detach()
    log.info(
        "BadCLIP-style patch: loss %.4f -> %.4f over %d steps", losses[0], losses[-1], len(losses)
    )
    return losses
