"""Baseline defences on the defender's clean shots: full fine-tuning and CleanCLIP-style tuning.

- Fine-tuning: every weight of the poisoned CLIP trains with CLIP's contrastive loss on the
  clean shots and template captions.
- CleanCLIP-style (Bansal et al., "CleanCLIP", ICCV 2023): the multimodal contrastive loss
  plus self-supervised in-modal losses, ``L = L_clip(x_a, c_1) + w (L_clip(x_a, x_b) +
  L_clip(c_1, c_2))``, where ``x_a, x_b`` are two augmented views of an image and ``c_1, c_2``
  two captions of its class from different random templates. CleanCLIP augments captions with
  EDA word edits; a second template is our caption augmentation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch
from open_clip.loss import ClipLoss

from models.clip.captions import captions_for
from models.clip.images import normalize_pixels
from models.clip.model import ClipBundle, logit_scale_value
from models.clip.training import (
    ContrastiveSchedule,
    augment_batch,
    clip_step,
    contrastive_train,
    cosine_lr,
    param_groups,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FineTuneConfig:
    """Settings of both baselines.

    Attributes:
        epochs: passes over the shots.
        batch_size: shots per step.
        lr: peak AdamW learning rate (cosine decay after ``warmup_steps``).
        warmup_steps: linear warm-up steps.
        self_supervised_weight: ``w``, weight of CleanCLIP's in-modal losses.
        seed: seeds the order, augmentation and templates.
    """

    epochs: int = 20
    batch_size: int = 32
    lr: float = 5e-5
    warmup_steps: int = 10
    self_supervised_weight: float = 1.0
    seed: int = 0


def finetune(
    bundle: ClipBundle, shots: np.ndarray, labels: np.ndarray, config: FineTuneConfig
) -> list[float]:
    """Fine-tune every weight of ``bundle.model`` in place on the clean shots; return the losses."""
    schedule = ContrastiveSchedule(
        epochs=config.epochs,
        batch_size=min(config.batch_size, len(shots)),
        lr=config.lr,
        warmup_steps=config.warmup_steps,
        seed=config.seed,
        log_every=10**9,
    )
    return contrastive_train(bundle, shots, labels, schedule)


def cleanclip_finetune(
    bundle: ClipBundle, shots: np.ndarray, labels: np.ndarray, config: FineTuneConfig
) -> list[float]:
    """Fine-tune ``bundle.model`` in place with the CleanCLIP-style loss; return the losses."""
    model = bundle.model
    model.train()
    generator = torch.Generator().manual_seed(config.seed)
    n_templates = len(bundle.templates)
    caption_tokens = bundle.tokenizer(captions_for(bundle.class_names, bundle.templates))
    caption_tokens = caption_tokens.view(len(bundle.class_names), n_templates, -1)  # [C, T, L]
    optimizer = torch.optim.AdamW(
        param_groups(model, 0.1), lr=config.lr, betas=(0.9, 0.98), eps=1e-6
    )
    loss_fn = ClipLoss()
    batch = min(config.batch_size, len(shots))
    steps_per_epoch = len(shots) // batch
    total = config.epochs * steps_per_epoch
    labels_t = torch.as_tensor(labels, dtype=torch.long)
    losses = []
    step = 0
    for _ in range(config.epochs):
        order = torch.randperm(len(shots), generator=generator)
        for index in order[: steps_per_epoch * batch].view(steps_per_epoch, batch):
            # Two image views and two captions of each shot.
            view_a = augment_batch(shots[index.numpy()], bundle.image_size, generator, augment=True)
            view_b = augment_batch(shots[index.numpy()], bundle.image_size, generator, augment=True)
            first = torch.randint(0, n_templates, (batch,), generator=generator)
            second = (
                first + torch.randint(1, n_templates, (batch,), generator=generator)
            ) % n_templates
            caption_1 = caption_tokens[labels_t[index], first]
            caption_2 = caption_tokens[labels_t[index], second]

            # Multimodal loss plus the two in-modal losses.
            image_a = model.encode_image(
                normalize_pixels(view_a, bundle.mean, bundle.std), normalize=True
            )
            image_b = model.encode_image(
                normalize_pixels(view_b, bundle.mean, bundle.std), normalize=True
            )
            text_1 = model.encode_text(caption_1, normalize=True)
            text_2 = model.encode_text(caption_2, normalize=True)
            scale = logit_scale_value(model)
            in_modal = loss_fn(image_a, image_b, scale) + loss_fn(text_1, text_2, scale)
            loss = loss_fn(image_a, text_1, scale) + config.self_supervised_weight * in_modal

            lr = cosine_lr(step, total, config.warmup_steps, config.lr)
            losses.append(clip_step(model, optimizer, loss, lr))
            step += 1
    model.eval()
    return losses
