"""Train SpikCommander on FSDD: ``train(config) -> metrics``, with a thin command line around it.

Recipe (the authors' speech-command settings, scaled to a CPU): AdamW, learning rate 2e-3,
weight decay 0.005, batch 32, cosine decay over the run (the authors restart the cosine every
40 epochs over 300), the augmentation of :class:`models.speech.batches.AugmentConfig`, and the
loss on the summed per-step softmax. The checkpoint is the last epoch's; the test split is
never used to choose it.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from data import fsdd
from data.spectrogram import FrontEndConfig
from models.registry import checkpoint_stem, git_commit, save_checkpoint
from models.speech.batches import AugmentConfig, FeatureMaker
from models.speech.config import SpikCommanderConfig
from models.speech.spikcommander import (
    SpikCommander,
    count_parameters,
    spikcommander_loss,
    summed_probabilities,
)

log = logging.getLogger(__name__)

AREA = "speech"


@dataclass(frozen=True)
class TrainConfig:
    """One training run on FSDD.

    Attributes:
        data_dir: folder with the FSDD recordings (or its ``recordings`` subfolder).
        split: ``"recordings"`` (indices 0-4 held out) or ``"speaker"`` (one speaker held out).
        held_out_speaker: the speaker left out by the ``"speaker"`` split.
        model: architecture.
        front_end: log-mel settings.
        augment: training augmentation; None for none.
        epochs: passes over the training recordings.
        batch_size: recordings per step.
        lr: peak AdamW learning rate.
        weight_decay: AdamW weight decay.
        seed: seed of torch and numpy.
        threads: torch CPU threads; 0 keeps torch's default.
        limit: use only this many training recordings (0: all); for tests.
        name: checkpoint name; None to save nothing.
        out_dir: checkpoint folder; None for ``models/checkpoints/speech``.
        command: the command line stored in the checkpoint card.
    """

    data_dir: str
    split: str = "recordings"
    held_out_speaker: str = fsdd.DEFAULT_HELD_OUT_SPEAKER
    model: SpikCommanderConfig = field(default_factory=SpikCommanderConfig)
    front_end: FrontEndConfig = field(default_factory=FrontEndConfig)
    augment: AugmentConfig | None = field(default_factory=AugmentConfig)
    epochs: int = 50
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 0.005
    seed: int = 312  # the authors' seed
    threads: int = 0
    limit: int = 0
    name: str | None = None
    out_dir: str | None = None
    command: str = ""

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(
                f"epochs and batch_size must be positive, got {self.epochs} and {self.batch_size}"
            )
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        if self.split not in fsdd.SPLITS:
            raise ValueError(f"split must be one of {fsdd.SPLITS}, got {self.split!r}")


@torch.no_grad()
def evaluate(
    model: SpikCommander,
    waveforms: list[np.ndarray],
    labels: np.ndarray,
    features: FeatureMaker,
    batch_size: int = 100,
) -> tuple[float, np.ndarray]:
    """Return ``(accuracy, confusion [n_classes, n_classes])`` with rows as true labels.

    Each recording is centred (or its loudest second kept) as at inference; no augmentation.
    """
    model.eval()
    n_classes = model.config.n_classes
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    for start in range(0, len(waveforms), batch_size):
        x = features(waveforms[start : start + batch_size])
        predicted = summed_probabilities(model(x)).argmax(-1).numpy()
        np.add.at(confusion, (labels[start : start + batch_size], predicted), 1)
    accuracy = float(np.trace(confusion) / max(confusion.sum(), 1))
    return accuracy, confusion


def _cosine_lr(step: int, total: int, peak: float) -> float:
    return 0.5 * peak * (1.0 + math.cos(math.pi * min(step, total) / total))


def train(config: TrainConfig) -> dict[str, Any]:
    """Train one model, evaluate it on the held-out split and save it when ``config.name`` is set.

    Returns:
        Metrics: ``test_accuracy``, ``train_accuracy`` (last epoch, augmented),
        ``confusion`` (test, rows true), ``parameters``, ``train_seconds``,
        ``samples_per_second``, ``history`` (per-epoch loss and accuracies), the split sizes,
        and ``checkpoint`` (the saved stem or None).
    """
    if config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)

    # Data: the split, then every waveform in memory (FSDD is 27 MB).
    recordings = fsdd.list_recordings(config.data_dir)
    train_set, test_set = fsdd.split_recordings(recordings, config.split, config.held_out_speaker)
    if config.limit:
        order = rng.permutation(len(train_set))[: config.limit]
        train_set = [train_set[i] for i in sorted(order)]
    train_waves = fsdd.load_waveforms(train_set)
    test_waves = fsdd.load_waveforms(test_set)
    train_labels = np.array([r.digit for r in train_set])
    test_labels = np.array([r.digit for r in test_set])
    log.info(
        "FSDD split %s: %d train, %d test recordings", config.split, len(train_set), len(test_set)
    )

    model = SpikCommander(config.model)
    features = FeatureMaker(config.front_end)
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad],
        lr=config.lr,
        weight_decay=config.weight_decay,
    )
    steps_per_epoch = math.ceil(len(train_set) / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    history = []
    step = 0
    started = time.perf_counter()

    for epoch in range(config.epochs):
        model.train()
        order = rng.permutation(len(train_set))
        loss_sum, correct = 0.0, 0
        for start in range(0, len(order), config.batch_size):
            index = order[start : start + config.batch_size]

            # Batch: augmented log-mel inputs [T, B, F].
            x = features([train_waves[i] for i in index], config.augment, rng)
            y = torch.from_numpy(train_labels[index])

            # Loss on the summed per-step softmax, then an AdamW step on the cosine schedule.
            for group in optimizer.param_groups:
                group["lr"] = _cosine_lr(step, total_steps, config.lr)
            logits = model(x)
            loss = spikcommander_loss(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1

            loss_sum += loss.item() * len(index)
            correct += int((summed_probabilities(logits.detach()).argmax(-1) == y).sum())

        test_accuracy, _ = evaluate(model, test_waves, test_labels, features)
        history.append(
            {
                "epoch": epoch + 1,
                "loss": loss_sum / len(order),
                "train_accuracy": correct / len(order),
                "test_accuracy": test_accuracy,
            }
        )
        log.info(
            "epoch %d/%d loss %.4f train %.3f test %.3f (%.0f s)",
            epoch + 1,
            config.epochs,
            history[-1]["loss"],
            history[-1]["train_accuracy"],
            test_accuracy,
            time.perf_counter() - started,
        )

    train_seconds = time.perf_counter() - started
    test_accuracy, confusion = evaluate(model, test_waves, test_labels, features)
    metrics: dict[str, Any] = {
        "test_accuracy": test_accuracy,
        "train_accuracy": history[-1]["train_accuracy"],
        "confusion": confusion.tolist(),
        "parameters": count_parameters(model),
        "train_recordings": len(train_set),
        "test_recordings": len(test_set),
        "train_seconds": round(train_seconds, 1),
        "samples_per_second": round(len(train_set) * config.epochs / train_seconds, 1),
        "history": history,
        "checkpoint": None,
    }
    if config.name:
        metrics["checkpoint"] = str(save_model(model, config, metrics))
    return metrics


def split_description(config: TrainConfig) -> str:
    """One sentence naming the data and the held-out part of a run."""
    if config.split == "recordings":
        return (
            "FSDD (Free Spoken Digit Dataset, commit "
            f"{fsdd.FSDD_COMMIT[:7]}): trained on recordings 5-49 of all 6 speakers, tested on "
            "recordings 0-4 (the dataset's test split, 300 files)"
        )
    return (
        f"FSDD (commit {fsdd.FSDD_COMMIT[:7]}): trained on all recordings of 5 speakers, tested "
        f"on all 500 recordings of the held-out speaker {config.held_out_speaker!r}"
    )


def save_model(model: SpikCommander, config: TrainConfig, metrics: dict[str, Any]) -> Path:
    """Save the weights (fp16) and the card; return the checkpoint stem."""
    stem = (
        Path(config.out_dir) / config.name if config.out_dir else checkpoint_stem(AREA, config.name)
    )
    train_config = {
        key: value
        for key, value in asdict(config).items()
        if key not in ("model", "front_end", "data_dir", "out_dir", "command", "name")
    }
    card = {
        "name": config.name,
        "area": AREA,
        "architecture": f"SpikCommander ({config.model.variant})",
        "config": {
            "model": config.model.to_dict(),
            "front_end": asdict(config.front_end),
            "train": train_config,
        },
        "data": split_description(config),
        "command": config.command,
        "metrics": {key: value for key, value in metrics.items() if key != "checkpoint"},
        "seed": config.seed,
        "commit": git_commit(),
    }
    state = model.state_dict()
    save_checkpoint(stem, state, card, dtype=torch.float16)
    log.info("saved %s", stem)
    return stem
