"""``glimpse eval vision``: test accuracy and energy of every shipped Fashion-MNIST classifier.

Prints a Markdown table and, with ``--update-readme``, writes it into README.md between the
markers ``<!-- vision-accuracy:start -->`` and ``<!-- vision-accuracy:end -->``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import torch

from analysis.energy import EnergyCosts, count_ops, total_energy_pj
from data import fashion_mnist
from data.atomic import replace_marked_block
from data.fashion_mnist import DatasetError
from models.registry import CheckpointError
from models.vision.classifier import NEURON_KINDS
from models.vision.train import accuracy, resolve_data_dir, to_tensor
from models.vision.zoo import load_classifier

log = logging.getLogger(__name__)

README = Path(__file__).resolve().parents[2] / "README.md"
START, END = "<!-- vision-accuracy:start -->", "<!-- vision-accuracy:end -->"
ENERGY_IMAGES = 1_000  # test images averaged for the energy column
NEURON_LABELS = {
    "lif": "LIF",
    "plif": "PLIF",
    "ilif": "ILIF",
    "nilif": "NILIF",
    "asn": "ASN",
    "nasn": "NASN",
    "ann": "ANN twin (ReLU)",
}


def evaluate_all(data_dir: str) -> list[dict[str, Any]]:
    """Measure every installed classifier on the full test set.

    Returns:
        One row per neuron type with ``accuracy``, ``spike_accuracy`` (integer neurons),
        ``setting`` (``T x D``), ``energy_uJ`` per image and the checkpoint's ``alpha`` values.
    """
    images, labels = fashion_mnist.load_split(data_dir, "test")
    x, y = to_tensor(images), torch.from_numpy(labels)
    costs = EnergyCosts()
    rows = []
    for kind in NEURON_KINDS:
        try:
            model, card = load_classifier(kind)
        except CheckpointError as error:
            log.warning("skipping %s: %s", kind, error)
            continue
        config = model.config
        row: dict[str, Any] = {
            "neuron": kind,
            "setting": f"{config.steps}x{config.D}" if config.is_integer else f"T={config.steps}",
            "accuracy": accuracy(model, x, y),
            "spike_accuracy": accuracy(model, x, y, spike_inference=True)
            if config.is_integer
            else None,
            "energy_uJ": total_energy_pj(count_ops(model, x[:ENERGY_IMAGES]), costs) / 1e6,
            "epochs": card.get("training", {}).get("epochs"),
        }
        if kind in ("asn", "nasn"):
            row["alpha"] = [round(float(n.alpha), 3) for n in model.neuron_layers().values()]
        rows.append(row)
        log.info("%s: %.4f", kind, row["accuracy"])
    return rows


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """Format the rows of :func:`evaluate_all` as a Markdown table."""
    lines = [
        "| neuron | setting | test accuracy | spike inference | energy per image (uJ, 45 nm) | learned alpha (conv1, conv2, conv3, fc1) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        spike = (
            f"{100 * row['spike_accuracy']:.2f}%"
            if row["spike_accuracy"] is not None
            else "same network"
        )
        alpha = ", ".join(f"{a:+.3f}" for a in row.get("alpha", [])) or "-"
        lines.append(
            f"| {NEURON_LABELS[row['neuron']]} | {row['setting']} | {100 * row['accuracy']:.2f}% | "
            f"{spike} | {row['energy_uJ']:.3f} | {alpha} |"
        )
    return "\n".join(lines)


def update_readme(table: str, readme: Path = README) -> None:
    """Replace the text between the vision markers in ``readme`` with ``table``, atomically.

    Raises:
        ValueError: the markers are missing.
    """
    replace_marked_block(readme, START, END, table)


def run_from_args(args: argparse.Namespace) -> int:
    """Run ``glimpse eval vision`` with parsed arguments."""
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        data_dir = resolve_data_dir(args.data_dir)
    except FileNotFoundError as error:
        log.error("%s", error)
        return 2
    try:
        rows = evaluate_all(data_dir)
    except DatasetError as error:
        log.error("%s", error)
        return 2
    if not rows:
        log.error(
            "no Fashion-MNIST classifier is installed; train them with `glimpse train vision --neuron all`"
        )
        return 1
    table = markdown_table(rows)
    print(table)
    if args.update_readme:
        update_readme(table)
        print(f"updated {README}")
    return 0
