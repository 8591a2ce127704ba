"""The human gaze prediction network of Zhang et al. 2018 (AGIL, ECCV 2018).

It predicts where a human player looks from the last four frames, as a probability
distribution over the 84x84 grid. Layers (Keras ``valid`` padding, as in the authors' code)::

    x [B, 4, 84, 84] in [0, 1]
    conv 32@8x8 s4 -> ReLU -> BN     # 20x20
    conv 64@4x4 s2 -> ReLU -> BN     # 9x9
    conv 64@3x3 s1 -> ReLU -> BN     # 7x7
    deconv 64@3x3 s1 -> ReLU -> BN   # 9x9
    deconv 32@4x4 s2 -> ReLU -> BN   # 20x20
    deconv 1@8x8 s4                  # 84x84
    softmax over all 84*84 pixels

Batch normalisation uses Keras's defaults (momentum 0.99, i.e. PyTorch ``momentum=0.01``,
``eps=1e-3``). The loss is ``KL(target || prediction)`` with both clipped at ``1e-10``
(:func:`kl_loss`). The authors also subtracted a per-game mean image from the input; this
network does not, and relies on the first batch normalisation instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from models.registry import CheckpointError, load_checkpoint, load_into

KL_CLIP = 1e-10  # the authors' clipping inside the KL loss
BN_MOMENTUM = 0.01  # Keras BatchNormalization momentum 0.99
BN_EPS = 1e-3  # Keras BatchNormalization epsilon


@dataclass(frozen=True)
class GazeNetConfig:
    """Shape of :class:`GazeNet`.

    Attributes:
        stack: stacked input frames.
        size: side of the square input and output.
        dropout: dropout after each hidden block (0 in the authors' Atari-HEAD models).
    """

    stack: int = 4
    size: int = 84
    dropout: float = 0.0


class GazeNet(nn.Module):
    """Map stacked frames ``[B, 4, 84, 84]`` to log-probabilities ``[B, 84, 84]`` of gaze."""

    def __init__(self, config: GazeNetConfig = GazeNetConfig()) -> None:
        super().__init__()
        if config.size != 84:
            raise ValueError(f"GazeNet's layer sizes give an 84x84 output; got size {config.size}")
        self.config = config

        def block(layer: nn.Module, channels: int) -> nn.Sequential:
            return nn.Sequential(
                layer,
                nn.ReLU(),
                nn.BatchNorm2d(channels, momentum=BN_MOMENTUM, eps=BN_EPS),
                nn.Dropout(config.dropout),
            )

        self.encoder = nn.Sequential(
            block(nn.Conv2d(config.stack, 32, 8, stride=4), 32),
            block(nn.Conv2d(32, 64, 4, stride=2), 64),
            block(nn.Conv2d(64, 64, 3, stride=1), 64),
        )
        self.decoder = nn.Sequential(
            block(nn.ConvTranspose2d(64, 64, 3, stride=1), 64),
            block(nn.ConvTranspose2d(64, 32, 4, stride=2), 32),
            nn.ConvTranspose2d(32, 1, 8, stride=4),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return log-probabilities ``[B, 84, 84]`` that sum (in probability) to 1 per frame."""
        logits = self.decoder(self.encoder(x))  # [B, 1, 84, 84]
        flat = logits.flatten(1)  # [B, 84*84]
        return F.log_softmax(flat, dim=1).view(-1, self.config.size, self.config.size)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Return probabilities ``[B, 84, 84]``."""
        return self(x).exp()


def kl_loss(log_prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Return the batch mean of ``sum target * log(target / prediction)``, both clipped at 1e-10.

    Args:
        log_prediction: ``[B, H, W]`` log-probabilities from :class:`GazeNet`.
        target: ``[B, H, W]`` human heat maps, each summing to 1.
    """
    target = target.clamp_min(KL_CLIP)
    prediction = log_prediction.exp().clamp_min(KL_CLIP)
    per_frame = (target * (target.log() - prediction.log())).flatten(1).sum(1)
    return per_frame.mean()


def load_gaze_model(stem: str | os.PathLike[str]) -> tuple[GazeNet, dict[str, Any]]:
    """Load a gaze model checkpoint in eval mode, with its card.

    Raises:
        models.registry.CheckpointError: missing, unreadable, or not a ``GazeNet``.
    """
    state, card = load_checkpoint(stem)
    if card.get("architecture") != "GazeNet":
        raise CheckpointError(
            f"{stem} holds a {card.get('architecture')!r}, not a gaze model; pick the "
            "checkpoint whose card says architecture GazeNet"
        )
    model = GazeNet(GazeNetConfig(**card["config"]["model"]))
    load_into(model, state, str(stem))
    return model.eval(), card
