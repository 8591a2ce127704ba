"""Frame sequences the analyses walk through: Atari-HEAD trials and live emulator rollouts.

Both expose the same small interface (:class:`FrameSequence`): the 210x160 RGB screen of each
frame, the frames before it, and the human gaze where there is any. Agent inputs are built
from the screens with each agent's own preprocessing, so one sequence serves every agent.
Recurrent agents also need their memory at each frame; :func:`recurrent_states` runs the agent
through the sequence once from its first frame and returns the state before every frame.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import torch

from data.atari import EVAL_CONFIG, AtariEnvConfig, make_env, make_legacy_env, screen_of
from data.atari import screen_to_obs_frame as obs_frame
from data.atari_head import AtariHeadTrial, FrameLabel
from models.atari.agents import Agent

log = logging.getLogger(__name__)


class FrameSequence(Protocol):
    """What every frame source provides."""

    name: str
    game: str

    def __len__(self) -> int: ...

    def frame_id(self, index: int) -> str: ...

    def screen(self, index: int) -> np.ndarray: ...

    def gaze(self, index: int) -> np.ndarray | None: ...


def screens_up_to(sequence: FrameSequence, index: int, count: int) -> list[np.ndarray]:
    """Return the ``count`` screens ending at ``index``, oldest first (the first frame pads)."""
    return [sequence.screen(max(0, index - k)) for k in range(count - 1, -1, -1)]


def agent_input(agent: Agent, sequence: FrameSequence, index: int) -> torch.Tensor:
    """Return ``agent``'s input ``[C, H, W]`` at frame ``index`` of ``sequence``."""
    return agent.input_from_screens(screens_up_to(sequence, index, agent.frames))


def gaze_model_input(sequence: FrameSequence, index: int, stack: int = 4) -> np.ndarray:
    """Return the gaze model's ``uint8`` input ``[stack, 84, 84]`` at frame ``index``."""
    return np.stack([obs_frame(s) for s in screens_up_to(sequence, index, stack)])


@torch.no_grad()
def recurrent_states(agent: Agent, sequence: FrameSequence) -> list[torch.Tensor | None]:
    """Return the agent's memory before each frame (``None`` for every frame if stateless)."""
    if not agent.recurrent:
        return [None] * len(sequence)
    if isinstance(sequence, Rollout) and len(sequence.states) == len(sequence):
        return list(sequence.states)
    states = []
    state = agent.initial_state()
    for index in range(len(sequence)):
        states.append(state)
        _, _, state = agent.step(agent_input(agent, sequence, index), state)
    return states


class TrialSequence:
    """An Atari-HEAD trial as a :class:`FrameSequence` over every frame with a PNG."""

    def __init__(self, trial: AtariHeadTrial, game: str = "ms_pacman") -> None:
        self.trial = trial
        self.name = trial.name
        self.game = game
        self.ids = trial.frame_ids

    def __len__(self) -> int:
        return len(self.ids)

    def frame_id(self, index: int) -> str:
        return self.ids[index]

    def screen(self, index: int) -> np.ndarray:
        return self.trial.frame(self.ids[index])

    def gaze(self, index: int) -> np.ndarray | None:
        return self.trial.gaze(self.ids[index])

    def label(self, index: int) -> FrameLabel | None:
        """Return the label row of frame ``index``, or ``None``."""
        return self.trial.label(self.ids[index])


@dataclass
class Rollout:
    """Frames an agent played live in the emulator.

    Attributes:
        name, game: display name and game.
        screens: the 210x160x3 screen behind each observation.
        actions, rewards, values: the agent's action, the reward that followed, and its value
            estimate at each frame.
        episode_returns: scores of the games that ended during the rollout.
    """

    name: str
    game: str
    screens: list[np.ndarray] = field(default_factory=list)
    actions: list[int] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    episode_returns: list[float] = field(default_factory=list)
    states: list[torch.Tensor | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.screens)

    def frame_id(self, index: int) -> str:
        return f"step_{index}"

    def screen(self, index: int) -> np.ndarray:
        return self.screens[index]

    def gaze(self, index: int) -> np.ndarray | None:
        return None


@torch.no_grad()
def rollout(agent: Agent, game: str, steps: int, *, seed: int = 0) -> Rollout:
    """Let ``agent`` play ``game`` for ``steps`` agent steps and record what it saw.

    Shipped and SB3 agents play :func:`data.atari.make_env` with the evaluation settings;
    baby-a3c agents play the gym ``-v4`` environment they were trained on. Actions are
    sampled from the policy with a generator seeded by ``seed``; a game that ends restarts.

    Raises:
        models.atari.agents.AgentMismatchError: the agent's action count differs from the game's.
    """
    generator = torch.Generator().manual_seed(seed)
    result = Rollout(name=f"{agent.name} playing {game} (seed {seed})", game=game)
    if agent.kind == "baby-a3c":
        env = make_legacy_env(game, seed=seed)
    else:
        env = make_env(AtariEnvConfig(**{**EVAL_CONFIG.__dict__, "game": game}), seed=seed)
    try:
        agent.check_game(game, int(env.action_space.n))
        obs, _ = env.reset(seed=seed)
        state = agent.initial_state()
        score = 0.0
        for _ in range(steps):
            screen = np.asarray(obs) if agent.kind == "baby-a3c" else screen_of(env)
            if agent.kind == "baby-a3c":
                x = agent.input_from_screens([screen])
            else:
                x = agent.input_from_obs(obs)
            previous = state
            logits, value, state = agent.step(x, state)
            action = int(torch.multinomial(torch.softmax(logits, -1), 1, generator=generator))
            result.states.append(previous)
            result.screens.append(screen)
            result.actions.append(action)
            result.values.append(float(value))
            obs, reward, terminated, truncated, _ = env.step(action)
            result.rewards.append(float(reward))
            score += float(reward)
            if terminated or truncated:
                result.episode_returns.append(score)
                score = 0.0
                obs, _ = env.reset()
                state = agent.initial_state()
    finally:
        env.close()
    return result
