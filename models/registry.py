"""List, save and load checkpoints: safetensors weights beside a JSON card.

A checkpoint is two files with one stem, ``NAME.safetensors`` and ``NAME.json``, under
``models/checkpoints/AREA/``. The card records what a reader needs to trust and reproduce the
weights: architecture config, training data, the command line, metrics, seed and git commit.
Nothing here unpickles: weights are safetensors only.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from data.atomic import atomic_path, write_json

log = logging.getLogger(__name__)

CHECKPOINT_ROOT = Path(__file__).resolve().parent / "checkpoints"
CARD_KEYS = (
    "name",
    "area",
    "architecture",
    "config",
    "data",
    "command",
    "metrics",
    "seed",
    "commit",
)


class CheckpointError(ValueError):
    """Raised for a missing, unreadable or mismatched checkpoint; the message says how to fix it."""


@dataclass(frozen=True)
class CheckpointInfo:
    """A checkpoint on disk: its area, name, the two file paths and the parsed card."""

    area: str
    name: str
    weights: Path
    card_path: Path
    card: dict[str, Any]


def git_commit(repo: Path | None = None) -> str:
    """Return the current git commit of the repository, with ``+dirty`` for uncommitted changes."""
    root = repo or Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}+dirty" if dirty else commit


def checkpoint_stem(area: str, name: str, root: Path | None = None) -> Path:
    """Return the path stem (no suffix) of checkpoint ``name`` in ``area``."""
    return (root or CHECKPOINT_ROOT) / area / name


def save_checkpoint(
    stem: str | os.PathLike[str],
    state_dict: dict[str, torch.Tensor],
    card: dict[str, Any],
    *,
    dtype: torch.dtype | None = None,
) -> CheckpointInfo:
    """Write weights and card atomically, the card last so that a card always has its weights.

    Args:
        stem: path without suffix, for example ``models/checkpoints/vision/fmnist-nasn``.
        state_dict: tensors to store. Floating-point tensors are cast to ``dtype`` when given
            (fp16 keeps large checkpoints small); integer buffers keep their type.
        card: must contain the keys in ``CARD_KEYS``; ``created``, ``dtype``, ``parameters``
            and ``files`` are filled in here.

    Raises:
        CheckpointError: the card lacks a required key.
    """
    missing = [key for key in CARD_KEYS if key not in card]
    if missing:
        raise CheckpointError(f"checkpoint card lacks {missing}; fill them before saving")
    stem = Path(stem)
    tensors = {}
    for key, value in state_dict.items():
        tensor = value.detach().cpu().contiguous()
        if dtype is not None and tensor.is_floating_point():
            tensor = tensor.to(dtype)
        tensors[key] = tensor
    weights = stem.with_suffix(".safetensors")
    with atomic_path(weights) as tmp:
        save_file(tensors, str(tmp))
    full_card = dict(card)
    full_card["created"] = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    full_card["dtype"] = str(dtype or "as trained").replace("torch.", "")
    full_card["parameters"] = int(sum(t.numel() for t in tensors.values() if t.is_floating_point()))
    full_card["bytes"] = weights.stat().st_size
    card_path = stem.with_suffix(".json")
    write_json(card_path, full_card)
    return CheckpointInfo(card["area"], card["name"], weights, card_path, full_card)


def read_card(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check a checkpoint card.

    Raises:
        CheckpointError: the file is missing, is not JSON, or lacks required keys.
    """
    card_path = Path(path)
    if not card_path.exists():
        raise CheckpointError(f"checkpoint card {card_path} not found")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CheckpointError(f"checkpoint card {card_path} is not valid JSON: {error}") from error
    if not isinstance(card, dict):
        raise CheckpointError(f"checkpoint card {card_path} must hold a JSON object")
    missing = [key for key in CARD_KEYS if key not in card]
    if missing:
        raise CheckpointError(f"checkpoint card {card_path} lacks {missing}")
    return card


def load_checkpoint(
    stem: str | os.PathLike[str], *, dtype: torch.dtype = torch.float32
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Load the weights (floating tensors cast to ``dtype``) and card of a checkpoint.

    Raises:
        CheckpointError: either file is missing or unreadable. The message names the training
            command from the card when the card exists.
    """
    stem = Path(stem)
    card_path = stem.with_suffix(".json")
    weights = stem.with_suffix(".safetensors")
    card = read_card(card_path) if card_path.exists() else None
    if not weights.exists():
        hint = f" Recreate it with: {card['command']}" if card else ""
        raise CheckpointError(f"checkpoint weights {weights} not found.{hint}")
    if card is None:
        raise CheckpointError(f"checkpoint card {card_path} not found beside {weights}")
    try:
        tensors = load_file(str(weights))
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(
            f"{weights} is not a readable safetensors file ({error}). Recreate it with: "
            f"{card['command']}"
        ) from error
    state = {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in tensors.items()}
    return state, card


def load_into(module: torch.nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Load ``state`` into ``module`` strictly, turning shape mismatches into a clear error.

    Raises:
        CheckpointError: keys are missing or unexpected, or a tensor has the wrong shape.
    """
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = [
        f"{key}: checkpoint {tuple(state[key].shape)} vs model {tuple(expected[key].shape)}"
        for key in expected
        if key in state and state[key].shape != expected[key].shape
    ]
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"missing keys {missing[:5]}{' ...' if len(missing) > 5 else ''}")
        if unexpected:
            parts.append(f"unexpected keys {unexpected[:5]}{' ...' if len(unexpected) > 5 else ''}")
        if wrong:
            parts.append(f"shape mismatch {wrong[:3]}{' ...' if len(wrong) > 3 else ''}")
        raise CheckpointError(
            f"{source} does not match the model configuration: {'; '.join(parts)}. "
            "Use the configuration stored in its card, or retrain with the current code."
        )
    module.load_state_dict(state, strict=True)


def list_checkpoints(area: str | None = None, root: Path | None = None) -> list[CheckpointInfo]:
    """Return the checkpoints with a readable card, sorted by area and name.

    A card whose weights are missing is still listed, so the dashboard can say how to train it.
    Unreadable cards are skipped with a warning.
    """
    base = root or CHECKPOINT_ROOT
    areas = [base / area] if area else sorted(p for p in base.glob("*") if p.is_dir())
    found = []
    for folder in areas:
        for card_path in sorted(folder.glob("*.json")):
            try:
                card = read_card(card_path)
            except CheckpointError as error:
                log.warning("skipping checkpoint card: %s", error)
                continue
            found.append(
                CheckpointInfo(
                    folder.name,
                    card_path.stem,
                    card_path.with_suffix(".safetensors"),
                    card_path,
                    card,
                )
            )
    return found
