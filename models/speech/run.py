"""The bodies of ``glimpse train speech`` and ``glimpse eval speech``."""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from pathlib import Path

import numpy as np

from data import fsdd

log = logging.getLogger(__name__)

MAIN_CHECKPOINT = "fsdd-spikcommander"
RESULTS_START = "<!-- speech-results:start -->"
RESULTS_END = "<!-- speech-results:end -->"


def held_out_checkpoint(speaker: str) -> str:
    """Name of the checkpoint trained without ``speaker``."""
    return f"{MAIN_CHECKPOINT}-without-{speaker}"


def command_line() -> str:
    """Return the running ``glimpse`` command line, for checkpoint cards."""
    return shlex.join(["glimpse", *sys.argv[1:]])


def resolve_data_dir(data_dir: str | None) -> Path:
    """Return the FSDD folder from ``--data-dir`` or the fetched copy.

    Raises:
        fsdd.DatasetError: neither exists.
    """
    if data_dir:
        return Path(data_dir)
    fetched = fsdd.default_root()
    if fetched is None:
        raise fsdd.DatasetError(
            "no FSDD copy found. Download it with `glimpse data fetch fsdd`, or pass --data-dir "
            "with the folder holding its recordings."
        )
    return fetched


def train_from_args(args: argparse.Namespace) -> int:
    from models.speech.config import SpikCommanderConfig
    from models.speech.train import TrainConfig, train

    try:
        data_dir = resolve_data_dir(args.data_dir)
        fsdd.recordings_dir(data_dir)
        model = SpikCommanderConfig(dim=args.dim, heads=args.heads)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    splits = ("recordings", "speaker") if args.split == "both" else (args.split,)
    for split in splits:
        name = (
            MAIN_CHECKPOINT if split == "recordings" else held_out_checkpoint(args.held_out_speaker)
        )
        config = TrainConfig(
            data_dir=str(data_dir),
            split=split,
            held_out_speaker=args.held_out_speaker,
            model=model,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            seed=args.seed,
            threads=args.threads,
            limit=args.limit,
            name=name,
            out_dir=args.out_dir,
            command=command_line(),
        )
        metrics = train(config)
        print(
            f"{name}: test accuracy {metrics['test_accuracy']:.4f} on {metrics['test_recordings']} "
            f"recordings, {metrics['parameters']:,} parameters, {metrics['train_seconds']:.0f} s"
        )
    return 0


def _held_out_label(train_config: dict[str, object], count: int) -> str:
    if train_config["split"] == "recordings":
        return f"recordings 0-4 of every speaker ({count})"
    return f"every recording of the unseen speaker {train_config['held_out_speaker']} ({count})"


def _evaluate_shipped(data_dir: Path) -> list[dict[str, object]]:
    from data.fsdd import list_recordings, load_waveforms, split_recordings
    from models.registry import list_checkpoints
    from models.speech.batches import FeatureMaker
    from models.speech.checkpoints import load_model
    from models.speech.train import evaluate

    recordings = list_recordings(data_dir)
    rows = []
    for info in list_checkpoints("speech"):
        model, front_end, card = load_model(info.name, root=info.weights.parent)
        train_config = card["config"]["train"]
        _, test = split_recordings(
            recordings, train_config["split"], train_config["held_out_speaker"]
        )
        labels = np.array([r.digit for r in test])
        accuracy, _ = evaluate(model, load_waveforms(test), labels, FeatureMaker(front_end))
        rows.append(
            {
                "checkpoint": info.name,
                "held_out": _held_out_label(train_config, len(test)),
                "parameters": card["metrics"]["parameters"],
                "test_accuracy": accuracy,
                "bytes": card["bytes"],
            }
        )
    return rows


def results_table(rows: list[dict[str, object]]) -> str:
    """Markdown table of the shipped checkpoints' test accuracies."""
    lines = [
        "| checkpoint | tested on | parameters | size | test accuracy |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| `{row['checkpoint']}` | {row['held_out']} | {row['parameters']:,} | "
            f"{row['bytes'] / 1024:.0f} KiB | {100 * row['test_accuracy']:.1f} % |"
        )
    lines.append("")
    lines.append(f"Made by `{command_line()}` (fp16 weights as shipped).")
    return "\n".join(lines)


def eval_from_args(args: argparse.Namespace) -> int:
    import torch

    from models.registry import CheckpointError
    from models.speech import ablation

    if args.threads:
        torch.set_num_threads(args.threads)
    readme = Path(__file__).resolve().parents[2] / "README.md"
    try:
        data_dir = resolve_data_dir(args.data_dir)
        rows = _evaluate_shipped(data_dir)
    except (ValueError, CheckpointError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    table = results_table(rows)
    print(table)
    if args.update_readme:
        ablation.update_readme(readme, RESULTS_START, RESULTS_END, table)
    if args.ablation:
        results = ablation.run_ablation(
            str(data_dir),
            epochs=args.epochs,
            seed=args.seed,
            threads=args.threads,
            limit=args.limit,
            jobs=args.jobs,
            command=command_line(),
        )
        body = ablation.ablation_table(results)
        print(body)
        if args.update_readme:
            ablation.update_readme(readme, ablation.README_START, ablation.README_END, body)
    return 0
