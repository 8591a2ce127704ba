"""Evaluate shipped agents on whole games and record the returns in their cards.

An evaluation game uses :data:`data.atari.EVAL_CONFIG`: sticky actions, no-op starts, all
lives, unclipped score, capped at 108,000 emulator frames. Actions are sampled from the
policy's softmax (the policy as trained); a greedy policy can stall forever in Ms. Pac-Man.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from data.atari import EVAL_CONFIG, AtariEnvConfig, make_env
from data.atomic import write_json
from models.atari.policy import NatureActorCritic, config_from_state
from models.registry import CheckpointError, load_checkpoint, load_into, read_card

log = logging.getLogger(__name__)


def load_actor_critic(stem: str | os.PathLike[str]) -> tuple[NatureActorCritic, dict[str, Any]]:
    """Load a shipped agent checkpoint into :class:`NatureActorCritic` in eval mode.

    Raises:
        CheckpointError: the checkpoint is missing, unreadable or not an actor-critic.
    """
    state, card = load_checkpoint(stem)
    if card.get("architecture") != "NatureActorCritic":
        raise CheckpointError(
            f"{stem} holds a {card.get('architecture')!r}, not an agent; pick a checkpoint "
            "whose card says architecture NatureActorCritic"
        )
    model = NatureActorCritic(config_from_state(state))
    load_into(model, state, str(stem))
    model.eval()
    return model, card


@torch.no_grad()
def play_games(
    model: NatureActorCritic,
    episodes: int,
    *,
    seed: int = 0,
    env_config: AtariEnvConfig = EVAL_CONFIG,
) -> list[dict[str, float]]:
    """Play ``episodes`` whole games and return each game's score and length.

    Returns:
        One ``{"return": score, "steps": agent steps, "frames": emulator frames}`` per game.

    Raises:
        ValueError: the model's action count differs from the game's.
    """
    env = make_env(env_config, seed=seed)
    n_actions = int(env.action_space.n)
    if model.config.n_actions != n_actions:
        env.close()
        raise ValueError(
            f"the agent has {model.config.n_actions} actions but {env_config.env_id()} has "
            f"{n_actions}; pick an agent trained on {env_config.game}"
        )
    generator = torch.Generator().manual_seed(seed)
    games = []
    try:
        for episode in range(episodes):
            obs, _ = env.reset(seed=seed + episode)
            score, steps, frames, done = 0.0, 0, 0, False
            while not done:
                logits, _ = model.forward_obs(torch.from_numpy(np.asarray(obs))[None])
                action = int(
                    torch.multinomial(torch.softmax(logits[0], -1), 1, generator=generator)
                )
                obs, reward, terminated, truncated, info = env.step(action)
                score += float(reward)
                steps += 1
                frames += int(info.get("frames", env_config.frame_skip))
                done = terminated or truncated
            games.append({"return": score, "steps": steps, "frames": frames})
    finally:
        env.close()
    return games


def evaluate_checkpoint(
    stem: str | os.PathLike[str],
    *,
    episodes: int = 10,
    seed: int = 10_000,
    update_card: bool = False,
) -> dict[str, Any]:
    """Play ``episodes`` games with a checkpoint and summarise the score.

    Returns:
        ``return_mean``, ``return_std`` (population), ``return_min``, ``return_max``,
        ``episodes``, ``returns``, ``steps_mean``.
    """
    model, card = load_actor_critic(stem)
    game = card.get("game", "ms_pacman")
    env_config = AtariEnvConfig(**{**EVAL_CONFIG.__dict__, "game": game})
    games = play_games(model, episodes, seed=seed, env_config=env_config)
    returns = np.array([g["return"] for g in games])
    result = {
        "return_mean": float(returns.mean()),
        "return_std": float(returns.std()),
        "return_min": float(returns.min()),
        "return_max": float(returns.max()),
        "episodes": len(games),
        "returns": [float(r) for r in returns],
        "steps_mean": float(np.mean([g["steps"] for g in games])),
        "seed": seed,
        "policy": "actions sampled from the softmax of the logits",
    }
    if update_card:
        card_path = Path(stem).with_suffix(".json")
        card = read_card(card_path)
        card["metrics"] = {**card.get("metrics", {}), **{f"eval_{k}": v for k, v in result.items()}}
        write_json(card_path, card)
    return result
