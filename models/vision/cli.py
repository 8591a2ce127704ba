"""``glimpse train vision`` and ``glimpse eval vision``."""

from __future__ import annotations

import argparse

NEURON_CHOICES = ("lif", "plif", "ilif", "nilif", "asn", "nasn", "ann")


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--neuron",
        default="nasn",
        choices=(*NEURON_CHOICES, "all"),
        help="neuron type of the classifier, or 'all' for every type and the ANN (default nasn)",
    )
    parser.add_argument(
        "--data-dir", help="folder with the Fashion-MNIST IDX files (default: the fetched copy)"
    )
    parser.add_argument(
        "--epochs", type=int, default=8, help="passes over the 60,000 training images (default 8)"
    )
    parser.add_argument("--batch-size", type=int, default=128, help="images per step (default 128)")
    parser.add_argument(
        "--lr", type=float, default=2e-3, help="peak AdamW learning rate (default 2e-3)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--threads", type=int, default=0, help="torch CPU threads; 0 keeps torch's default"
    )
    parser.add_argument("--out-dir", help="checkpoint folder (default: models/checkpoints/vision)")
    parser.add_argument(
        "--limit", type=int, default=0, help="use only this many training images (0: all)"
    )


def train_command(args: argparse.Namespace) -> int:
    from models.vision.train import run_from_args

    return run_from_args(args)


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", help="folder with the Fashion-MNIST IDX files (default: the fetched copy)"
    )
    parser.add_argument(
        "--update-readme", action="store_true", help="rewrite the accuracy table in README.md"
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="torch CPU threads; 0 keeps torch's default"
    )


def eval_command(args: argparse.Namespace) -> int:
    from models.vision.evaluate import run_from_args

    return run_from_args(args)
