"""``glimpse train backdoor`` and ``glimpse eval backdoor``.

Training runs in stages: ``clean`` trains the clean CLIP, ``poison`` fine-tunes one poisoned
CLIP per attack, ``defend`` runs the CBPT-style defence and the baselines over several seeds
and stores their results, and ``all`` runs the three in order.
"""

from __future__ import annotations

import argparse
import shlex
import sys

ATTACK_CHOICES = ("badnets", "blended", "sig", "wanet", "badclip")
STAGES = ("clean", "poison", "defend", "all")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", help="folder with the Fashion-MNIST IDX files (default: the fetched copy)"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--out-dir", help="checkpoint folder (default: models/checkpoints/clip)")
    parser.add_argument(
        "--test-limit",
        type=int,
        default=0,
        help="evaluate on only this many test images (0: all 10,000)",
    )


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    # What to run.
    parser.add_argument(
        "--stage", default="all", choices=STAGES, help="what to train (default all)"
    )
    parser.add_argument(
        "--attack",
        default="all",
        choices=(*ATTACK_CHOICES, "all"),
        help="attack to poison or defend (default all)",
    )

    # Clean training and poisoning.
    parser.add_argument(
        "--epochs", type=int, help="passes over the training images (default: 4 clean, 1 poison)"
    )
    parser.add_argument(
        "--lr", type=float, help="peak AdamW learning rate (default: 1e-3 clean, 1e-4 poison)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=128, help="image-caption pairs per step (default 128)"
    )
    parser.add_argument(
        "--poison-rate",
        type=float,
        default=0.01,
        help="fraction of training pairs that carry the trigger (default 0.01)",
    )
    parser.add_argument(
        "--target", default="bag", help="caption class name of the attack's target (default bag)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of clean training and poisoning (default 0)"
    )
    parser.add_argument(
        "--limit", type=int, default=0, help="use only this many training images (0: all 60,000)"
    )

    # Defences.
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=[0, 1, 2], help="defence seeds (default 0 1 2)"
    )
    parser.add_argument(
        "--shots",
        type=int,
        default=16,
        help="clean training images per class for the defences (default 16)",
    )
    parser.add_argument(
        "--inversion-steps",
        type=int,
        default=300,
        help="Adam steps of the trigger inversion (default 300)",
    )
    parser.add_argument(
        "--prompt-steps",
        type=int,
        default=300,
        help="Adam steps of the prompt tuning (default 300)",
    )
    parser.add_argument(
        "--finetune-epochs",
        type=int,
        default=20,
        help="passes over the shots in the fine-tuning baselines (default 20)",
    )
    _common(parser)


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--update-readme", action="store_true", help="rewrite the backdoor table in README.md"
    )
    _common(parser)


def recorded_command(argv: list[str] | None = None) -> str:
    """Return the command line as a ``glimpse`` invocation, for checkpoint cards."""
    args = sys.argv[1:] if argv is None else argv
    return "glimpse " + shlex.join(args)


def train_command(args: argparse.Namespace) -> int:
    import torch

    from analysis.backdoor.pipeline import run_training

    torch.set_num_threads(max(1, args.threads))
    return run_training(args, recorded_command())


def eval_command(args: argparse.Namespace) -> int:
    import torch

    from analysis.backdoor.evaluate import run_evaluation

    torch.set_num_threads(max(1, args.threads))
    return run_evaluation(args)
