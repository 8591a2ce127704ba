"""Computations behind the backdoor page: shipped attacks and defences, predictions, PCA, tables.

Everything here works on the shipped checkpoints of ``models/checkpoints/clip`` (or another
folder) and on uint8 Fashion-MNIST images, and returns arrays and data frames.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from analysis.backdoor.defence import DEFENCE_LABELS, DEFENCES
from analysis.backdoor.evaluation import TEST_TRIGGER_SEED
from analysis.backdoor.inversion import InvertedTrigger
from analysis.backdoor.triggers import ATTACK_LABELS, ATTACKS, Trigger
from models.clip.captions import validate_class_names
from models.clip.images import pixels_from_uint8
from models.clip.model import ClipBundle, load_clip_checkpoint
from models.clip.prompts import ClassWisePrompts
from models.clip.zero_shot import class_text_features, logits_from_features
from models.registry import CheckpointError, load_checkpoint, read_card


@dataclass
class Defence:
    """CBPT-style artefacts of one attack: its card, inverted triggers and prompt contexts."""

    card: dict[str, Any]
    inverted: dict[int, InvertedTrigger]
    contexts: dict[int, torch.Tensor]

    @property
    def seeds(self) -> list[int]:
        """Seeds with artefacts, ascending."""
        return sorted(self.contexts)


def available_attacks(folder: str | os.PathLike[str]) -> list[str]:
    """Return the attacks, in ``ATTACKS`` order, whose poisoned checkpoint is in ``folder``."""
    folder = Path(folder)
    return [a for a in ATTACKS if (folder / f"poisoned-{a}.safetensors").exists()]


def strongest_attack(folder: str | os.PathLike[str], attacks: list[str]) -> str:
    """Return the attack whose poisoned checkpoint reports the highest ASR before any defence.

    A backdoor that did not implant shows nothing for a defence to remove, so the page opens
    on the strongest one. An unreadable card counts as ASR 0.
    """

    def asr(attack: str) -> float:
        try:
            card = read_card(Path(folder) / f"poisoned-{attack}.json")
        except CheckpointError:
            return 0.0
        return float(card.get("metrics", {}).get("attack_success_rate") or 0.0)

    return max(attacks, key=asr)


def load_attack(
    folder: str | os.PathLike[str], attack: str
) -> tuple[ClipBundle, Trigger, dict[str, Any]]:
    """Load the CLIP poisoned by ``attack`` with its trigger and card.

    Raises:
        CheckpointError: the checkpoint is missing, unreadable or lacks its trigger.
    """
    stem = Path(folder) / f"poisoned-{attack}"
    bundle, card, extra = load_clip_checkpoint(stem)
    try:
        trigger = Trigger.from_card(card["config"]["attack"]["trigger"], extra)
    except (KeyError, TypeError) as error:
        raise CheckpointError(f"{stem}.json lacks the attack's trigger ({error})") from error
    return bundle, trigger, card


def load_defence(folder: str | os.PathLike[str], attack: str) -> Defence:
    """Load the CBPT-style artefacts and the per-seed results of every defence for ``attack``.

    Raises:
        CheckpointError: the checkpoint is missing or unreadable.
    """
    tensors, card = load_checkpoint(Path(folder) / f"defence-{attack}")
    inverted, contexts = {}, {}
    for key in tensors:
        if key.endswith(".context"):
            seed = int(key.removeprefix("seed").split(".")[0])
            contexts[seed] = tensors[key]
            inverted[seed] = InvertedTrigger.from_state(tensors, prefix=f"seed{seed}.")
    return Defence(card, inverted, contexts)


def defended_text_features(
    bundle: ClipBundle, context: torch.Tensor, class_names: tuple[str, ...] | None = None
) -> torch.Tensor:
    """Return ``[C, D]`` text features of class-wise prompts with a tuned ``context`` ``[C, M, W]``.

    Raises:
        ValueError: the number of class names differs from the number of tuned contexts.
    """
    names = class_names or bundle.class_names
    if len(names) != context.shape[0]:
        raise ValueError(
            f"the defence's prompts were tuned for {context.shape[0]} classes but {len(names)} "
            "class names were given; give one name per class"
        )
    prompts = ClassWisePrompts(
        bundle.model, bundle.tokenizer, names, context.shape[1], init_text=None
    )
    with torch.no_grad():
        prompts.context.copy_(context.to(prompts.context.dtype))
        return prompts()


@dataclass
class Predictions:
    """Predictions on clean and triggered images, before and after the defence.

    Attributes:
        clean_pixels, triggered_pixels: ``[N, 3, S, S]`` pixels.
        clean_feats, triggered_feats: ``[N, D]`` normalised image features.
        before_clean, before_triggered: zero-shot predictions ``[N]`` of the poisoned model.
        after_clean, after_triggered: predictions with the CBPT-style prompts.
        text_before, text_after: ``[C, D]`` class text features of the two classifiers.
    """

    clean_pixels: torch.Tensor
    triggered_pixels: torch.Tensor
    clean_feats: torch.Tensor
    triggered_feats: torch.Tensor
    before_clean: np.ndarray
    before_triggered: np.ndarray
    after_clean: np.ndarray
    after_triggered: np.ndarray
    text_before: torch.Tensor
    text_after: torch.Tensor


@torch.no_grad()
def predict(
    bundle: ClipBundle,
    trigger: Trigger,
    images: np.ndarray,
    context: torch.Tensor,
    class_names: tuple[str, ...] | None = None,
) -> Predictions:
    """Classify uint8 images clean and triggered, with zero-shot and with defended prompts.

    BadNets positions come from the same seed as the test-set evaluation.

    Raises:
        ClassNameError: ``class_names`` is empty or has duplicates.
        ValueError: the number of class names differs from the tuned contexts.
    """
    names = validate_class_names(class_names) if class_names else bundle.class_names
    clean = pixels_from_uint8(images, bundle.image_size)
    triggered = trigger.apply(clean, torch.Generator().manual_seed(TEST_TRIGGER_SEED))
    clean_feats = bundle.encode_pixels(clean)
    triggered_feats = bundle.encode_pixels(triggered)
    text_before = class_text_features(bundle, names)
    text_after = defended_text_features(bundle, context, names)

    def classify(feats: torch.Tensor, text: torch.Tensor) -> np.ndarray:
        return logits_from_features(bundle, feats, text).argmax(-1).numpy()

    return Predictions(
        clean,
        triggered,
        clean_feats,
        triggered_feats,
        classify(clean_feats, text_before),
        classify(triggered_feats, text_before),
        classify(clean_feats, text_after),
        classify(triggered_feats, text_after),
        text_before,
        text_after,
    )


def pca_2d(fit: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """Project arrays ``[N, D]`` onto the first two principal axes of ``fit``.

    Axes come from the SVD of the centred ``fit`` rows. Each axis's sign is fixed so that its
    largest-magnitude loading is positive, which keeps the picture stable across runs.

    Returns:
        ``fit`` projected, then each of ``others`` projected with the same mean and axes.

    Raises:
        ValueError: ``fit`` has fewer than two rows.
    """
    fit = np.asarray(fit, dtype=np.float64)
    if fit.ndim != 2 or len(fit) < 2:
        raise ValueError(f"PCA needs at least two rows [N, D], got shape {fit.shape}")
    mean = fit.mean(axis=0)
    _, _, vt = np.linalg.svd(fit - mean, full_matrices=False)
    axes = vt[:2]
    signs = np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])
    axes = axes * signs[:, None]
    return tuple((np.asarray(a, dtype=np.float64) - mean) @ axes.T for a in (fit, *others))


def results_table(
    cards: dict[str, dict[str, Any]], clean_accuracy: float | None = None
) -> pd.DataFrame:
    """Return one row per attack and defence with CA and ASR mean and standard deviation (%).

    Args:
        cards: ``defence-ATTACK`` cards by attack.
        clean_accuracy: zero-shot CA of the clean model, for the ``ca_drop`` column.
    """
    rows = []
    for attack in ATTACKS:
        if attack not in cards:
            continue
        summary = cards[attack]["metrics"]["summary"]
        for defence in DEFENCES:
            if defence not in summary:
                continue
            entry = summary[defence]
            row = {
                "attack": ATTACK_LABELS[attack],
                "defence": DEFENCE_LABELS[defence],
                "seeds": int(entry["seeds"]),
                "ca_mean": 100 * entry["clean_accuracy_mean"],
                "ca_std": 100 * entry["clean_accuracy_std"],
                "asr_mean": 100 * entry["attack_success_rate_mean"],
                "asr_std": 100 * entry["attack_success_rate_std"],
                "seconds_mean": entry["seconds_mean"],
            }
            if clean_accuracy is not None:
                row["ca_drop"] = 100 * clean_accuracy - row["ca_mean"]
            rows.append(row)
    return pd.DataFrame(rows)


def per_seed_table(card: dict[str, Any], attack: str) -> pd.DataFrame:
    """Return one row per seed and defence of a ``defence-ATTACK`` card, CA and ASR in %."""
    rows = []
    for seed, metrics in card["metrics"]["per_seed"].items():
        for defence in DEFENCES:
            if defence in metrics:
                rows.append(
                    {
                        "attack": ATTACK_LABELS[attack],
                        "defence": DEFENCE_LABELS[defence],
                        "seed": int(seed),
                        "ca": 100 * metrics[defence]["clean_accuracy"],
                        "asr": 100 * metrics[defence]["attack_success_rate"],
                        "seconds": metrics[defence]["seconds"],
                    }
                )
    return pd.DataFrame(rows)


def defence_cards(folder: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Return the readable ``defence-ATTACK`` cards in ``folder`` by attack."""
    cards = {}
    for attack in ATTACKS:
        path = Path(folder) / f"defence-{attack}.json"
        if path.exists():
            cards[attack] = read_card(path)
    return cards


GALLERY_MODES = ("per_class", "attack_succeeds", "defence_fails")


def gallery_indices(
    mode: str, labels: np.ndarray, result: dict[str, np.ndarray], target: int
) -> list[int]:
    """Return the image indices a gallery shows, in order.

    Modes:

    - ``per_class``: the first image of each class.
    - ``attack_succeeds``: non-target images whose triggered version the poisoned model
      classifies as the target.
    - ``defence_fails``: non-target images whose triggered version the defended prompts still
      classify as the target.

    Raises:
        ValueError: unknown ``mode``.
    """
    non_target = labels != target
    if mode == "per_class":
        return [int(np.flatnonzero(labels == c)[0]) for c in np.unique(labels)]
    if mode == "attack_succeeds":
        return np.flatnonzero(non_target & (result["before_triggered"] == target)).tolist()
    if mode == "defence_fails":
        return np.flatnonzero(non_target & (result["after_triggered"] == target)).tolist()
    raise ValueError(f"unknown gallery mode {mode!r}; choose one of {GALLERY_MODES}")


def prediction_table(
    labels: np.ndarray, result: dict[str, np.ndarray], names: tuple[str, ...]
) -> pd.DataFrame:
    """Return one row per image: true class and the four predictions, by class name."""
    columns = {
        "clean_no_defence": "before_clean",
        "triggered_no_defence": "before_triggered",
        "clean_cbpt_style": "after_clean",
        "triggered_cbpt_style": "after_triggered",
    }
    table = {"index": np.arange(len(labels)), "label": [names[i] for i in labels]}
    for column, key in columns.items():
        table[column] = [names[i] for i in result[key]]
    return pd.DataFrame(table)


def trigger_table(mask: np.ndarray, pattern: np.ndarray, true_change: np.ndarray) -> pd.DataFrame:
    """Return one row per pixel: inverted mask, pattern channels and the true trigger's change.

    Args:
        mask: ``[H, W]``; pattern: ``[H, W, 3]``; true_change: ``[H, W, 3]`` triggered minus clean.
    """
    rows, cols = np.indices(mask.shape)
    return pd.DataFrame(
        {
            "row": rows.ravel(),
            "column": cols.ravel(),
            "mask": mask.ravel(),
            "pattern_r": pattern[..., 0].ravel(),
            "pattern_g": pattern[..., 1].ravel(),
            "pattern_b": pattern[..., 2].ravel(),
            "true_change": true_change.mean(axis=-1).ravel(),
        }
    )


def pca_panels(
    result: dict[str, np.ndarray], labels: np.ndarray
) -> tuple[list[dict], pd.DataFrame]:
    """Project clean and triggered image features and both classifiers' text features to 2-D.

    The axes are fitted on the image features only (CLIP's image and text features sit apart,
    so fitting on both would spend an axis on that gap).

    Returns:
        The two panels for ``pca_figure`` (no defence, CBPT-style) and their points as a table.
    """
    clean_feats, triggered_feats = result["clean_feats"], result["triggered_feats"]
    _, clean_2d, triggered_2d, before_2d, after_2d = pca_2d(
        np.concatenate([clean_feats, triggered_feats]),
        clean_feats,
        triggered_feats,
        result["text_before"],
        result["text_after"],
    )
    panels = []
    for title, prefix, text in (
        ("No defence: zero-shot prompts", "before", before_2d),
        ("CBPT-style: tuned class-wise prompts", "after", after_2d),
    ):
        panels.append(
            {
                "title": title,
                "clean": clean_2d,
                "triggered": triggered_2d,
                "clean_pred": result[f"{prefix}_clean"],
                "triggered_pred": result[f"{prefix}_triggered"],
                "text": text,
                "labels": labels,
            }
        )
    count = len(labels)
    table = pd.DataFrame(
        {
            "kind": ["clean"] * count + ["triggered"] * count,
            "label": np.concatenate([labels, labels]),
            "pc1": np.concatenate([clean_2d[:, 0], triggered_2d[:, 0]]),
            "pc2": np.concatenate([clean_2d[:, 1], triggered_2d[:, 1]]),
            "predicted_no_defence": np.concatenate(
                [result["before_clean"], result["before_triggered"]]
            ),
            "predicted_cbpt_style": np.concatenate(
                [result["after_clean"], result["after_triggered"]]
            ),
        }
    )
    return panels, table
