"""Load the shipped SpikCommander checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from data.spectrogram import FrontEndConfig
from models.registry import CheckpointError, checkpoint_stem, load_checkpoint, load_into
from models.speech.config import SpikCommanderConfig
from models.speech.spikcommander import SpikCommander

AREA = "speech"


def load_model(
    name: str, root: Path | None = None
) -> tuple[SpikCommander, FrontEndConfig, dict[str, Any]]:
    """Load checkpoint ``name`` as ``(model in eval mode, front-end config, card)``.

    Raises:
        CheckpointError: the files are missing or do not match the configuration in the card.
    """
    stem = root / name if root is not None else checkpoint_stem(AREA, name)
    state, card = load_checkpoint(stem)
    try:
        config = SpikCommanderConfig.from_dict(card["config"]["model"])
        front_end = FrontEndConfig(**card["config"]["front_end"])
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"{stem}.json has no valid model configuration: {error}") from error
    model = SpikCommander(config)
    load_into(model, state, str(stem))
    model.eval()
    return model, front_end, card
