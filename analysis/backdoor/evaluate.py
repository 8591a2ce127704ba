"""``glimpse eval backdoor``: the CA/ASR table of the shipped CLIPs over attacks and defences.

The clean model, the poisoned models and the CBPT-style prompts are scored again from the
shipped files on the Fashion-MNIST test set. The fine-tuning baselines change every weight and
their models are not shipped (they would not fit the size budget), so their numbers are read
from the ``defence-ATTACK`` cards, which recorded them on the same test set when the defences
ran.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from analysis.backdoor.defence import DEFENCE_LABELS, DEFENCES, summarise
from analysis.backdoor.evaluation import encode_test_set, score
from analysis.backdoor.inspection import (
    available_attacks,
    defended_text_features,
    load_attack,
    load_defence,
)
from analysis.backdoor.pipeline import checkpoint_dir, resolve_data_dir
from analysis.backdoor.triggers import ATTACK_LABELS
from data.atomic import replace_marked_block
from data.fashion_mnist import load_split
from models.clip.model import load_clip_checkpoint
from models.clip.train import CLEAN_NAME, zero_shot_accuracy
from models.clip.zero_shot import class_text_features
from models.registry import CheckpointError

log = logging.getLogger(__name__)

README = Path(__file__).resolve().parents[2] / "README.md"
TABLE_START = "<!-- backdoor-table:start -->"
TABLE_END = "<!-- backdoor-table:end -->"
# Rescored numbers can differ from the cards' in the last digits when the scoring code changes.
# A larger difference means that the shipped files no longer match their cards.
CARD_TOLERANCE = 1e-3


def evaluate_shipped(
    folder: Path, test_images: np.ndarray, test_labels: np.ndarray
) -> tuple[float, pd.DataFrame]:
    """Score the shipped checkpoints in ``folder``.

    Returns:
        The clean model's zero-shot CA, and one row per attack, defence and seed with the
        target class name, ``ca``, ``asr`` (fractions), ``seconds`` and ``source``
        (``rescored`` or ``card``).
    """
    clean, _, _ = load_clip_checkpoint(folder / CLEAN_NAME)
    clean_accuracy = zero_shot_accuracy(clean, test_images, test_labels)
    log.info("clean CLIP: CA %.4f", clean_accuracy)
    rows = []
    for attack in available_attacks(folder):
        bundle, trigger, card = load_attack(folder, attack)
        defence = load_defence(folder, attack)
        target = int(card["config"]["attack"]["target"])
        encoded = encode_test_set(bundle, test_images, test_labels, trigger)
        recorded = defence.card["metrics"]["per_seed"]
        with torch.no_grad():
            none = score(bundle, encoded, class_text_features(bundle), target)
        for seed in defence.seeds:
            with torch.no_grad():
                cbpt = score(
                    bundle, encoded, defended_text_features(bundle, defence.contexts[seed]), target
                )
            for name, metrics in (("none", none), ("cbpt", cbpt)):
                entry = recorded.get(str(seed), {}).get(name)
                _check_against_card(attack, name, seed, metrics, entry)
                # The defence's time comes from the card: rescoring does not rerun it.
                timed = {**metrics, "seconds": entry["seconds"] if entry else float("nan")}
                rows.append(_row(attack, name, seed, timed, "rescored", bundle.class_names[target]))
            for name in ("prompts", "finetune", "cleanclip"):
                entry = recorded.get(str(seed), {}).get(name)
                if entry is not None:
                    rows.append(_row(attack, name, seed, entry, "card", bundle.class_names[target]))
    return clean_accuracy, pd.DataFrame(rows)


def _row(attack: str, defence: str, seed: int, metrics: dict, source: str, target: str) -> dict:
    return {
        "attack": attack,
        "target": target,
        "defence": defence,
        "seed": seed,
        "ca": metrics["clean_accuracy"],
        "asr": metrics["attack_success_rate"],
        "seconds": metrics.get("seconds", float("nan")),
        "source": source,
    }


def _check_against_card(
    attack: str, defence: str, seed: int, metrics: dict, recorded: dict | None
) -> None:
    if recorded is None:
        return
    for key in ("clean_accuracy", "attack_success_rate"):
        if abs(metrics[key] - recorded[key]) > CARD_TOLERANCE:
            log.warning(
                "%s %s seed %d: %s rescored %.4f but the card recorded %.4f",
                attack,
                defence,
                seed,
                key,
                metrics[key],
                recorded[key],
            )


def markdown_table(clean_accuracy: float, rows: pd.DataFrame, test_count: int) -> str:
    """Return the README table: CA and ASR in % as mean ± std over seeds, per attack and defence."""
    targets = ", ".join(sorted(rows["target"].unique()))
    lines = [
        f"Zero-shot on the {test_count:,} Fashion-MNIST test images; clean model CA "
        f"{100 * clean_accuracy:.2f} %. ASR counts triggered images whose true class is not the "
        f"target ({targets}). Mean ± standard deviation over the seeds; seconds are the "
        "defence's time per seed on one CPU thread.",
        "",
        "| attack | defence | seeds | CA (%) | ASR (%) | seconds |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for attack in rows["attack"].unique():
        per_seed: dict[int, dict[str, dict[str, float]]] = {}
        for row in rows[rows["attack"] == attack].itertuples():
            per_seed.setdefault(row.seed, {})[row.defence] = {
                "clean_accuracy": row.ca,
                "attack_success_rate": row.asr,
                "seconds": row.seconds,
            }
        summary = summarise(per_seed)
        for name in DEFENCES:
            if name not in summary:
                continue
            entry = summary[name]
            lines.append(
                f"| {ATTACK_LABELS[attack]} | {DEFENCE_LABELS[name]} | {entry['seeds']} | "
                f"{100 * entry['clean_accuracy_mean']:.2f} ± "
                f"{100 * entry['clean_accuracy_std']:.2f} | "
                f"{100 * entry['attack_success_rate_mean']:.2f} ± "
                f"{100 * entry['attack_success_rate_std']:.2f} | {entry['seconds_mean']:.1f} |"
            )
    return "\n".join(lines)


def update_readme(table: str, readme: Path = README) -> None:
    """Replace the text between the backdoor table markers of the README, atomically.

    Raises:
        ValueError: the README lacks the markers.
    """
    replace_marked_block(readme, TABLE_START, TABLE_END, table)


def run_evaluation(args: argparse.Namespace) -> int:
    """Print the CA/ASR table and optionally write it into the README; return an exit status."""
    try:
        data_dir = resolve_data_dir(args.data_dir)
        test_images, test_labels = load_split(data_dir, "test")
        if args.test_limit:
            test_images, test_labels = (
                test_images[: args.test_limit],
                test_labels[: args.test_limit],
            )
        clean_accuracy, rows = evaluate_shipped(
            checkpoint_dir(args.out_dir), test_images, test_labels
        )
        if rows.empty:
            raise CheckpointError(
                "no poisoned and defence checkpoints found; run `glimpse train backdoor`"
            )
        table = markdown_table(clean_accuracy, rows, len(test_labels))
        print(table)
        if args.update_readme:
            update_readme(table)
            log.info("updated the backdoor table in %s", README)
    except (ValueError, CheckpointError) as error:
        log.error("%s", error)
        return 2
    return 0
