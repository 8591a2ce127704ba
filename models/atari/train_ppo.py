"""Train PPO agents on an Atari game with Stable-Baselines3 and save staged checkpoints.

``train(config)`` runs SB3's PPO with a ``CnnPolicy`` (NatureCNN extractor, ``features_dim``
128) on :data:`data.atari.TRAIN_CONFIG` environments: lost lives end the learner's episode and
rewards are clipped to their sign. Whenever the frames seen (agent steps times the frame skip)
pass a stage in ``config.stage_frames``, the policy is written as an fp16 safetensors
checkpoint with its card. After training every stage is evaluated on whole games with
unclipped scores (:func:`models.atari.evaluate.evaluate_checkpoint`) and the card is updated
with the mean and spread of the return.

The hyperparameters default to the RL Zoo's PPO Atari recipe (8 environments, 128 steps,
4 epochs, minibatch 256, learning rate 2.5e-4 and clip range 0.1 both decayed linearly to 0,
entropy coefficient 0.01, value coefficient 0.5).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from data.atari import TRAIN_CONFIG, AtariEnvConfig, make_env
from models.atari.policy import SHIPPED_FEATURES_DIM, ActorCriticConfig, sb3_policy_state
from models.registry import CHECKPOINT_ROOT, git_commit, save_checkpoint

log = logging.getLogger(__name__)

AREA = "atari"
DEFAULT_STAGES = (400_000, 800_000, 1_200_000, 1_600_000, 2_000_000)


@dataclass(frozen=True)
class PPOTrainConfig:
    """Everything that defines one PPO run.

    Attributes:
        variant: label of the hyperparameter setting, part of each checkpoint name.
        game: Atari-HEAD style game name.
        stage_frames: emulator frames at which a checkpoint is written; the last one is the
            training budget. Frames are agent steps times the frame skip.
        save_initial: also write the untrained policy as stage 0.
        n_envs, n_steps, n_epochs, batch_size: rollout and update sizes.
        learning_rate, clip_range: initial values, decayed linearly to 0.
        ent_coef, vf_coef, gamma, gae_lambda, max_grad_norm: PPO loss and return settings.
        features_dim: width of the NatureCNN linear layer.
        eval_episodes: whole games played per checkpoint after training.
        seed: seeds SB3, the environments and the evaluation.
        threads: torch CPU threads.
        out_dir: checkpoint folder.
        command: the command line recorded in each card.
    """

    variant: str = "baseline"
    game: str = "ms_pacman"
    stage_frames: tuple[int, ...] = DEFAULT_STAGES
    save_initial: bool = True
    n_envs: int = 8
    n_steps: int = 128
    n_epochs: int = 4
    batch_size: int = 256
    learning_rate: float = 2.5e-4
    clip_range: float = 0.1
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    gamma: float = 0.99
    gae_lambda: float = 0.95
    max_grad_norm: float = 0.5
    features_dim: int = SHIPPED_FEATURES_DIM
    eval_episodes: int = 10
    seed: int = 0
    threads: int = 1
    out_dir: str = str(CHECKPOINT_ROOT / AREA)
    command: str = ""
    env: AtariEnvConfig = field(default_factory=lambda: TRAIN_CONFIG)

    def __post_init__(self) -> None:
        stages = tuple(int(s) for s in self.stage_frames)
        if not stages or any(b <= a for a, b in itertools.pairwise(stages)) or stages[0] <= 0:
            raise ValueError(
                f"stage_frames must be positive and increasing, got {self.stage_frames}"
            )
        if self.batch_size > self.n_envs * self.n_steps:
            raise ValueError(
                f"batch_size {self.batch_size} exceeds the rollout of n_envs * n_steps = "
                f"{self.n_envs * self.n_steps}; lower batch_size"
            )
        if self.env.game != self.game:
            object.__setattr__(
                self, "env", AtariEnvConfig(**{**asdict(self.env), "game": self.game})
            )


def checkpoint_name(variant: str, frames: int, game: str = "ms_pacman") -> str:
    """Return the checkpoint name of a stage, for example ``ppo-ms_pacman-baseline-f0400k``."""
    return f"ppo-{game}-{variant}-f{frames // 1000:04d}k"


def _linear(start: float):
    # SB3 calls a schedule with the remaining progress, 1 at the start and 0 at the end.
    def schedule(progress_remaining: float) -> float:
        return progress_remaining * start

    return schedule


def _card(
    config: PPOTrainConfig, name: str, frames: int, metrics: dict[str, Any]
) -> dict[str, Any]:
    net = ActorCriticConfig(features_dim=config.features_dim)
    return {
        "name": name,
        "area": AREA,
        "architecture": "NatureActorCritic",
        "config": {
            "model": {**asdict(net), "n_actions": metrics["n_actions"]},
            "env": asdict(config.env),
            "ppo": {
                k: v for k, v in asdict(config).items() if k not in ("env", "command", "out_dir")
            },
            "algorithm": "PPO (stable-baselines3 CnnPolicy, NatureCNN extractor)",
        },
        "data": f"live emulator frames of {config.env.env_id()} (ale-py ROM), {frames} frames seen",
        "command": config.command or "models.atari.train_ppo.train(PPOTrainConfig(...))",
        "metrics": {k: v for k, v in metrics.items() if k != "n_actions"},
        "seed": config.seed,
        "commit": git_commit(),
        "variant": config.variant,
        "game": config.game,
        "frames": frames,
    }


def train(config: PPOTrainConfig) -> dict[str, Any]:
    """Train PPO, write a checkpoint at every stage, then evaluate each stage.

    Returns:
        ``{"stages": [{"name", "frames", "return_mean", "return_std", ...}], "seconds": ...}``.
    """
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.torch_layers import NatureCNN
    from stable_baselines3.common.vec_env import DummyVecEnv

    from models.atari.evaluate import evaluate_checkpoint

    if config.threads > 0:
        torch.set_num_threads(config.threads)
    out_dir = Path(config.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    frame_skip = config.env.frame_skip

    def env_fn(rank: int):
        def build():
            return make_env(config.env, seed=config.seed * 1000 + rank, record_game_stats=True)

        return build

    venv = DummyVecEnv([env_fn(rank) for rank in range(config.n_envs)])
    n_actions = int(venv.action_space.n)
    model = PPO(
        "CnnPolicy",
        venv,
        n_steps=config.n_steps,
        n_epochs=config.n_epochs,
        batch_size=config.batch_size,
        learning_rate=_linear(config.learning_rate),
        clip_range=_linear(config.clip_range),
        ent_coef=config.ent_coef,
        vf_coef=config.vf_coef,
        gamma=config.gamma,
        gae_lambda=config.gae_lambda,
        max_grad_norm=config.max_grad_norm,
        policy_kwargs={
            "features_extractor_class": NatureCNN,
            "features_extractor_kwargs": {"features_dim": config.features_dim},
        },
        seed=config.seed,
        device="cpu",
        verbose=0,
    )
    saved: list[tuple[str, int]] = []
    game_returns: deque[float] = deque(maxlen=100)
    started = time.monotonic()

    def save_stage(frames: int) -> None:
        name = checkpoint_name(config.variant, frames, config.game)
        recent = list(game_returns)
        metrics = {
            "frames": frames,
            "agent_steps": frames // frame_skip,
            "train_game_return_mean": float(np.mean(recent)) if recent else None,
            "train_games": len(recent),
            "train_seconds": round(time.monotonic() - started, 1),
            "n_actions": n_actions,
        }
        state = sb3_policy_state(model.policy.state_dict())
        save_checkpoint(
            out_dir / name, state, _card(config, name, frames, metrics), dtype=torch.float16
        )
        saved.append((name, frames))
        log.info(
            "saved %s (%s frames, recent game return %s)",
            name,
            frames,
            metrics["train_game_return_mean"],
        )

    class StageCallback(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.pending = list(config.stage_frames)
            self.next_log = 50_000

        def _on_step(self) -> bool:
            for info in self.locals.get("infos", []):
                if "game" in info:
                    game_returns.append(float(info["game"]["r"]))
            frames = self.num_timesteps * frame_skip
            if frames >= self.next_log:
                self.next_log += 50_000
                recent = list(game_returns)
                log.info(
                    "%s: %d frames, %.0f s, mean game return of the last %d games %.1f",
                    config.variant,
                    frames,
                    time.monotonic() - started,
                    len(recent),
                    float(np.mean(recent)) if recent else float("nan"),
                )
            while self.pending and frames >= self.pending[0]:
                save_stage(self.pending.pop(0))
            return True

    if config.save_initial:
        save_stage(0)
    total_steps = config.stage_frames[-1] // frame_skip
    model.learn(total_timesteps=total_steps, callback=StageCallback())
    venv.close()

    # Evaluate every stage on whole games with unclipped scores, and record it in the card.
    stages = []
    for name, frames in saved:
        result = evaluate_checkpoint(
            out_dir / name,
            episodes=config.eval_episodes,
            seed=config.seed + 10_000,
            update_card=True,
        )
        stages.append({"name": name, "frames": frames, **result})
        log.info(
            "%s: return %.1f +- %.1f over %d games",
            name,
            result["return_mean"],
            result["return_std"],
            result["episodes"],
        )
    return {"stages": stages, "seconds": round(time.monotonic() - started, 1)}
