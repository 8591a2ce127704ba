"""Contrastive training of a CLIP bundle on labelled images with template captions.

Each image is paired with a caption made from a random template and its class name, and the
model minimises CLIP's symmetric InfoNCE loss (open_clip's ``ClipLoss``) over the batch. The
same loop trains the clean model from scratch and fine-tunes it on poisoned pairs: a
``poison`` callable may replace some images of a batch by triggered ones and their caption
class by the attack's target.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from open_clip.loss import ClipLoss

from models.clip.captions import captions_for
from models.clip.images import PAD, normalize_pixels, pixels_from_uint8
from models.clip.model import ClipBundle, clamp_logit_scale_, logit_scale_value

log = logging.getLogger(__name__)

# poison(pixels [B, 3, H, W], caption_labels [B], dataset_indices [B]) -> (pixels, caption_labels)
PoisonFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class ContrastiveSchedule:
    """Optimiser and data settings of one contrastive run.

    Attributes:
        epochs: passes over the images.
        batch_size: image-caption pairs per step (the last partial batch is dropped).
        lr: peak AdamW learning rate, reached after ``warmup_steps`` and decayed by a cosine.
        weight_decay: AdamW decay on weight matrices; gains, biases, embeddings of position and
            the logit scale are not decayed, as in CLIP.
        warmup_steps: linear warm-up length in steps.
        seed: seeds the order, augmentation, templates and poisoning draws.
        augment: random translation by up to 2 pixels and horizontal flips.
        log_every: steps between progress log lines.
    """

    epochs: int
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.1
    warmup_steps: int = 200
    seed: int = 0
    augment: bool = True
    log_every: int = 100


def augment_batch(
    images: np.ndarray, image_size: int, generator: torch.Generator, augment: bool
) -> torch.Tensor:
    """Return pixels of uint8 images, randomly shifted and flipped when ``augment`` is set."""
    if not augment:
        return pixels_from_uint8(images, image_size)
    offsets = torch.randint(0, 2 * PAD + 1, (len(images), 2), generator=generator)
    pixels = pixels_from_uint8(images, image_size, offsets)
    flip = torch.rand(len(images), generator=generator) < 0.5
    pixels[flip] = pixels[flip].flip(-1)
    return pixels


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if param.ndim < 2 or "embedding" in name or "logit_scale" in name:
            no_decay.append(param)
        else:
            decay.append(param)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def cosine_lr(step: int, total: int, warmup: int, peak: float) -> float:
    """Return the learning rate of ``step``: linear warm-up to ``peak``, then cosine decay to 0."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * peak * (1.0 + math.cos(math.pi * min(1.0, progress)))


def clip_step(
    model: torch.nn.Module, optimizer: torch.optim.Optimizer, loss: torch.Tensor, lr: float
) -> float:
    """Take one optimiser step at learning rate ``lr``, then clamp the logit scale as CLIP does."""
    for group in optimizer.param_groups:
        group["lr"] = lr
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    clamp_logit_scale_(model)
    return loss.item()


def contrastive_train(
    bundle: ClipBundle,
    images: np.ndarray,
    labels: np.ndarray,
    schedule: ContrastiveSchedule,
    poison: PoisonFn | None = None,
) -> list[float]:
    """Train ``bundle.model`` in place with CLIP's loss on template captions.

    Args:
        bundle: the model to train, with its tokenizer, class names and templates.
        images: uint8 ``[N, 28, 28]`` images.
        labels: int ``[N]`` class indices into ``bundle.class_names``.
        schedule: optimiser and data settings.
        poison: optional callable that triggers some pairs of each batch (see ``PoisonFn``).

    Returns:
        The loss of every step.

    Raises:
        ValueError: fewer images than one batch, or labels that do not fit the class list.
    """
    count = len(images)
    if count < schedule.batch_size:
        raise ValueError(f"{count} images is fewer than one batch of {schedule.batch_size}")
    if len(labels) != count or labels.min() < 0 or labels.max() >= len(bundle.class_names):
        raise ValueError(
            f"labels must be {count} class indices in [0, {len(bundle.class_names) - 1}]"
        )
    model = bundle.model
    model.train()
    generator = torch.Generator().manual_seed(schedule.seed)
    n_templates = len(bundle.templates)
    caption_tokens = bundle.tokenizer(captions_for(bundle.class_names, bundle.templates))
    caption_tokens = caption_tokens.view(len(bundle.class_names), n_templates, -1)  # [C, T, L]
    optimizer = torch.optim.AdamW(
        param_groups(model, schedule.weight_decay), lr=schedule.lr, betas=(0.9, 0.98), eps=1e-6
    )
    loss_fn = ClipLoss()
    steps_per_epoch = count // schedule.batch_size
    total = schedule.epochs * steps_per_epoch
    labels_t = torch.as_tensor(labels, dtype=torch.long)
    losses: list[float] = []
    step = 0
    for epoch in range(schedule.epochs):
        order = torch.randperm(count, generator=generator)
        for batch in range(steps_per_epoch):
            # Batch: augmented pixels, then the attack (if any) on the augmented images.
            index = order[batch * schedule.batch_size : (batch + 1) * schedule.batch_size]
            pixels = augment_batch(
                images[index.numpy()], bundle.image_size, generator, schedule.augment
            )
            caption_labels = labels_t[index].clone()
            if poison is not None:
                pixels, caption_labels = poison(pixels, caption_labels, index)
            template_ids = torch.randint(0, n_templates, (len(index),), generator=generator)
            tokens = caption_tokens[caption_labels, template_ids]  # [B, L]

            # Loss: symmetric InfoNCE between the batch's images and captions.
            image_feats = model.encode_image(
                normalize_pixels(pixels, bundle.mean, bundle.std), normalize=True
            )
            text_feats = model.encode_text(tokens, normalize=True)
            loss = loss_fn(image_feats, text_feats, logit_scale_value(model))

            # Update, then keep the temperature in CLIP's range.
            lr = cosine_lr(step, total, schedule.warmup_steps, schedule.lr)
            losses.append(clip_step(model, optimizer, loss, lr))
            step += 1
            if step % schedule.log_every == 0 or step == total:
                recent = np.mean(losses[-schedule.log_every :])
                log.info(
                    "epoch %d step %d/%d loss %.4f logit scale %.1f",
                    epoch + 1,
                    step,
                    total,
                    recent,
                    logit_scale_value(model).item(),
                )
    model.eval()
    return losses
