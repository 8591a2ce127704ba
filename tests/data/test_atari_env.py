"""The Atari environment factory: wrappers, frame skip, max pooling and life handling."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from data.atari import (
    EVAL_CONFIG,
    TRAIN_CONFIG,
    AtariEnvConfig,
    EpisodicLife,
    GameStats,
    MaxAndSkip,
    make_env,
    make_legacy_env,
    screen_of,
    screen_to_obs_frame,
)


class _FakeAle:
    def __init__(self, env):
        self.env = env

    def lives(self) -> int:
        return self.env.lives


class CountingEnv(gym.Env):
    """Frames whose pixels equal the frame number; ends after ``length`` frames."""

    observation_space = gym.spaces.Box(0, 255, (2, 2, 3), dtype=np.uint8)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, length: int, lose_life_at: int | None = None) -> None:
        self.length = length
        self.lose_life_at = lose_life_at
        self.ale = _FakeAle(self)

    def reset(self, *, seed=None, options=None):
        self.t = 0
        self.lives = 3
        self.resets = getattr(self, "resets", 0) + 1
        return np.zeros((2, 2, 3), np.uint8), {}

    def step(self, action):
        self.t += 1
        if self.t == self.lose_life_at:
            self.lives -= 1
        # Frame t writes t into channel t % 2, so a max over two frames shows both numbers.
        frame = np.zeros((2, 2, 3), np.uint8)
        frame[..., self.t % 2] = self.t
        return frame, 1.0, self.t >= self.length, False, {}


def test_max_pool_over_last_two_frames():
    env = MaxAndSkip(CountingEnv(100), skip=4)
    env.reset()
    obs, reward, terminated, _, info = env.step(0)
    assert reward == 4.0
    assert info["frames"] == 4
    assert obs[0, 0].tolist() == [4, 3, 0]  # frame 4 in channel 0, frame 3 in channel 1
    assert not terminated


def test_episode_ending_inside_skip():
    env = MaxAndSkip(CountingEnv(6), skip=4)
    env.reset()
    env.step(0)  # frames 1-4
    obs, reward, terminated, _, info = env.step(0)  # frames 5, 6 then the game ends
    assert terminated
    assert info["frames"] == 2
    assert reward == 2.0
    assert obs[0, 0].tolist() == [6, 5, 0]  # frames 5 and 6, the last two emulated


def test_episode_ending_on_first_frame_of_skip():
    env = MaxAndSkip(CountingEnv(5), skip=4)
    env.reset()
    env.step(0)  # frames 1-4
    obs, _, terminated, _, info = env.step(0)  # frame 5 only
    assert terminated
    assert info["frames"] == 1
    assert obs[0, 0].tolist() == [4, 5, 0]  # frame 4 of the previous step and frame 5


def test_episodic_life_ends_learner_episode_but_not_game():
    base = CountingEnv(100, lose_life_at=3)
    env = EpisodicLife(base)
    env.reset()
    results = [env.step(0) for _ in range(3)]
    assert results[-1][2] is True  # lost a life on frame 3
    env.reset()
    assert base.resets == 1  # the game was not restarted
    assert base.t == 4  # one NOOP moved past the terminal frame


def test_game_stats_report_whole_game():
    env = GameStats(CountingEnv(5))
    env.reset()
    infos = [env.step(0)[4] for _ in range(5)]
    assert infos[-1]["game"] == {"r": 5.0, "l": 5}
    assert "game" not in infos[0]


def test_observation_layout_and_screen():
    env = make_env(EVAL_CONFIG, seed=0)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (4, 84, 84)
    assert obs.dtype == np.uint8
    for _ in range(20):
        obs, *_ = env.step(env.action_space.sample())
    screen = screen_of(env)
    assert screen.shape == (210, 160, 3)
    np.testing.assert_array_equal(obs[-1], screen_to_obs_frame(screen))
    env.close()


def test_matches_gymnasium_preprocessing():
    # Second route: gymnasium's AtariPreprocessing max-pools the same two frames when no
    # episode ends inside the skip; compare the pooled RGB screens on the same emulator.
    config = AtariEnvConfig(noop_max=0, sticky_action_probability=0.0)
    ours = make_env(config, seed=3)
    ours.reset(seed=3)
    import ale_py

    gym.register_envs(ale_py)
    base = gym.make("ALE/MsPacman-v5", frameskip=1, repeat_action_probability=0.0)
    theirs = gym.wrappers.AtariPreprocessing(
        base, noop_max=0, frame_skip=4, screen_size=(160, 210), grayscale_obs=False
    )
    theirs.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(30):
        action = int(rng.integers(0, 9))
        ours.step(action)
        pooled, *_ = theirs.step(action)
        np.testing.assert_array_equal(screen_of(ours), pooled)
    ours.close()
    theirs.close()


def test_luminance_formula():
    screen = np.zeros((210, 160, 3), np.uint8)
    screen[..., 0], screen[..., 1], screen[..., 2] = 200, 100, 50
    expected = round(0.299 * 200 + 0.587 * 100 + 0.114 * 50)
    assert np.all(np.abs(screen_to_obs_frame(screen).astype(int) - expected) <= 1)


def test_training_config_clips_rewards():
    env = make_env(TRAIN_CONFIG, seed=1)
    env.reset(seed=1)
    rewards = {env.step(env.action_space.sample())[1] for _ in range(200)}
    assert rewards <= {0.0, 1.0}
    env.close()


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="unknown game"):
        AtariEnvConfig(game="tetris").env_id()
    with pytest.raises(ValueError, match="screen has shape"):
        screen_to_obs_frame(np.zeros((84, 84, 4), np.uint8))


def test_legacy_env_for_baby_a3c():
    env = make_legacy_env("breakout", seed=0)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (210, 160, 3)
    assert env.action_space.n == 4
    env.close()
