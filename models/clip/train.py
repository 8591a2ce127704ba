"""Train the clean CLIP from scratch on Fashion-MNIST with template captions.

``train(config) -> metrics`` is the entry point; ``glimpse train backdoor --stage clean`` wraps
it. The checkpoint card records the zero-shot clean accuracy on the 10,000 test images.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from data.fashion_mnist import load_split
from models.clip.model import clip_card_config, new_fashion_clip, round_to_fp16_
from models.clip.training import ContrastiveSchedule, contrastive_train
from models.clip.zero_shot import class_text_features, predict_uint8
from models.registry import checkpoint_stem, git_commit, save_checkpoint

log = logging.getLogger(__name__)

CHECKPOINT_AREA = "clip"
CLEAN_NAME = "clean"


@dataclass(frozen=True)
class CleanTrainConfig:
    """Settings of ``train``.

    Attributes:
        data_dir: folder with the Fashion-MNIST IDX files.
        schedule: optimiser and data settings.
        limit: use only the first ``limit`` training images (0: all 60,000).
        test_limit: evaluate on only the first ``test_limit`` test images (0: all 10,000).
        out: checkpoint stem; None writes nothing.
        command: the command line recorded in the card.
    """

    data_dir: str
    schedule: ContrastiveSchedule = field(
        default_factory=lambda: ContrastiveSchedule(epochs=4, lr=1e-3, warmup_steps=300)
    )
    limit: int = 0
    test_limit: int = 0
    out: str | None = str(checkpoint_stem(CHECKPOINT_AREA, CLEAN_NAME))
    command: str = ""


def zero_shot_accuracy(bundle, images: np.ndarray, labels: np.ndarray) -> float:
    """Return the top-1 zero-shot accuracy on uint8 images, with the template ensemble."""
    with torch.no_grad():
        text_feats = class_text_features(bundle)
    predictions = predict_uint8(bundle, images, text_feats)
    return float((predictions == labels).mean())


def train(config: CleanTrainConfig) -> dict[str, Any]:
    """Train a clean CLIP, save it when ``config.out`` is set, and return its metrics."""
    train_images, train_labels = load_split(config.data_dir, "train")
    test_images, test_labels = load_split(config.data_dir, "test")
    if config.limit:
        train_images, train_labels = train_images[: config.limit], train_labels[: config.limit]
    if config.test_limit:
        test_images, test_labels = (
            test_images[: config.test_limit],
            test_labels[: config.test_limit],
        )

    bundle, model_config = new_fashion_clip(config.schedule.seed)
    started = time.perf_counter()
    losses = contrastive_train(bundle, train_images, train_labels, config.schedule)
    seconds = time.perf_counter() - started
    round_to_fp16_(bundle.model)
    accuracy = zero_shot_accuracy(bundle, test_images, test_labels)
    metrics = {
        "zero_shot_clean_accuracy": accuracy,
        "test_images": len(test_images),
        "train_images": len(train_images),
        "final_loss": float(np.mean(losses[-50:])),
        "train_seconds": round(seconds, 1),
        "threads": torch.get_num_threads(),
    }
    log.info("clean CLIP: zero-shot accuracy %.4f on %d test images", accuracy, len(test_images))
    if config.out:
        card = {
            "name": Path(config.out).name,
            "area": CHECKPOINT_AREA,
            "architecture": "open_clip.model.CLIP, ViT 4x96 patch 4 on 32x32, text 2x64, embed 64",
            "config": {
                **clip_card_config(bundle, model_config),
                "schedule": asdict(config.schedule),
            },
            "data": "Fashion-MNIST train (60,000 images) with template captions; test 10,000",
            "command": config.command,
            "metrics": metrics,
            "seed": config.schedule.seed,
            "commit": git_commit(),
        }
        save_checkpoint(config.out, bundle.model.state_dict(), card, dtype=torch.float16)
        log.info("saved %s", config.out)
    return metrics
