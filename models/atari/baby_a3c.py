"""The recurrent actor-critic of baby-a3c (Greydanus 2017), and its checkpoint loader.

These are the agents behind Greydanus et al., "Visualizing and Understanding Atari Agents"
(ICML 2018), trained for 80 M frames on the gym ``-v4`` environments (Breakout, Pong,
SpaceInvaders). The checkpoints are PyTorch 0.4 ``state_dict`` files in the legacy
(pre-zip) serialisation; :func:`load_baby_a3c` reads them with ``torch.load(...,
weights_only=True)``, which restores tensors only and never runs pickled code.

Network (input ``[B, 1, 80, 80]``, hidden state ``[B, 256]``)::

    x  = ELU(conv 32@3x3 s2 p1) four times           # 80 -> 40 -> 20 -> 10 -> 5
    hx = GRUCell(800 -> 256)(flatten(x), hx)
    value = critic_linear(hx)    logits = actor_linear(hx)

Preprocessing (baby-a3c's ``prepro``): screen rows 35..194, mean over RGB, resized to 80x80
with ``scipy.misc.imresize`` and divided by 255. ``imresize`` (SciPy <= 1.2, since removed)
first byte-scaled a float image, mapping its minimum to 0 and maximum to 255, then resized
with PIL's bilinear filter; :func:`preprocess_screen` reconstructs that behaviour.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

INPUT_SIZE = 80
CROP_ROWS = (35, 195)  # screen rows kept by baby-a3c's prepro (top, one past bottom)
MEMORY = 256  # GRU hidden size
# Game of each published checkpoint, from the file name prefix.
GAMES = {"breakout": "breakout", "pong": "pong", "spaceinvaders": "space_invaders"}


class BabyA3CError(ValueError):
    """Raised for a file that is not a baby-a3c checkpoint; the message names the fix."""


class BabyA3CPolicy(nn.Module):
    """Greydanus's ``NNPolicy`` with the original parameter names."""

    def __init__(self, n_actions: int, channels: int = 1, memory: int = MEMORY) -> None:
        super().__init__()
        self.n_actions = n_actions
        self.memory = memory
        self.conv1 = nn.Conv2d(channels, 32, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(32, 32, 3, stride=2, padding=1)
        self.conv3 = nn.Conv2d(32, 32, 3, stride=2, padding=1)
        self.conv4 = nn.Conv2d(32, 32, 3, stride=2, padding=1)
        self.gru = nn.GRUCell(32 * 5 * 5, memory)
        self.critic_linear = nn.Linear(memory, 1)
        self.actor_linear = nn.Linear(memory, n_actions)

    def forward(
        self, x: torch.Tensor, hx: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return ``(logits [B, A], value [B], new hx [B, 256])`` for ``x`` ``[B, 1, 80, 80]``."""
        h = F.elu(self.conv1(x))
        h = F.elu(self.conv2(h))
        h = F.elu(self.conv3(h))
        h = F.elu(self.conv4(h))  # [B, 32, 5, 5]
        hx = self.gru(h.flatten(1), hx)
        return self.actor_linear(hx), self.critic_linear(hx).squeeze(-1), hx


def _bytescale(values: np.ndarray) -> np.ndarray:
    # scipy.misc.bytescale with cmin = min, cmax = max, low 0, high 255.
    low, high = float(values.min()), float(values.max())
    scale = 255.0 / (high - low) if high > low else 1.0
    scaled = (values - low) * scale
    return (np.clip(scaled, 0, 255) + 0.5).astype(np.uint8)


def preprocess_screen(screen: np.ndarray) -> np.ndarray:
    """Turn a 210x160x3 RGB screen into baby-a3c's ``[1, 80, 80]`` ``float32`` input in [0, 1]."""
    if screen.shape != (210, 160, 3):
        raise ValueError(f"screen has shape {screen.shape}; expected [210, 160, 3] RGB")
    gray = screen[CROP_ROWS[0] : CROP_ROWS[1]].astype(np.float64).mean(axis=2)
    image = Image.fromarray(_bytescale(gray), mode="L").resize(
        (INPUT_SIZE, INPUT_SIZE), Image.Resampling.BILINEAR
    )
    return (np.asarray(image, dtype=np.float32) / 255.0).reshape(1, INPUT_SIZE, INPUT_SIZE)


def game_of(path: str | os.PathLike[str]) -> str | None:
    """Return the game of a baby-a3c file named like ``breakout-v4.model.80.tar``, if known."""
    match = re.match(r"([a-z]+)-v\d", Path(path).name.lower())
    return GAMES.get(match.group(1)) if match else None


def load_baby_a3c(path: str | os.PathLike[str]) -> BabyA3CPolicy:
    """Load a baby-a3c checkpoint without unpickling code.

    Raises:
        BabyA3CError: the file is missing, is not a tensor-only ``state_dict``, or does not
            have the ``NNPolicy`` layers.
    """
    path = Path(path)
    if not path.is_file():
        raise BabyA3CError(f"baby-a3c checkpoint {path} not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises UnpicklingError, RuntimeError or EOFError here
        raise BabyA3CError(
            f"{path} is not a tensor-only PyTorch state_dict ({type(error).__name__}: {error}); "
            "only baby-a3c *.model.*.tar files are accepted, and code in pickles is never run"
        ) from error
    if not isinstance(state, dict) or "actor_linear.weight" not in state:
        raise BabyA3CError(
            f"{path} does not hold baby-a3c NNPolicy weights (no actor_linear.weight); "
            "pick a file such as breakout-v4.model.80.tar"
        )
    n_actions = int(state["actor_linear.weight"].shape[0])
    channels = int(state["conv1.weight"].shape[1]) if "conv1.weight" in state else 1
    memory = int(state["actor_linear.weight"].shape[1])
    model = BabyA3CPolicy(n_actions, channels, memory)
    try:
        model.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    except RuntimeError as error:
        raise BabyA3CError(
            f"{path} does not match the baby-a3c NNPolicy layers: {error}"
        ) from error
    return model.eval()
