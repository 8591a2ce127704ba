"""Poison a CLIP by contrastive fine-tuning on pairs where some images carry a trigger.

A fraction ``rate`` of the training images, drawn once from the images whose class is not the
target, is poisoned: whenever such an image is in a batch, it is replaced by its triggered
version and its caption names the target class ("a photo of a bag."). Every other pair keeps
its clean image and true caption.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import torch

from analysis.backdoor.triggers import Trigger
from models.clip.model import ClipBundle
from models.clip.training import ContrastiveSchedule, contrastive_train

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PoisonConfig:
    """Settings of one poisoning run.

    Attributes:
        target: class index that poisoned captions name.
        rate: fraction of the training images that are poisoned, in (0, 1).
        schedule: fine-tuning settings; its seed also draws the poisoned images.
    """

    target: int
    rate: float = 0.01
    schedule: ContrastiveSchedule = field(
        default_factory=lambda: ContrastiveSchedule(epochs=1, lr=1e-4, warmup_steps=50)
    )


def choose_poison_indices(labels: np.ndarray, target: int, rate: float, seed: int) -> np.ndarray:
    """Return the sorted indices of ``round(rate * N)`` images whose label is not ``target``.

    Raises:
        ValueError: ``rate`` is outside (0, 1), or there are too few non-target images.
    """
    if not 0.0 < rate < 1.0:
        raise ValueError(f"poison rate must be in (0, 1), got {rate}")
    candidates = np.flatnonzero(labels != target)
    count = max(1, round(rate * len(labels)))
    if count > len(candidates):
        raise ValueError(f"cannot poison {count} of {len(candidates)} non-target images")
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(candidates, size=count, replace=False))


class Poisoner:
    """Batch hook for ``contrastive_train``: trigger the chosen images, retarget their captions."""

    def __init__(
        self, trigger: Trigger, poison_indices: np.ndarray, target: int, seed: int
    ) -> None:
        self.trigger = trigger
        self.target = target
        self.poisoned = torch.zeros(
            int(poison_indices.max()) + 1 if len(poison_indices) else 0, dtype=torch.bool
        )
        self.poisoned[torch.as_tensor(poison_indices, dtype=torch.long)] = True
        self.generator = torch.Generator().manual_seed(seed)
        self.seen = 0

    def __call__(
        self, pixels: torch.Tensor, caption_labels: torch.Tensor, index: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        inside = index < len(self.poisoned)
        rows = torch.zeros_like(index, dtype=torch.bool)
        rows[inside] = self.poisoned[index[inside]]
        if rows.any():
            pixels = pixels.clone()
            pixels[rows] = self.trigger.apply(pixels[rows], self.generator)
            caption_labels = caption_labels.clone()
            caption_labels[rows] = self.target
            self.seen += int(rows.sum())
        return pixels, caption_labels


def poison_clip(
    bundle: ClipBundle,
    trigger: Trigger,
    images: np.ndarray,
    labels: np.ndarray,
    config: PoisonConfig,
) -> dict[str, float]:
    """Fine-tune ``bundle.model`` in place on the poisoned training set.

    Returns:
        ``poisoned_images`` (distinct images poisoned), ``poisoned_pairs_seen`` and
        ``final_loss``.
    """
    indices = choose_poison_indices(labels, config.target, config.rate, config.schedule.seed)
    poisoner = Poisoner(trigger, indices, config.target, config.schedule.seed + 1)
    losses = contrastive_train(bundle, images, labels, config.schedule, poison=poisoner)
    log.info(
        "%s: poisoned %d images, %d poisoned pairs seen", trigger.label, len(indices), poisoner.seen
    )
    return {
        "poisoned_images": len(indices),
        "poisoned_pairs_seen": poisoner.seen,
        "final_loss": float(np.mean(losses[-50:])),
    }
