"""``glimpse train speech`` and ``glimpse eval speech``."""

from __future__ import annotations

import argparse

from data.fsdd import DEFAULT_HELD_OUT_SPEAKER, SPEAKERS, SPLITS


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", help="FSDD folder (default: the copy from `glimpse data fetch fsdd`)"
    )
    parser.add_argument(
        "--split",
        default="recordings",
        choices=(*SPLITS, "both"),
        help=(
            "'recordings' holds out recordings 0-4, 'speaker' one speaker, 'both' trains both "
            "(default recordings)"
        ),
    )
    parser.add_argument(
        "--held-out-speaker",
        default=DEFAULT_HELD_OUT_SPEAKER,
        choices=SPEAKERS,
        help=f"speaker left out by the speaker split (default {DEFAULT_HELD_OUT_SPEAKER})",
    )
    parser.add_argument(
        "--epochs", type=int, default=50, help="passes over the training recordings (default 50)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=32, help="recordings per step (default 32)"
    )
    parser.add_argument(
        "--lr", type=float, default=2e-3, help="peak AdamW learning rate (default 2e-3)"
    )
    parser.add_argument("--dim", type=int, default=96, help="embedding width D (default 96)")
    parser.add_argument("--heads", type=int, default=8, help="attention heads (default 8)")
    parser.add_argument("--seed", type=int, default=312, help="random seed (default 312)")
    parser.add_argument(
        "--threads", type=int, default=0, help="torch CPU threads; 0 keeps torch's default"
    )
    parser.add_argument(
        "--limit", type=int, default=0, help="use only this many training recordings (0: all)"
    )
    parser.add_argument("--out-dir", help="checkpoint folder (default: models/checkpoints/speech)")


def train_command(args: argparse.Namespace) -> int:
    from models.speech.run import train_from_args

    return train_from_args(args)


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", help="FSDD folder (default: the copy from `glimpse data fetch fsdd`)"
    )
    parser.add_argument(
        "--ablation",
        action="store_true",
        help=(
            "train and test the four branch variants (local; +global; +V-branch; SCR-MLP "
            "against a plain MLP)"
        ),
    )
    parser.add_argument(
        "--epochs", type=int, default=24, help="epochs per ablation variant (default 24)"
    )
    parser.add_argument(
        "--seed", type=int, default=312, help="random seed of the ablation runs (default 312)"
    )
    parser.add_argument(
        "--limit", type=int, default=0, help="ablation: only this many training recordings (0: all)"
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="ablation: variants trained at once, each in its own process (default 1)",
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="torch CPU threads; 0 keeps torch's default"
    )
    parser.add_argument(
        "--update-readme", action="store_true", help="rewrite the speech tables in README.md"
    )


def eval_command(args: argparse.Namespace) -> int:
    from models.speech.run import eval_from_args

    return eval_from_args(args)
