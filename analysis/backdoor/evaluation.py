"""Encode a test set clean and triggered, and score CA and ASR for any set of class text features.

With the image encoder frozen (no defence, prompt tuning), the image features of a test set
are computed once and every set of text features is scored by a matrix product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from analysis.backdoor.metrics import attack_success_rate, clean_accuracy
from analysis.backdoor.triggers import Trigger
from models.clip.images import pixels_from_uint8
from models.clip.model import ClipBundle
from models.clip.zero_shot import logits_from_features

# Seed of the BadNets patch positions on test images, so that every evaluation sees the same
# triggered test set.
TEST_TRIGGER_SEED = 1234


@dataclass(frozen=True)
class EncodedTestSet:
    """Normalised features ``[N, D]`` of clean and triggered test images, and labels ``[N]``."""

    clean: torch.Tensor
    triggered: torch.Tensor
    labels: np.ndarray


@torch.no_grad()
def encode_test_set(
    bundle: ClipBundle,
    images: np.ndarray,
    labels: np.ndarray,
    trigger: Trigger,
    batch_size: int = 500,
) -> EncodedTestSet:
    """Return the image features of uint8 test images, clean and with ``trigger``."""
    generator = torch.Generator().manual_seed(TEST_TRIGGER_SEED)
    clean, triggered = [], []
    for start in range(0, len(images), batch_size):
        pixels = pixels_from_uint8(images[start : start + batch_size], bundle.image_size)
        clean.append(bundle.encode_pixels(pixels))
        triggered.append(bundle.encode_pixels(trigger.apply(pixels, generator)))
    return EncodedTestSet(torch.cat(clean), torch.cat(triggered), np.asarray(labels))


@torch.no_grad()
def score(
    bundle: ClipBundle, encoded: EncodedTestSet, text_feats: torch.Tensor, target: int
) -> dict[str, float]:
    """Return ``clean_accuracy`` and ``attack_success_rate`` for class text features ``[C, D]``."""
    clean_pred = logits_from_features(bundle, encoded.clean, text_feats).argmax(-1).numpy()
    triggered_pred = logits_from_features(bundle, encoded.triggered, text_feats).argmax(-1).numpy()
    return {
        "clean_accuracy": clean_accuracy(clean_pred, encoded.labels),
        "attack_success_rate": attack_success_rate(triggered_pred, encoded.labels, target),
    }
