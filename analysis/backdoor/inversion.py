"""Invert a backdoor trigger on a frozen image encoder by contrastive learning (CBPT-style).

The source paper (Kong et al., "Neural Antidote", arXiv:2502.19269) inverts a "dummy trigger"
with contrastive learning on built positive and negative samples. Its losses were not available,
so this construction is our reconstruction.

Trigger model (Neural Cleanse style): ``x~ = (1 - m) * x + m * delta`` with a mask
``m in [0, 1]^{1 x H x W}`` shared by the channels and a pattern ``delta in [0, 1]^{3 x H x W}``,
parameterised as ``(tanh(w) + 1) / 2``.

Loss for a batch of ``B`` clean shots, each seen in two augmented views ``a`` and ``b``:

- anchors: the ``2B`` triggered features ``z_i = f(x~_i)`` (normalised);
- positives of ``z_i``: every other triggered feature, the other view of the same image and
  the triggered versions of other images alike, because a backdoor maps every triggered input
  to one region;
- negatives of ``z_i``: the clean features ``f(x_k)`` of all ``B`` images, its own clean
  version included;
- ``L_inv = mean_i -1/|P(i)| sum_{p in P(i)} log(exp(z_i.z_p / T) / sum_{j != i} exp(z_i.z_j / T))``
  with ``j`` over positives and negatives (the supervised-contrastive form), plus
  ``lambda_m * mean(m)``, the L1 norm of the mask per pixel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch

from analysis.backdoor.triggers import check_pixels
from models.clip.model import ClipBundle, frozen
from models.clip.training import augment_batch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InversionConfig:
    """Settings of ``invert_trigger``.

    Attributes:
        steps: Adam steps.
        batch_size: clean shots per step; each gives two triggered views.
        lr: Adam step size on the tanh parameters.
        temperature: InfoNCE temperature ``T``.
        mask_weight: ``lambda_m``, the weight of the mean mask value.
        seed: seeds the initial pattern and the batches.
    """

    steps: int = 300
    batch_size: int = 32
    lr: float = 0.1
    temperature: float = 0.1
    mask_weight: float = 1.0
    seed: int = 0


@dataclass
class InvertedTrigger:
    """An inverted trigger: ``mask`` ``[1, H, W]`` and ``pattern`` ``[3, H, W]``, both in [0, 1]."""

    mask: torch.Tensor
    pattern: torch.Tensor

    def apply(self, pixels: torch.Tensor) -> torch.Tensor:
        """Return ``(1 - mask) * pixels + mask * pattern`` for pixels ``[N, 3, H, W]`` in [0, 1]."""
        check_pixels(pixels, self.mask.shape[-1])
        return blend(pixels, self.mask.to(pixels), self.pattern.to(pixels))

    def state_dict(self, prefix: str = "") -> dict[str, torch.Tensor]:
        """Return the mask and pattern under ``prefix`` for a safetensors file."""
        return {
            f"{prefix}mask": self.mask.detach().contiguous(),
            f"{prefix}pattern": self.pattern.detach().contiguous(),
        }

    @classmethod
    def from_state(cls, tensors: dict[str, torch.Tensor], prefix: str = "") -> InvertedTrigger:
        """Rebuild from ``state_dict`` output."""
        return cls(tensors[f"{prefix}mask"].float(), tensors[f"{prefix}pattern"].float())


def blend(pixels: torch.Tensor, mask: torch.Tensor, pattern: torch.Tensor) -> torch.Tensor:
    """Return ``(1 - mask) * pixels + mask * pattern`` (broadcast over the batch)."""
    return (1.0 - mask) * pixels + mask * pattern


def trigger_contrastive_loss(
    triggered_a: torch.Tensor, triggered_b: torch.Tensor, clean: torch.Tensor, temperature: float
) -> torch.Tensor:
    """Return the contrastive inversion loss of normalised features.

    Args:
        triggered_a, triggered_b: ``[B, D]`` features of two triggered views of ``B`` images.
        clean: ``[K, D]`` features of clean images (the negatives).
        temperature: InfoNCE temperature.

    Returns:
        A scalar: the mean over the ``2B`` anchors of the negative mean log-probability of
        their ``2B - 1`` positives against positives and negatives.
    """
    anchors = torch.cat([triggered_a, triggered_b])  # [2B, D]
    count = anchors.shape[0]
    to_triggered = anchors @ anchors.T / temperature  # [2B, 2B]
    to_clean = anchors @ clean.T / temperature  # [2B, K]
    self_mask = torch.eye(count, dtype=torch.bool, device=anchors.device)
    to_triggered = to_triggered.masked_fill(self_mask, float("-inf"))
    log_denominator = torch.logsumexp(
        torch.cat([to_triggered, to_clean], dim=1), dim=1, keepdim=True
    )
    log_prob = (to_triggered - log_denominator).masked_fill(self_mask, 0.0)
    return -(log_prob.sum(dim=1) / (count - 1)).mean()


def invert_trigger(
    bundle: ClipBundle, shots: np.ndarray, config: InversionConfig
) -> tuple[InvertedTrigger, dict[str, list[float]]]:
    """Invert a trigger on ``bundle``'s frozen image encoder from uint8 clean shots ``[N, 28, 28]``.

    Returns:
        The inverted trigger and its per-step history: ``loss`` (contrastive part) and
        ``mask_mean``.
    """
    generator = torch.Generator().manual_seed(config.seed)
    size = bundle.image_size
    mask_param = torch.zeros(1, size, size, requires_grad=True)
    pattern_param = (torch.randn(3, size, size, generator=generator) * 0.5).requires_grad_(True)
    optimizer = torch.optim.Adam([mask_param, pattern_param], lr=config.lr, betas=(0.5, 0.9))
    history: dict[str, list[float]] = {"loss": [], "mask_mean": []}
    batch = min(config.batch_size, len(shots))
    with frozen(bundle.model):
        for _ in range(config.steps):
            # Two augmented views of a batch of shots; the clean view a gives the negatives.
            pick = torch.randperm(len(shots), generator=generator)[:batch].numpy()
            view_a = augment_batch(shots[pick], size, generator, augment=True)
            view_b = augment_batch(shots[pick], size, generator, augment=True)
            with torch.no_grad():
                clean = bundle.encode_pixels(view_a)

            # Triggered views through the current mask and pattern.
            mask = (torch.tanh(mask_param) + 1) / 2
            pattern = (torch.tanh(pattern_param) + 1) / 2
            feats_a = bundle.encode_pixels(blend(view_a, mask, pattern))
            feats_b = bundle.encode_pixels(blend(view_b, mask, pattern))
            contrastive = trigger_contrastive_loss(feats_a, feats_b, clean, config.temperature)
            loss = contrastive + config.mask_weight * mask.mean()

            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            history["loss"].append(contrastive.item())
            history["mask_mean"].append(mask.mean().item())
    with torch.no_grad():
        inverted = InvertedTrigger(
            (torch.tanh(mask_param) + 1) / 2, (torch.tanh(pattern_param) + 1) / 2
        )
    log.info(
        "trigger inversion: loss %.3f -> %.3f, mask mean %.3f",
        history["loss"][0],
        history["loss"][-1],
        history["mask_mean"][-1],
    )
    return inverted, history
