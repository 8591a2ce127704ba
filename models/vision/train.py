"""Train a :class:`SpikingConvNet` on Fashion-MNIST and save it as a checkpoint with its card.

``train(config)`` is the entry point; ``glimpse train vision`` wraps it. The first 55,000
training images are used for training and the last 5,000 for validation; the 10,000 test
images are only used for the final numbers on the card.
"""

from __future__ import annotations

import argparse
import logging
import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from data import fashion_mnist
from models.registry import CHECKPOINT_ROOT, git_commit, save_checkpoint
from models.vision.classifier import NEURON_KINDS, ClassifierConfig, SpikingConvNet

log = logging.getLogger(__name__)

VALIDATION_SIZE = 5_000
CHECKPOINT_AREA = "vision"


@dataclass(frozen=True)
class TrainConfig:
    """Everything one training run depends on.

    Attributes:
        model: the classifier architecture.
        data_dir: folder with the Fashion-MNIST IDX files.
        epochs: passes over the training images.
        batch_size: images per optimisation step.
        lr: peak AdamW learning rate (linear warm-up over the first epoch, then cosine decay).
        weight_decay: AdamW weight decay.
        seed: seed of torch and of the data order.
        limit: train on only this many images (0 for all); for tests and quick looks.
        eval_limit: measure validation and test accuracy on only this many images (0 for
            all); cards of shipped checkpoints always use all of them.
        out_dir: checkpoint folder, or None to skip saving.
        command: the command line recorded on the card.
    """

    model: ClassifierConfig = field(default_factory=ClassifierConfig)
    data_dir: str = ""
    epochs: int = 8
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0
    limit: int = 0
    eval_limit: int = 0
    out_dir: str | None = None
    command: str = ""


def checkpoint_name(neuron: str) -> str:
    """Checkpoint name of the classifier with ``neuron``: ``fmnist-<neuron>``."""
    return f"fmnist-{neuron}"


def _augment(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    # random horizontal flip and a random shift of up to 2 pixels (zero padding)
    flip = torch.rand(images.shape[0], generator=generator) < 0.5
    images = torch.where(flip.view(-1, 1, 1, 1), images.flip(-1), images)
    padded = F.pad(images, (2, 2, 2, 2))
    dx, dy = (int(v) for v in torch.randint(0, 5, (2,), generator=generator))
    return padded[..., dy : dy + 28, dx : dx + 28]


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """Convert uint8 images ``[N, 28, 28]`` to float ``[N, 1, 28, 28]`` in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).float().div_(255.0).unsqueeze(1)


@torch.no_grad()
def accuracy(
    model: SpikingConvNet,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    batch_size: int = 500,
    spike_inference: bool = False,
) -> float:
    """Top-1 accuracy of ``model`` (put in eval mode) on ``images [N, 1, 28, 28]``."""
    model.eval()
    correct = 0
    for start in range(0, len(images), batch_size):
        logits = model(images[start : start + batch_size], spike_inference=spike_inference)
        correct += int((logits.argmax(1) == labels[start : start + batch_size]).sum())
    return correct / max(len(images), 1)


def train(config: TrainConfig) -> dict[str, Any]:
    """Train one classifier and return its metrics; save it when ``config.out_dir`` is set.

    Returns:
        ``val_accuracy``, ``test_accuracy``, ``test_accuracy_spike_inference`` (integer
        neurons), ``history`` (validation accuracy per epoch) and ``train_seconds``.
    """
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    train_images, train_labels = fashion_mnist.load_split(config.data_dir, "train")
    test_images, test_labels = fashion_mnist.load_split(config.data_dir, "test")
    x_all, y_all = to_tensor(train_images), torch.from_numpy(train_labels)
    x_train, y_train = x_all[:-VALIDATION_SIZE], y_all[:-VALIDATION_SIZE]
    x_val, y_val = x_all[-VALIDATION_SIZE:], y_all[-VALIDATION_SIZE:]
    if config.limit:
        x_train, y_train = x_train[: config.limit], y_train[: config.limit]
    x_test, y_test = to_tensor(test_images), torch.from_numpy(test_labels)
    if config.eval_limit:
        x_val, y_val = x_val[: config.eval_limit], y_val[: config.eval_limit]
        x_test, y_test = x_test[: config.eval_limit], y_test[: config.eval_limit]

    model = SpikingConvNet(config.model)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    steps_per_epoch = math.ceil(len(x_train) / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    warmup = steps_per_epoch

    def lr_at(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(total_steps - warmup, 1)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_at)
    history = []
    started = time.perf_counter()
    for epoch in range(config.epochs):
        model.train()
        order = torch.randperm(len(x_train), generator=generator)
        progress = tqdm(
            range(steps_per_epoch),
            desc=f"{config.model.neuron} epoch {epoch + 1}",
            leave=False,
            mininterval=30,
        )
        for step in progress:
            index = order[step * config.batch_size : (step + 1) * config.batch_size]
            images = _augment(x_train[index], generator)

            # forward, cross-entropy on the time-averaged logits, backward through the surrogates
            loss = F.cross_entropy(model(images), y_train[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            progress.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
        val = accuracy(model, x_val, y_val)
        history.append(round(val, 4))
        log.info("%s epoch %d: validation accuracy %.4f", config.model.neuron, epoch + 1, val)
    seconds = time.perf_counter() - started

    metrics: dict[str, Any] = {
        "val_accuracy": history[-1] if history else None,
        "test_accuracy": accuracy(model, x_test, y_test),
        "history": history,
        "train_seconds": round(seconds, 1),
    }
    if config.model.is_integer:
        metrics["test_accuracy_spike_inference"] = accuracy(
            model, x_test, y_test, spike_inference=True
        )
    if config.out_dir:
        name = checkpoint_name(config.model.neuron)
        card = {
            "name": name,
            "area": CHECKPOINT_AREA,
            "architecture": "SpikingConvNet",
            "config": config.model.to_dict(),
            "data": {
                "dataset": "Fashion-MNIST (Xiao et al. 2017, MIT licence)",
                "train": "training images 1-55,000, random flip and 2-pixel shift",
                "validation": "training images 55,001-60,000",
                "test": "all 10,000 test images",
            },
            "training": {
                "epochs": config.epochs,
                "batch_size": config.batch_size,
                "optimizer": "AdamW",
                "lr": config.lr,
                "weight_decay": config.weight_decay,
                "schedule": "linear warm-up for one epoch, then cosine decay to 0",
                "limit": config.limit,
            },
            "command": config.command,
            "metrics": metrics,
            "seed": config.seed,
            "commit": git_commit(),
        }
        save_checkpoint(Path(config.out_dir) / name, model.state_dict(), card, dtype=torch.float16)
        log.info("saved %s", Path(config.out_dir) / name)
    return metrics


def resolve_data_dir(data_dir: str | None) -> str:
    """Return the Fashion-MNIST folder to read: the given one or the fetched copy.

    Raises:
        FileNotFoundError: neither exists; the message says how to get the data.
    """
    if data_dir:
        return data_dir
    root = fashion_mnist.default_root()
    if root is None:
        raise FileNotFoundError(
            "no Fashion-MNIST folder given and none fetched; pass --data-dir FOLDER or run "
            "`glimpse data fetch fashion-mnist`"
        )
    return str(root)


def run_from_args(args: argparse.Namespace) -> int:
    """Run ``glimpse train vision`` with parsed arguments."""
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        data_dir = resolve_data_dir(args.data_dir)
    except FileNotFoundError as error:
        log.error("%s", error)
        return 2
    kinds = NEURON_KINDS if args.neuron == "all" else (args.neuron,)
    out_dir = args.out_dir or str(CHECKPOINT_ROOT / CHECKPOINT_AREA)
    base = TrainConfig(
        data_dir=data_dir,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        limit=args.limit,
        out_dir=out_dir,
    )
    for kind in kinds:
        command = (
            f"glimpse train vision --neuron {kind} --epochs {args.epochs} --batch-size "
            f"{args.batch_size} --lr {args.lr} --seed {args.seed}"
            + (f" --limit {args.limit}" if args.limit else "")
            + " --data-dir FASHION_MNIST_DIR"
        )
        config = replace(base, model=ClassifierConfig(neuron=kind), command=command)
        metrics = train(config)
        print(f"{kind}: test accuracy {metrics['test_accuracy']:.4f}")
    return 0
