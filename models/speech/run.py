"""The bodies of ``glimpse train speech`` and ``glimpse eval speech``."""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from pathlib import Path

from data import fsdd

log = logging.getLogger(__name__)

MAIN_CHECKPOINT = "fsdd-spikcommander"


def held_out_checkpoint(speaker: str) -> str:
    """Name of the checkpoint trained without ``speaker``."""
    return f"{MAIN_CHECKPOINT}-without-{speaker}"


def command_line() -> str:
    """The running ``glimpse`` command, for checkpoint cards."""
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
