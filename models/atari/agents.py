"""One interface over every agent the dashboard can analyse.

An :class:`Agent` wraps a network with its own preprocessing and memory:

* ``shipped``: the PPO checkpoints trained here (``models/checkpoints/atari``).
* ``sb3-zip``: an SB3 / RL Zoo ``.zip`` from disk (:mod:`models.atari.zoo`).
* ``baby-a3c``: Greydanus's recurrent actor-critics (:mod:`models.atari.baby_a3c`).

Saliency code needs three things from an agent: the network input for a screen history
(:meth:`Agent.input_from_screens`), a batched forward function with any recurrent state held
fixed (:meth:`Agent.forward_fn`), and where its input sits on the screen (``input_rows``,
``input_cols``, ``input_size``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from data.atari import screen_to_obs_frame
from models.atari import baby_a3c
from models.atari.evaluate import load_actor_critic
from models.atari.zoo import load_zoo_zip
from models.registry import CHECKPOINT_ROOT, list_checkpoints

ForwardFn = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
AREA = "atari"


class AgentMismatchError(ValueError):
    """Raised when an agent does not fit the game or the input it is given."""


@dataclass
class Agent:
    """A network, its preprocessing, and where its input lies on the 210x160 screen.

    Attributes:
        name: display name.
        kind: ``"shipped"``, ``"sb3-zip"`` or ``"baby-a3c"``.
        game: Atari-HEAD style game name the agent plays, when known.
        network: the module; for feed-forward agents ``network(x) -> (logits, value)``, for
            ``baby-a3c`` ``network(x, hx) -> (logits, value, hx)``.
        n_actions: size of its action space.
        frames: screens per input (4 stacked frames, or 1 plus recurrent memory).
        input_size: side of its square input.
        input_rows, input_cols: screen rows and columns its input covers (start, stop).
        card: the checkpoint card or the file's metadata.
    """

    name: str
    kind: str
    game: str | None
    network: nn.Module
    n_actions: int
    frames: int
    input_size: int
    input_rows: tuple[int, int] = (0, 210)
    input_cols: tuple[int, int] = (0, 160)
    card: dict[str, Any] = field(default_factory=dict)

    @property
    def recurrent(self) -> bool:
        """Whether the agent carries a hidden state from frame to frame."""
        return self.kind == "baby-a3c"

    def input_from_screens(self, screens: Sequence[np.ndarray]) -> torch.Tensor:
        """Build the network input ``[C, H, W]`` in [0, 1] from the latest screens, oldest first.

        Stacked agents take the last ``frames`` screens (the first repeated when fewer are
        given); the recurrent agent takes the newest screen only.

        Raises:
            AgentMismatchError: no screen was given.
        """
        if not screens:
            raise AgentMismatchError("no screen given; pass at least the current 210x160 frame")
        if self.kind == "baby-a3c":
            return torch.from_numpy(baby_a3c.preprocess_screen(np.asarray(screens[-1])))
        recent = list(screens[-self.frames :])
        recent = [recent[0]] * (self.frames - len(recent)) + recent
        stack = np.stack([screen_to_obs_frame(np.asarray(s), self.input_size) for s in recent])
        return torch.from_numpy(stack.astype(np.float32) / 255.0)

    def input_from_obs(self, obs: np.ndarray) -> torch.Tensor:
        """Turn a ``uint8`` observation of :func:`data.atari.make_env` into the network input."""
        return torch.from_numpy(np.asarray(obs, dtype=np.float32) / 255.0)

    def initial_state(self) -> torch.Tensor | None:
        """Return the recurrent state at the start of an episode (``None`` if stateless)."""
        return torch.zeros(1, self.network.memory) if self.recurrent else None

    def forward_fn(self, state: torch.Tensor | None = None) -> ForwardFn:
        """Return ``x [B, C, H, W] -> (logits [B, A], value [B])`` with ``state`` held fixed.

        Perturbation saliency and Captum call it with many inputs at once; a recurrent
        state ``[1, M]`` is repeated to the batch size, as Greydanus's saliency does when it
        perturbs only the current frame.
        """
        network = self.network
        if self.recurrent:
            hidden = state if state is not None else self.initial_state()

            def recurrent_forward(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
                logits, value, _ = network(x, hidden.expand(x.shape[0], -1))
                return logits, value

            return recurrent_forward
        return network

    @torch.no_grad()
    def step(
        self, x: torch.Tensor, state: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Run one input ``[C, H, W]``; return ``(logits [A], value [], next state)``."""
        if self.recurrent:
            hidden = state if state is not None else self.initial_state()
            logits, value, new_state = self.network(x[None], hidden)
            return logits[0], value[0], new_state
        logits, value = self.forward_fn()(x[None])
        return logits[0], value[0], None

    def check_game(self, game: str, n_actions: int) -> None:
        """Raise :class:`AgentMismatchError` unless the agent can act in ``game``.

        Args:
            game: the game of the frames it will see.
            n_actions: the game's action count in the agent's action set.
        """
        if self.n_actions != n_actions:
            raise AgentMismatchError(
                f"{self.name} has {self.n_actions} actions but {game} has {n_actions}; "
                f"pick an agent trained on {game}"
                + (f" (this one plays {self.game})" if self.game and self.game != game else "")
            )


def _shipped_agent(stem: Path) -> Agent:
    network, card = load_actor_critic(stem)
    config = network.config
    return Agent(
        name=card["name"],
        kind="shipped",
        game=card.get("game"),
        network=network,
        n_actions=config.n_actions,
        frames=config.stack,
        input_size=84,
        card=card,
    )


def load_checkpoint_agent(stem: str | os.PathLike[str]) -> Agent:
    """Load an agent checkpoint from any folder, given its path without suffix.

    Raises:
        models.registry.CheckpointError: no such checkpoint, or it is not an agent.
    """
    return _shipped_agent(Path(stem))


def load_shipped(name: str, root: Path | None = None) -> Agent:
    """Load a shipped agent checkpoint by name (see :func:`shipped_agents`).

    Raises:
        models.registry.CheckpointError: no such checkpoint, or it is not an agent.
    """
    return _shipped_agent((root or CHECKPOINT_ROOT / AREA) / name)


def shipped_agents(root: Path | None = None) -> list[dict[str, Any]]:
    """Return the cards of the shipped agents, ordered by variant and frames seen."""
    folder = root or CHECKPOINT_ROOT
    cards = [
        info.card
        for info in list_checkpoints(AREA, root=folder)
        if info.card.get("architecture") == "NatureActorCritic" and info.weights.exists()
    ]
    return sorted(cards, key=lambda c: (c.get("variant", ""), c.get("frames", 0)))


def load_zoo_agent(path: str | os.PathLike[str], game: str | None = None) -> Agent:
    """Load an SB3 / RL Zoo ``.zip`` as an :class:`Agent` (see :mod:`models.atari.zoo`)."""
    zoo = load_zoo_zip(path)
    stack = zoo.observation_shape[0]
    return Agent(
        name=Path(path).name,
        kind="sb3-zip",
        game=game,
        network=zoo.network,
        n_actions=zoo.n_actions,
        frames=int(stack),
        input_size=84,
        card={
            "algorithm": zoo.algorithm,
            "policy_class": zoo.policy_class,
            "gamma": zoo.gamma,
            "sb3_version": zoo.sb3_version,
            "observation_shape": list(zoo.observation_shape),
        },
    )


def load_baby_a3c_agent(path: str | os.PathLike[str]) -> Agent:
    """Load a baby-a3c checkpoint as an :class:`Agent` (see :mod:`models.atari.baby_a3c`)."""
    network = baby_a3c.load_baby_a3c(path)
    return Agent(
        name=Path(path).name,
        kind="baby-a3c",
        game=baby_a3c.game_of(path),
        network=network,
        n_actions=network.n_actions,
        frames=1,
        input_size=baby_a3c.INPUT_SIZE,
        input_rows=baby_a3c.CROP_ROWS,
        card={"source": "greydanus/baby-a3c", "frames_trained": "80M", "env": "gym -v4"},
    )
