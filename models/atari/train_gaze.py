"""Train the human gaze model (:class:`models.atari.gaze_net.GazeNet`) on an Atari-HEAD trial.

Inputs are the trial's frames in the agents' preprocessing (84x84 luminance, the last four
frames stacked, :func:`data.atari.screen_to_obs_frame`); targets are the frame's gaze heat
map at 84x84 (:func:`analysis.saliency.gaze.heat_map`, one visual degree of blur). Frames
without an on-screen gaze sample are skipped.

The labelled frames are split in time: the last ``held_out`` fraction is one contiguous block
of held-out frames, and the ``stack - 1`` frames before it are dropped from training so that
no training input shares a frame with a held-out input. The last ``validation`` fraction of
the remaining frames is split off the same way and picks the epoch: training keeps the
weights with the lowest validation KL and stops after ``patience`` epochs without a new
minimum (one trial is far less data than the authors' whole game, so the network overfits
within a few epochs). The held-out block is only scored once, at the end. Optimiser and loss
follow Zhang et al. 2018: Adadelta (learning rate 1.0, rho 0.95) on
``KL(heat map || prediction)``.

After training, the held-out metrics (NSS, AUC-Judd, KL, CC, per frame then averaged) are
computed for the model and for a centre-bias baseline (the mean training heat map), and stored
in the card beside the Atari-HEAD paper's figures for the same game.
"""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from analysis.saliency import metrics
from analysis.saliency.gaze import GazeError, fixation_map, heat_map
from data.atari import screen_to_obs_frame
from data.atari_head import AtariHeadTrial
from models.atari.gaze_net import GazeNet, GazeNetConfig, kl_loss
from models.registry import CHECKPOINT_ROOT, git_commit, save_checkpoint

log = logging.getLogger(__name__)

AREA = "atari"
# Held-out scores of the Atari-HEAD gaze network (Zhang et al. 2020, supplementary table).
PAPER_METRICS = {
    "ms_pacman": {"nss": 4.674, "auc": 0.945, "kl": 1.858, "cc": 0.453},
    "breakout": {"nss": 6.147, "auc": 0.972, "kl": 1.266, "cc": 0.583},
    "freeway": {"nss": 7.621, "auc": 0.976, "kl": 1.133, "cc": 0.641},
    "asterix": {"nss": 4.846, "auc": 0.966, "kl": 1.556, "cc": 0.485},
    "seaquest": {"nss": 6.350, "auc": 0.964, "kl": 1.469, "cc": 0.552},
    "enduro": {"nss": 8.421, "auc": 0.988, "kl": 0.830, "cc": 0.703},
    "centipede": {"nss": 5.056, "auc": 0.956, "kl": 1.750, "cc": 0.473},
}


@dataclass(frozen=True)
class GazeTrainConfig:
    """One gaze model training run.

    Attributes:
        trial: the trial's ``.txt`` label file (its ``.tar.bz2`` beside it).
        game: Atari-HEAD game name of the trial.
        name: checkpoint name.
        epochs, batch_size, lr, rho: Adadelta training settings; ``epochs`` is the maximum.
        held_out: fraction of labelled frames held out, as the trial's last block.
        validation: fraction of the remaining frames, their last block, that picks the epoch.
        patience: epochs without a lower validation KL before training stops.
        dropout: dropout after each hidden block.
        limit: use only the first ``limit`` labelled frames (0: all), for quick runs.
        seed, threads: reproducibility and CPU threads.
        out_dir: checkpoint folder; ``None`` writes no checkpoint.
        command: the command line recorded in the card.
    """

    trial: str
    game: str = "ms_pacman"
    name: str = "gaze-ms_pacman"
    epochs: int = 30
    batch_size: int = 32
    lr: float = 1.0
    rho: float = 0.95
    held_out: float = 0.2
    validation: float = 0.1
    patience: int = 4
    dropout: float = 0.0
    limit: int = 0
    seed: int = 0
    threads: int = 1
    out_dir: str | None = str(CHECKPOINT_ROOT / AREA)
    command: str = ""

    def __post_init__(self) -> None:
        if not 0.0 < self.held_out < 1.0:
            raise ValueError(f"held_out must be a fraction in (0, 1), got {self.held_out}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(
                f"epochs and batch_size must be positive, got {self.epochs} and {self.batch_size}"
            )


@dataclass(frozen=True)
class GazeDataset:
    """Stacked inputs, heat maps and fixation maps of a trial's labelled frames.

    Attributes:
        frame_ids: frame id of each row.
        inputs: ``uint8`` ``[N, 4, 84, 84]``.
        heat_maps: ``float32`` ``[N, 84, 84]``, each summing to 1.
        fixations: ``bool`` ``[N, 84, 84]``, fixated cells.
    """

    frame_ids: list[str]
    inputs: np.ndarray
    heat_maps: np.ndarray
    fixations: np.ndarray


def stacked_obs(trial: AtariHeadTrial, frame_id: str, stack: int = 4) -> np.ndarray:
    """Return the ``uint8`` ``[stack, 84, 84]`` input of ``frame_id``: it and the frames before."""
    return np.stack(
        [screen_to_obs_frame(trial.frame(f)) for f in trial.previous_ids(frame_id, stack)]
    )


def build_dataset(trial: AtariHeadTrial, frame_ids: list[str], stack: int = 4) -> GazeDataset:
    """Build the inputs and targets of ``frame_ids``, skipping frames without on-screen gaze."""
    kept, inputs, heat, fixated = [], [], [], []
    for frame_id in frame_ids:
        gaze = trial.gaze(frame_id)
        try:
            target = heat_map(gaze, (84, 84))
        except GazeError:
            continue
        kept.append(frame_id)
        inputs.append(stacked_obs(trial, frame_id, stack))
        heat.append(target.astype(np.float32))
        fixated.append(fixation_map(gaze, (84, 84)).fixation_map > 0)
    if not kept:
        raise ValueError(f"no frame of trial {trial.name} has on-screen gaze; pick another trial")
    return GazeDataset(kept, np.stack(inputs), np.stack(heat), np.stack(fixated))


def split_frames(
    frame_ids: list[str], held_out: float, stack: int = 4
) -> tuple[list[str], list[str]]:
    """Split ordered frame ids into a training part and a final held-out block with a gap."""
    n_held = max(1, round(len(frame_ids) * held_out))
    start = len(frame_ids) - n_held
    train_ids = frame_ids[: max(0, start - (stack - 1))]
    if not train_ids:
        raise ValueError(
            f"{len(frame_ids)} labelled frames leave nothing to train on with held_out={held_out}"
        )
    return train_ids, frame_ids[start:]


def evaluate_maps(
    predictions: np.ndarray, heat_maps: np.ndarray, fixations: np.ndarray
) -> dict[str, float]:
    """Average NSS, AUC-Judd, KL(heat || prediction) and CC over frames."""
    scores: dict[str, list[float]] = {"nss": [], "auc": [], "kl": [], "cc": []}
    for prediction, heat, fixated in zip(predictions, heat_maps, fixations, strict=True):
        scores["nss"].append(metrics.nss(prediction, fixated))
        scores["auc"].append(metrics.auc_judd(prediction, fixated))
        scores["kl"].append(metrics.kl_divergence(heat, prediction))
        scores["cc"].append(metrics.cc(prediction, heat))
    return {key: float(np.mean(values)) for key, values in scores.items()}


def _mean_kl(model: GazeNet, dataset: GazeDataset) -> float:
    prediction = torch.from_numpy(predict(model, dataset.inputs)).clamp_min(1e-300)
    return float(kl_loss(prediction.log(), torch.from_numpy(dataset.heat_maps).double()))


@torch.no_grad()
def predict(model: GazeNet, inputs: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Return gaze probabilities ``[N, 84, 84]`` for ``uint8`` inputs ``[N, 4, 84, 84]``."""
    model.eval()
    out = []
    for start in range(0, len(inputs), batch_size):
        x = torch.from_numpy(inputs[start : start + batch_size]).float() / 255.0
        out.append(model.predict(x).double().numpy())
    return np.concatenate(out)


def _portable(train_config: dict) -> dict:
    """Write the checkpoint folder relative to the repository when it lies inside it."""
    out_dir = train_config.get("out_dir")
    if out_dir:
        try:
            relative = Path(out_dir).resolve().relative_to(CHECKPOINT_ROOT.parent.parent)
        except ValueError:
            return train_config
        train_config = {**train_config, "out_dir": str(relative)}
    return train_config


def train(config: GazeTrainConfig) -> dict[str, Any]:
    """Train the gaze model, evaluate it on the held-out block, and save it with its card.

    Returns:
        ``{"held_out": {...}, "baseline": {...}, "paper": {...}, "train_frames": n, ...}``.
    """
    if config.threads > 0:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    started = time.monotonic()

    # Data: the trial's labelled frames in order, split in time.
    trial = AtariHeadTrial(config.trial)
    labelled = trial.labelled_frame_ids
    if config.limit:
        labelled = labelled[: config.limit]
    fit_ids, held_ids = split_frames(labelled, config.held_out)
    train_ids, val_ids = split_frames(fit_ids, config.validation)
    train_set = build_dataset(trial, train_ids)
    val_set = build_dataset(trial, val_ids)
    held_set = build_dataset(trial, held_ids)
    log.info(
        "gaze data: %d training, %d validation and %d held-out frames",
        len(train_set.frame_ids),
        len(val_set.frame_ids),
        len(held_set.frame_ids),
    )

    net_config = GazeNetConfig(dropout=config.dropout)
    model = GazeNet(net_config)
    optimizer = torch.optim.Adadelta(model.parameters(), lr=config.lr, rho=config.rho, eps=1e-7)
    inputs = torch.from_numpy(train_set.inputs)
    targets = torch.from_numpy(train_set.heat_maps)
    history = []
    best_kl, best_epoch, best_state = float("inf"), 0, model.state_dict()
    for epoch in range(config.epochs):
        # One pass over the training frames in a fresh random order.
        model.train()
        order = rng.permutation(len(inputs))
        total = 0.0
        for start in range(0, len(order), config.batch_size):
            index = torch.from_numpy(order[start : start + config.batch_size])
            loss = kl_loss(model(inputs[index].float() / 255.0), targets[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(index)
        val_kl = _mean_kl(model, val_set)
        history.append(
            {"epoch": epoch + 1, "train_kl": total / len(order), "validation_kl": val_kl}
        )
        log.info(
            "epoch %d: train KL %.4f, validation KL %.4f", epoch + 1, total / len(order), val_kl
        )
        if val_kl < best_kl:
            best_kl, best_epoch = val_kl, epoch + 1
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        elif epoch + 1 - best_epoch >= config.patience:
            log.info("validation KL has not improved for %d epochs; stopping", config.patience)
            break
    model.load_state_dict(best_state)

    # Held-out metrics of the model and of the centre-bias baseline.
    held_metrics = evaluate_maps(
        predict(model, held_set.inputs), held_set.heat_maps, held_set.fixations
    )
    prior = train_set.heat_maps.mean(axis=0).astype(np.float64)
    baseline = evaluate_maps(
        np.repeat(prior[None], len(held_set.frame_ids), axis=0),
        held_set.heat_maps,
        held_set.fixations,
    )
    result = {
        "held_out": held_metrics,
        "centre_bias_baseline": baseline,
        "paper": PAPER_METRICS.get(config.game),
        "train_frames": len(train_set.frame_ids),
        "validation_frames": len(val_set.frame_ids),
        "best_epoch": best_epoch,
        "best_validation_kl": best_kl,
        "held_out_frames": len(held_set.frame_ids),
        "held_out_first": held_set.frame_ids[0],
        "held_out_last": held_set.frame_ids[-1],
        "history": history,
        "train_seconds": round(time.monotonic() - started, 1),
    }
    if config.out_dir:
        card = {
            "name": config.name,
            "area": AREA,
            "architecture": "GazeNet",
            "config": {"model": asdict(net_config), "train": _portable(asdict(config))},
            "data": (
                f"Atari-HEAD trial {trial.name} ({config.game}), frames "
                f"{train_set.frame_ids[0]}..{train_set.frame_ids[-1]} for training; held out "
                f"{held_set.frame_ids[0]}..{held_set.frame_ids[-1]}. CC BY 4.0, Zhang et al. 2020"
            ),
            "command": config.command or "models.atari.train_gaze.train(GazeTrainConfig(...))",
            "metrics": result,
            "seed": config.seed,
            "commit": git_commit(),
            "game": config.game,
        }
        save_checkpoint(
            Path(config.out_dir) / config.name, model.state_dict(), card, dtype=torch.float16
        )
    return result


def run_from_args(args: argparse.Namespace, command: str) -> int:
    """Run ``glimpse train atari gaze`` from parsed arguments."""
    import sys

    from data.atari_head import TrialError, default_trial

    trial = args.trial or default_trial("ms_pacman")
    if trial is None:
        print(
            "no Ms. Pac-Man trial found; pass --trial PATH.txt or run "
            "`glimpse data fetch atari-head --game ms_pacman`",
            file=sys.stderr,
        )
        return 2
    kwargs: dict[str, Any] = {
        "trial": str(trial),
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "held_out": args.held_out,
        "dropout": args.dropout,
        "patience": args.patience,
        "limit": args.limit,
        "seed": args.seed,
        "threads": args.threads,
        "command": command,
    }
    if args.out_dir:
        kwargs["out_dir"] = args.out_dir
    try:
        result = train(GazeTrainConfig(**kwargs))
    except (TrialError, ValueError) as error:
        print(f"gaze training failed: {error}", file=sys.stderr)
        return 2
    held, paper = result["held_out"], result["paper"] or {}
    for key in ("nss", "auc", "kl", "cc"):
        reference = paper.get(key, float("nan"))
        print(f"{key.upper():4s} held-out {held[key]:.3f}   Atari-HEAD paper {reference:.3f}")
    return 0
