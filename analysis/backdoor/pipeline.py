"""Run the backdoor stages from the command line: clean training, poisoning, defences."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from data.fashion_mnist import default_root
from models.clip.train import CHECKPOINT_AREA, CLEAN_NAME, CleanTrainConfig, train
from models.clip.training import ContrastiveSchedule
from models.registry import CHECKPOINT_ROOT

log = logging.getLogger(__name__)


def resolve_data_dir(value: str | None) -> str:
    """Return the Fashion-MNIST folder from ``--data-dir`` or the fetched copy.

    Raises:
        ValueError: neither is available.
    """
    if value:
        return value
    root = default_root()
    if root is None:
        raise ValueError(
            "no Fashion-MNIST folder given and none fetched; pass --data-dir FOLDER or run "
            "`glimpse data fetch fashion-mnist`"
        )
    return str(root)


def checkpoint_dir(value: str | None) -> Path:
    """Return the checkpoint folder from ``--out-dir`` or the shipped one."""
    return Path(value) if value else CHECKPOINT_ROOT / CHECKPOINT_AREA


def run_clean(args: argparse.Namespace, command: str) -> dict:
    """Train the clean CLIP with the command-line settings."""
    schedule = ContrastiveSchedule(
        epochs=args.epochs or 8,
        batch_size=args.batch_size,
        lr=args.lr or 1e-3,
        warmup_steps=300,
        seed=args.seed,
    )
    config = CleanTrainConfig(
        data_dir=resolve_data_dir(args.data_dir),
        schedule=schedule,
        limit=args.limit,
        test_limit=args.test_limit,
        out=str(checkpoint_dir(args.out_dir) / CLEAN_NAME),
        command=command,
    )
    return train(config)


def run_training(args: argparse.Namespace, command: str) -> int:
    """Run the stages that ``--stage`` names and return an exit status."""
    try:
        if args.stage in ("clean", "all"):
            run_clean(args, command)
    except ValueError as error:
        log.error("%s", error)
        return 2
    return 0
