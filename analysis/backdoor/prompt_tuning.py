"""Tune class-wise prompts against a backdoor with the encoders frozen (CBPT-style).

The source paper tunes class-wise text prompts with three losses. What we could read of it does
not spell them out, so these three are our reconstruction:

1. ``CE(s * cos(f(x), t), y)`` on clean shots keeps clean accuracy;
2. ``CE(s * cos(f(x~), t), y)`` on the same shots carrying the inverted trigger, with their
   *true* labels, moves the decision boundary so that the feature region the trigger reaches is
   classified by content again;
3. ``mean_c ||t_c - t_c^hand||^2`` pulls each class's text feature toward that of the hand-written
   prompt "a photo of a {class}." (KgCoOp's regulariser), which keeps the prompts from drifting
   on a few shots.

``L = L1 + w_t L2 + w_r L3`` with ``s`` the model's clamped logit scale. Only the context
vectors train. The image encoder is frozen, so the features of ``views`` augmented views of
every shot, clean and triggered, are computed once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from analysis.backdoor.inversion import InvertedTrigger
from models.clip.captions import HAND_PROMPT
from models.clip.model import ClipBundle, frozen, logit_scale_value
from models.clip.prompts import ClassWisePrompts
from models.clip.training import augment_batch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PromptTuningConfig:
    """Settings of ``tune_prompts``.

    Attributes:
        n_context: context vectors per class.
        init_text: text whose token embeddings start every class's context (None: random).
        steps: Adam steps.
        batch_size: image features per step, clean and triggered each.
        lr: Adam step size.
        views: augmented views per shot whose features are precomputed.
        trigger_weight: ``w_t``, weight of the cross-entropy on triggered shots.
        regularizer_weight: ``w_r``, weight of the distance to the hand-written prompt.
        seed: seeds the views and batches.
    """

    n_context: int = 4
    init_text: str | None = "a photo of a"
    steps: int = 300
    batch_size: int = 64
    lr: float = 2e-3
    views: int = 4
    trigger_weight: float = 1.0
    regularizer_weight: float = 8.0
    seed: int = 0


def prompt_losses(
    logit_scale: torch.Tensor,
    clean_feats: torch.Tensor,
    triggered_feats: torch.Tensor | None,
    labels: torch.Tensor,
    text_feats: torch.Tensor,
    hand_feats: torch.Tensor,
) -> dict[str, torch.Tensor]:
    """Return the three losses on normalised features.

    Args:
        logit_scale: multiplier of cosine similarities.
        clean_feats, triggered_feats: ``[B, D]`` image features; ``triggered_feats`` may be None.
        labels: ``[B]`` true classes.
        text_feats: ``[C, D]`` prompt features; ``hand_feats``: ``[C, D]`` hand-written ones.

    Returns:
        ``clean`` and ``triggered`` cross-entropies (``triggered`` is 0 without features) and
        ``regularizer``, the mean squared distance to the hand-written features.
    """
    clean_ce = F.cross_entropy(logit_scale * clean_feats @ text_feats.T, labels)
    if triggered_feats is None:
        triggered_ce = torch.zeros((), dtype=clean_ce.dtype)
    else:
        triggered_ce = F.cross_entropy(logit_scale * triggered_feats @ text_feats.T, labels)
    regularizer = (text_feats - hand_feats).pow(2).sum(dim=-1).mean()
    return {"clean": clean_ce, "triggered": triggered_ce, "regularizer": regularizer}


@torch.no_grad()
def _view_features(
    bundle: ClipBundle,
    shots: np.ndarray,
    views: int,
    generator: torch.Generator,
    inverted: InvertedTrigger | None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    clean, triggered = [], []
    for _ in range(views):
        pixels = augment_batch(shots, bundle.image_size, generator, augment=True)
        clean.append(bundle.encode_pixels(pixels))
        if inverted is not None:
            triggered.append(bundle.encode_pixels(inverted.apply(pixels)))
    return torch.cat(clean), (torch.cat(triggered) if inverted is not None else None)


def tune_prompts(
    bundle: ClipBundle,
    shots: np.ndarray,
    labels: np.ndarray,
    inverted: InvertedTrigger | None,
    config: PromptTuningConfig,
) -> tuple[ClassWisePrompts, dict[str, list[float]]]:
    """Tune class-wise prompts on uint8 shots ``[N, 28, 28]`` with labels ``[N]``.

    Args:
        bundle: the (possibly poisoned) model; its weights do not change.
        shots, labels: the defender's clean images and their classes.
        inverted: the inverted trigger, or None to tune on clean shots only (CoOp with
            class-specific context).
        config: tuning settings.

    Returns:
        The tuned prompts and the per-step history of each loss.
    """
    generator = torch.Generator().manual_seed(config.seed)
    model = bundle.model
    with frozen(model):
        clean_all, triggered_all = _view_features(bundle, shots, config.views, generator, inverted)
        labels_all = torch.as_tensor(labels, dtype=torch.long).repeat(config.views)
        with torch.no_grad():
            hand = bundle.encode_captions([HAND_PROMPT.format(name) for name in bundle.class_names])
            scale = logit_scale_value(model)
        prompts = ClassWisePrompts(
            model,
            bundle.tokenizer,
            bundle.class_names,
            config.n_context,
            config.init_text,
            generator,
        )
        optimizer = torch.optim.Adam(prompts.parameters(), lr=config.lr)
        history: dict[str, list[float]] = {"clean": [], "triggered": [], "regularizer": []}
        batch = min(config.batch_size, len(labels_all))
        for _ in range(config.steps):
            pick = torch.randperm(len(labels_all), generator=generator)[:batch]
            triggered = triggered_all[pick] if triggered_all is not None else None
            losses = prompt_losses(
                scale, clean_all[pick], triggered, labels_all[pick], prompts(), hand
            )
            total = (
                losses["clean"]
                + config.trigger_weight * losses["triggered"]
                + config.regularizer_weight * losses["regularizer"]
            )
            optimizer.zero_grad(set_to_none=True)
            total.backward()
            optimizer.step()
            for key, value in losses.items():
                history[key].append(value.item())
    log.info(
        "prompt tuning: clean CE %.3f, triggered CE %.3f, regulariser %.4f",
        history["clean"][-1],
        history["triggered"][-1],
        history["regularizer"][-1],
    )
    return prompts, history
