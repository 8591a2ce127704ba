"""Load the shipped Fashion-MNIST classifiers by neuron type."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from models.registry import (
    CheckpointError,
    checkpoint_stem,
    list_checkpoints,
    load_checkpoint,
    load_into,
)
from models.vision.classifier import ClassifierConfig, SpikingConvNet
from models.vision.train import CHECKPOINT_AREA, checkpoint_name


def load_classifier(neuron: str, root: Path | None = None) -> tuple[SpikingConvNet, dict[str, Any]]:
    """Load the shipped classifier with ``neuron`` in eval mode, with its card.

    Raises:
        CheckpointError: the checkpoint is missing or does not match the architecture; the
            message says how to train it.
    """
    stem = checkpoint_stem(CHECKPOINT_AREA, checkpoint_name(neuron), root)
    if not stem.with_suffix(".safetensors").exists() and not stem.with_suffix(".json").exists():
        raise CheckpointError(
            f"no checkpoint {stem.name} is installed; train it with "
            f"`glimpse train vision --neuron {neuron} --data-dir FASHION_MNIST_DIR`"
        )
    state, card = load_checkpoint(stem, dtype=torch.float32)
    model = SpikingConvNet(ClassifierConfig.from_dict(card["config"]))
    load_into(model, state, f"checkpoint {stem.name}")
    model.eval()
    return model, card


def shipped_cards(root: Path | None = None) -> dict[str, dict[str, Any]]:
    """Cards of the installed classifiers whose weights exist, keyed by neuron type."""
    return {
        info.card["config"]["neuron"]: info.card
        for info in list_checkpoints(CHECKPOINT_AREA, root)
        if info.weights.exists() and info.card.get("architecture") == "SpikingConvNet"
    }
