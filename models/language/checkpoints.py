"""Load the shipped language models and their tokenizer from ``models/checkpoints/language``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from data.bpe import BPETokenizer, load_tokenizer
from models.language.config import LanguageModelConfig
from models.language.model import LanguageModel, build_model
from models.language.train import AREA, PRESETS, TOKENIZER_DIR
from models.registry import CHECKPOINT_ROOT, CheckpointError, checkpoint_stem, load_checkpoint

MODEL_NAMES = tuple(PRESETS)


def checkpoint_dir(root: Path | None = None) -> Path:
    """Return the folder of the language checkpoints."""
    return (root or CHECKPOINT_ROOT) / AREA


def load_model(name: str, root: Path | None = None) -> tuple[LanguageModel, dict[str, Any]]:
    """Load checkpoint ``name`` in evaluation mode with its card.

    Raises:
        models.registry.CheckpointError: the checkpoint is missing, unreadable or does not
            match its config; the message names the training command.
    """
    stem = checkpoint_stem(AREA, name, root)
    state, card = load_checkpoint(stem)
    try:
        config = LanguageModelConfig.from_dict(card["config"])
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"{stem}.json contains an invalid model config: {error}") from error
    model = build_model(config)
    model.load_checkpoint_state(state, str(stem))
    return model.eval(), card


def load_shipped_tokenizer(root: Path | None = None) -> BPETokenizer:
    """Load the tokenizer stored beside the checkpoints."""
    return load_tokenizer(checkpoint_dir(root) / TOKENIZER_DIR)


def available_models(root: Path | None = None) -> list[str]:
    """Return the names of the shipped models whose weights and card are present."""
    folder = checkpoint_dir(root)
    return [
        name
        for name in MODEL_NAMES
        if (folder / f"{name}.safetensors").exists() and (folder / f"{name}.json").exists()
    ]
