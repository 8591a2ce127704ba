"""One Atari environment factory, shared by training, rollouts, saliency and the dashboard.

:func:`make_env` builds a gymnasium 1.x environment on ale-py with the standard DQN-style
preprocessing (Mnih et al. 2015, Machado et al. 2018):

1. ``ALE/<Game>-v5`` with ALE's own frame skip off (``frameskip=1``), so that the wrappers
   below see every emulator frame.
2. Sticky actions with probability 0.25, ALE v5's default and Machado et al.'s
   recommendation: the emulator repeats the previous action with that probability on every
   frame, which makes the game stochastic without no-op tricks alone.
3. :class:`NoopReset`: a random number (1..30) of NOOP actions after each reset.
4. :class:`EpisodicLife` (training only, ``terminal_on_life_loss=True``): a lost life ends the
   episode for the learner (the value target is cut there), but the game itself continues
   until the last life; ``reset`` then advances with one NOOP instead of restarting. This is
   the choice of the RL Zoo and CleanRL PPO recipes; evaluation plays whole games.
5. :class:`MaxAndSkip`: each agent action is repeated for 4 frames and the observation is the
   pixel-wise maximum of the last two frames (Atari sprites flicker between frames). When the
   game ends inside the skip, the loop stops at that frame and the maximum is taken over the
   last two frames that were actually emulated, which may include the last frame of the
   previous step.
6. :class:`ClipReward` (training only): rewards clipped to their sign.
7. :class:`GrayResize`: RGB to luminance (ITU-R 601, OpenCV's ``COLOR_RGB2GRAY``) and an area
   resize from 210x160 to 84x84, as ``uint8``.
8. ``FrameStackObservation``: the last 4 observations, stacked first: ``obs`` is ``uint8`` of
   shape ``[4, 84, 84]``, the layout Stable-Baselines3's ``CnnPolicy`` reads as channels.

The max-pooled 210x160 RGB screen behind the newest observation is kept as
:attr:`MaxAndSkip.screen`; :func:`screen_of` returns it so the dashboard and the saliency code
can draw exactly what the agent saw.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, SupportsFloat

import cv2
import gymnasium as gym
import numpy as np

log = logging.getLogger(__name__)

SCREEN_HEIGHT = 210  # Atari 2600 screen rows
SCREEN_WIDTH = 160  # Atari 2600 screen columns
OBS_SIZE = 84  # side of the square agent observation (Mnih et al. 2015)
MAX_EPISODE_FRAMES = 108_000  # 30 minutes at 60 Hz, ALE v5's default cap

# Game names as Atari-HEAD and ALE spell them, mapped to the gymnasium id stem.
GAME_IDS = {
    "ms_pacman": "MsPacman",
    "breakout": "Breakout",
    "pong": "Pong",
    "space_invaders": "SpaceInvaders",
    "seaquest": "Seaquest",
    "freeway": "Freeway",
    "enduro": "Enduro",
    "asterix": "Asterix",
    "centipede": "Centipede",
}


@dataclass(frozen=True)
class AtariEnvConfig:
    """Preprocessing choices of :func:`make_env`.

    Attributes:
        game: Atari-HEAD style game name, for example ``"ms_pacman"``.
        frame_skip: emulator frames per agent action.
        noop_max: most NOOP actions after a reset; 0 disables them.
        sticky_action_probability: chance that the emulator repeats the previous action on a
            frame (ALE v5 default 0.25).
        terminal_on_life_loss: end the learner's episode on a lost life (training only).
        clip_reward: clip rewards to -1, 0 or 1 (training only).
        screen_size: side of the square observation.
        stack: observations stacked into one ``obs``.
        max_episode_frames: emulator frames after which an episode is truncated.
        full_action_space: use all 18 Atari actions instead of the game's minimal set.
    """

    game: str = "ms_pacman"
    frame_skip: int = 4
    noop_max: int = 30
    sticky_action_probability: float = 0.25
    terminal_on_life_loss: bool = False
    clip_reward: bool = False
    screen_size: int = OBS_SIZE
    stack: int = 4
    max_episode_frames: int = MAX_EPISODE_FRAMES
    full_action_space: bool = False

    def env_id(self) -> str:
        """Return the gymnasium id, for example ``ALE/MsPacman-v5``."""
        if self.game not in GAME_IDS:
            raise ValueError(
                f"unknown game {self.game!r}; use one of {', '.join(sorted(GAME_IDS))}"
            )
        return f"ALE/{GAME_IDS[self.game]}-v5"


TRAIN_CONFIG = AtariEnvConfig(terminal_on_life_loss=True, clip_reward=True)
EVAL_CONFIG = AtariEnvConfig()


class NoopReset(gym.Wrapper):
    """Take a random number of NOOP actions (1..``noop_max``) after each reset."""

    def __init__(self, env: gym.Env, noop_max: int = 30) -> None:
        super().__init__(env)
        self.noop_max = noop_max
        meanings = env.unwrapped.get_action_meanings()
        if meanings[0] != "NOOP":
            raise ValueError(
                f"action 0 of {env.spec.id if env.spec else env} is {meanings[0]}, not NOOP"
            )

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        if self.noop_max <= 0:
            return obs, info
        noops = int(self.unwrapped.np_random.integers(1, self.noop_max + 1))
        for _ in range(noops):
            obs, _, terminated, truncated, info = self.env.step(0)
            if terminated or truncated:
                obs, info = self.env.reset(**kwargs)
        return obs, info


class EpisodicLife(gym.Wrapper):
    """Report ``terminated`` on a lost life; reset the game only when it is really over."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.lives = 0
        self.game_over = True

    def step(self, action: int) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.game_over = terminated or truncated
        lives = self.unwrapped.ale.lives()
        if 0 < lives < self.lives:
            terminated = True
        self.lives = lives
        return obs, reward, terminated, truncated, info

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        if self.game_over:
            obs, info = self.env.reset(**kwargs)
        else:
            # The game goes on after a lost life: one NOOP moves past the terminal frame.
            obs, _, terminated, truncated, info = self.env.step(0)
            if terminated or truncated:
                obs, info = self.env.reset(**kwargs)
        self.game_over = False
        self.lives = self.unwrapped.ale.lives()
        return obs, info


class MaxAndSkip(gym.Wrapper):
    """Repeat an action for ``skip`` frames and max-pool the last two emulated frames.

    ``obs_t = max(frame_{k-1}, frame_k)`` pixel-wise, where ``k`` is the last frame emulated in
    this step. The loop stops at the frame where the episode ends; ``frame_{k-1}`` is then the
    frame before it, even when that frame belongs to the previous step. The reward is the sum
    over the emulated frames; ``info["frames"]`` says how many there were.
    """

    def __init__(self, env: gym.Env, skip: int = 4) -> None:
        super().__init__(env)
        if skip < 1:
            raise ValueError(f"frame skip must be at least 1, got {skip}")
        self.skip = skip
        shape = env.observation_space.shape
        self._frames = np.zeros((2, *shape), dtype=np.uint8)
        self.screen = np.zeros(shape, dtype=np.uint8)

    def _push(self, frame: np.ndarray) -> None:
        self._frames[0] = self._frames[1]
        self._frames[1] = frame

    def step(self, action: int) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        total = 0.0
        terminated = truncated = False
        info: dict[str, Any] = {}
        frames = 0
        for _ in range(self.skip):
            frame, reward, terminated, truncated, info = self.env.step(action)
            self._push(frame)
            total += float(reward)
            frames += 1
            if terminated or truncated:
                break
        np.maximum(self._frames[0], self._frames[1], out=self.screen)
        info = dict(info)
        info["frames"] = frames
        return self.screen.copy(), total, terminated, truncated, info

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        frame, info = self.env.reset(**kwargs)
        self._frames[:] = frame
        self.screen[:] = frame
        return frame.copy(), info


class GameStats(gym.Wrapper):
    """Add ``info["game"] = {"r": score, "l": frames}`` on the step where a whole game ends.

    It sits directly on the emulator, so the score is unclipped and counts every life, whatever
    the wrappers above do with lives and rewards.
    """

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self._score = 0.0
        self._frames = 0

    def step(self, action: int) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._score += float(reward)
        self._frames += 1
        if terminated or truncated:
            info = {**info, "game": {"r": self._score, "l": self._frames}}
        return obs, reward, terminated, truncated, info

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        self._score = 0.0
        self._frames = 0
        return self.env.reset(**kwargs)


class ClipReward(gym.RewardWrapper):
    """Clip each reward to its sign."""

    def reward(self, reward: SupportsFloat) -> float:
        return float(np.sign(float(reward)))


class GrayResize(gym.ObservationWrapper):
    """Convert a 210x160 RGB screen to a ``size``x``size`` ``uint8`` luminance image."""

    def __init__(self, env: gym.Env, size: int = OBS_SIZE) -> None:
        super().__init__(env)
        self.size = size
        self.observation_space = gym.spaces.Box(0, 255, (size, size), dtype=np.uint8)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return screen_to_obs_frame(observation, self.size)


def screen_to_obs_frame(screen: np.ndarray, size: int = OBS_SIZE) -> np.ndarray:
    """Turn one 210x160 RGB (or grayscale) screen into the agent's ``size``x``size`` frame.

    Luminance ``Y = 0.299 R + 0.587 G + 0.114 B`` (OpenCV ``COLOR_RGB2GRAY``), then an area
    resize. Atari-HEAD frames and emulator screens go through this same function.

    Raises:
        ValueError: the screen is not ``[210, 160, 3]`` or ``[210, 160]``.
    """
    if screen.ndim == 3 and screen.shape[2] == 3:
        gray = cv2.cvtColor(np.ascontiguousarray(screen, dtype=np.uint8), cv2.COLOR_RGB2GRAY)
    elif screen.ndim == 2:
        gray = np.ascontiguousarray(screen, dtype=np.uint8)
    else:
        raise ValueError(
            f"screen has shape {screen.shape}; expected [210, 160, 3] RGB or [210, 160] gray"
        )
    return cv2.resize(gray, (size, size), interpolation=cv2.INTER_AREA)


def make_env(
    config: AtariEnvConfig = EVAL_CONFIG,
    *,
    seed: int | None = None,
    render_mode: str | None = None,
    record_game_stats: bool = False,
) -> gym.Env:
    """Build the preprocessed environment described in the module docstring.

    Args:
        config: preprocessing choices; :data:`TRAIN_CONFIG` for learning, :data:`EVAL_CONFIG`
            (whole games, unclipped rewards) for evaluation, rollouts and the dashboard.
        seed: seeds the emulator and the action space when given.
        render_mode: passed to ``gym.make``; ``"rgb_array"`` returns the raw screen.
        record_game_stats: add :class:`GameStats` so that ``info["game"]`` reports the
            unclipped score of each whole game.

    Returns:
        An environment whose ``obs`` is ``uint8`` ``[stack, size, size]``.
    """
    import ale_py

    gym.register_envs(ale_py)
    env = gym.make(
        config.env_id(),
        frameskip=1,
        repeat_action_probability=config.sticky_action_probability,
        full_action_space=config.full_action_space,
        max_num_frames_per_episode=config.max_episode_frames,
        render_mode=render_mode,
    )
    if record_game_stats:
        env = GameStats(env)
    if config.noop_max > 0:
        env = NoopReset(env, config.noop_max)
    if config.terminal_on_life_loss:
        env = EpisodicLife(env)
    env = MaxAndSkip(env, config.frame_skip)
    if config.clip_reward:
        env = ClipReward(env)
    env = GrayResize(env, config.screen_size)
    env = gym.wrappers.FrameStackObservation(env, config.stack)
    if seed is not None:
        env.reset(seed=seed)
        env.action_space.seed(seed)
    return env


def screen_of(env: gym.Env) -> np.ndarray:
    """Return the max-pooled 210x160x3 RGB screen behind the newest observation of ``env``.

    Raises:
        ValueError: ``env`` was not built by :func:`make_env`.
    """
    current: gym.Env | None = env
    while current is not None:
        if isinstance(current, MaxAndSkip):
            return current.screen.copy()
        current = getattr(current, "env", None)
    raise ValueError(f"{env} has no MaxAndSkip wrapper; build it with data.atari.make_env")


def action_meanings(config: AtariEnvConfig = EVAL_CONFIG) -> list[str]:
    """Return the action names of the game, in the order of the agent's logits."""
    import ale_py

    gym.register_envs(ale_py)
    env = gym.make(config.env_id(), full_action_space=config.full_action_space)
    try:
        return list(env.unwrapped.get_action_meanings())
    finally:
        env.close()


def make_legacy_env(game: str, *, seed: int | None = None) -> gym.Env:
    """Build the gym ``<Game>-v4`` environment that baby-a3c agents were trained on.

    ``-v4`` repeats each action for a random 2 to 4 frames, has no sticky actions and returns
    the raw 210x160x3 RGB screen; the agent does its own preprocessing
    (:func:`models.atari.baby_a3c.preprocess_screen`).

    Raises:
        ValueError: unknown game.
    """
    import ale_py

    gym.register_envs(ale_py)
    if game not in GAME_IDS:
        raise ValueError(f"unknown game {game!r}; use one of {', '.join(sorted(GAME_IDS))}")
    env = gym.make(f"{GAME_IDS[game]}-v4")
    if seed is not None:
        env.reset(seed=seed)
        env.action_space.seed(seed)
    return env
