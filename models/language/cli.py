"""``glimpse train language`` and ``glimpse eval language``."""

from __future__ import annotations

import argparse

MODEL_CHOICES = (
    "tokenizer",
    "wd-spikingformer",
    "we-spikingformer",
    "spikformer-causal",
    "spikformer-masked",
    "ann-causal",
    "ann-masked",
    "all",
)


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        default="all",
        choices=MODEL_CHOICES,
        help="what to train: the tokenizer, one model, or 'all' six models (default all); "
        "the tokenizer is trained first whenever it is missing",
    )
    parser.add_argument(
        "--data-dir", help="folder with the Austen novels (default: the fetched copy)"
    )
    parser.add_argument(
        "--steps", type=int, default=400, help="optimiser steps per model (default 400)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=16, help="windows of 128 tokens per step (default 16)"
    )
    parser.add_argument(
        "--lr", type=float, default=2e-3, help="peak AdamW learning rate (default 2e-3)"
    )
    parser.add_argument(
        "--neuron",
        default="nilif",
        choices=("nilif", "nasn"),
        help="spiking neuron, D = 4 (default nilif)",
    )
    parser.add_argument(
        "--top-k", type=int, default=1, help="keys each query selects in WSSA (default 1)"
    )
    parser.add_argument(
        "--vocab-size", type=int, default=1024, help="BPE vocabulary size (default 1024)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--threads", type=int, default=0, help="torch CPU threads; 0 keeps torch's default"
    )
    parser.add_argument(
        "--out-dir", help="checkpoint folder (default: models/checkpoints/language)"
    )


def train_command(args: argparse.Namespace) -> int:
    from models.language.train import run_from_args

    return run_from_args(args)


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", help="folder with the Austen novels (default: the fetched copy)"
    )
    parser.add_argument(
        "--update-readme",
        action="store_true",
        help="rewrite the language results table in README.md",
    )
    parser.add_argument(
        "--max-windows",
        type=int,
        default=0,
        help="evaluate only this many validation windows (0: all)",
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="torch CPU threads; 0 keeps torch's default"
    )


def eval_command(args: argparse.Namespace) -> int:
    from models.language.evaluate import run_from_args

    return run_from_args(args)
