"""Zero-shot classification with a CLIP bundle: class text features, image features, logits.

Zero-shot weights average the normalised text features of every caption template per class
and normalise again (open_clip's ``build_zero_shot_classifier``). Logits are
``logit_scale_value(model) * image_features @ text_features.T`` on normalised features.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from open_clip.zero_shot_classifier import build_zero_shot_classifier

from models.clip.images import pixels_from_uint8
from models.clip.model import ClipBundle, logit_scale_value


def class_text_features(
    bundle: ClipBundle,
    class_names: Sequence[str] | None = None,
    templates: Sequence[str] | None = None,
) -> torch.Tensor:
    """Return zero-shot text features ``[C, D]``, L2-normalised, one row per class."""
    names = list(class_names or bundle.class_names)
    weights = build_zero_shot_classifier(
        bundle.model,
        bundle.tokenizer,
        names,
        list(templates or bundle.templates),
        num_classes_per_batch=None,
    )  # [D, C]
    return weights.T.contiguous()


@torch.no_grad()
def image_features(bundle: ClipBundle, pixels: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """Return normalised image features ``[N, D]`` of pixels, without gradients."""
    return bundle.encode_pixels(pixels, batch_size=batch_size)


def logits_from_features(
    bundle: ClipBundle, image_feats: torch.Tensor, text_feats: torch.Tensor
) -> torch.Tensor:
    """Return ``[N, C]`` logits: the clamped logit scale times cosine similarities."""
    return logit_scale_value(bundle.model) * image_feats @ text_feats.T


@torch.no_grad()
def predict_uint8(
    bundle: ClipBundle,
    images: np.ndarray,
    text_feats: torch.Tensor,
    batch_size: int = 512,
) -> np.ndarray:
    """Return zero-shot predictions ``[N]`` for uint8 Fashion-MNIST images ``[N, 28, 28]``."""
    predictions = []
    for start in range(0, len(images), batch_size):
        pixels = pixels_from_uint8(images[start : start + batch_size], bundle.image_size)
        feats = bundle.encode_pixels(pixels)
        predictions.append(logits_from_features(bundle, feats, text_feats).argmax(dim=-1))
    return torch.cat(predictions).numpy() if predictions else np.zeros(0, dtype=np.int64)
