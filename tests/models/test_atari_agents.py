"""Agent networks and loaders: SB3 compatibility, RL Zoo zips, baby-a3c, never unpickling."""

from __future__ import annotations

import io
import os
import pickle
import zipfile

import numpy as np
import pytest
import torch

from models.atari.agents import AgentMismatchError, load_baby_a3c_agent, load_zoo_agent
from models.atari.baby_a3c import BabyA3CError, load_baby_a3c, preprocess_screen
from models.atari.policy import ActorCriticConfig, NatureActorCritic, sb3_policy_state
from models.atari.zoo import ZooLoadError, load_zoo_zip
from tests.conftest import shared_path


class _Exploit:
    """Pickles to a call that would create a file if anything unpickled it."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


@pytest.fixture(scope="module")
def sb3_ppo(tmp_path_factory):
    from stable_baselines3 import PPO
    from stable_baselines3.common.torch_layers import NatureCNN

    from data.atari import EVAL_CONFIG, make_env

    env = make_env(EVAL_CONFIG, seed=0)
    model = PPO(
        "CnnPolicy",
        env,
        n_steps=64,
        batch_size=64,
        seed=0,
        device="cpu",
        policy_kwargs={
            "features_extractor_class": NatureCNN,
            "features_extractor_kwargs": {"features_dim": 64},
        },
    )
    path = tmp_path_factory.mktemp("zoo") / "ppo.zip"
    model.save(path)
    obs, _ = env.reset(seed=0)
    for _ in range(30):
        obs, *_ = env.step(env.action_space.sample())
    env.close()
    return model, path, obs


def test_policy_matches_sb3_outputs_and_gradients(sb3_ppo):
    model, _, obs = sb3_ppo
    ours = NatureActorCritic(ActorCriticConfig(features_dim=64))
    ours.load_state_dict(sb3_policy_state(model.policy.state_dict()))
    obs_t = torch.as_tensor(obs)[None]
    distribution = model.policy.get_distribution(obs_t)
    value = model.policy.predict_values(obs_t)[:, 0]
    logits, our_value = ours.forward_obs(obs_t)
    torch.testing.assert_close(torch.log_softmax(logits, -1), distribution.distribution.logits)
    torch.testing.assert_close(our_value, value)

    # Gradients of the value with respect to the first convolution agree as well.
    sb3_grad = torch.autograd.grad(value.sum(), model.policy.features_extractor.cnn[0].weight)[0]
    our_grad = torch.autograd.grad(our_value.sum(), ours.features_extractor.cnn[0].weight)[0]
    torch.testing.assert_close(our_grad, sb3_grad)


def test_zoo_zip_loads_without_sb3_objects(sb3_ppo):
    model, path, obs = sb3_ppo
    agent = load_zoo_agent(path)
    assert agent.card["algorithm"] == "actor-critic"
    assert agent.card["policy_class"] == "ActorCriticCnnPolicy"
    assert agent.card["gamma"] == pytest.approx(0.99)
    logits, _value = agent.forward_fn()(agent.input_from_obs(obs)[None])
    expected = model.policy.get_distribution(torch.as_tensor(obs)[None]).distribution.logits
    torch.testing.assert_close(torch.log_softmax(logits, -1), expected)


def test_zoo_dqn_zip(tmp_path):
    from stable_baselines3 import DQN

    from data.atari import EVAL_CONFIG, make_env

    env = make_env(EVAL_CONFIG, seed=0)
    model = DQN("CnnPolicy", env, buffer_size=10, device="cpu", seed=0)
    model.save(tmp_path / "dqn.zip")
    obs, _ = env.reset(seed=0)
    env.close()
    zoo = load_zoo_zip(tmp_path / "dqn.zip")
    assert zoo.algorithm == "dqn"
    q_values, value = zoo.network(torch.as_tensor(obs)[None].float() / 255.0)
    expected = model.q_net(torch.as_tensor(obs)[None])
    torch.testing.assert_close(q_values, expected)
    torch.testing.assert_close(value, expected.max(-1).values)


def test_zoo_zip_with_pickled_code_rejected(sb3_ppo, tmp_path):
    _, path, _ = sb3_ppo
    marker = tmp_path / "pwned"
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(bad, "w") as target:
        for item in source.infolist():
            payload = source.read(item)
            if item.filename == "policy.pth":
                buffer = io.BytesIO()
                torch.save({"weights": _Exploit(str(marker))}, buffer)
                payload = buffer.getvalue()
            target.writestr(item, payload)
    with pytest.raises(ZooLoadError, match="never unpickled"):
        load_zoo_zip(bad)
    assert not marker.exists()


def test_zoo_zip_bad_files(tmp_path):
    not_zip = tmp_path / "x.zip"
    not_zip.write_bytes(b"plain text")
    with pytest.raises(ZooLoadError, match="not a zip"):
        load_zoo_zip(not_zip)
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as handle:
        handle.writestr("data", "{}")
    with pytest.raises(ZooLoadError, match=r"policy\.pth"):
        load_zoo_zip(empty)
    with pytest.raises(ZooLoadError, match="not found"):
        load_zoo_zip(tmp_path / "missing.zip")


@pytest.fixture(scope="module")
def breakout_path():
    return shared_path("baby-a3c", "breakout-v4.model.80.tar")


def test_baby_a3c_loads_legacy_file(breakout_path):
    model = load_baby_a3c(breakout_path)
    assert model.n_actions == 4
    x = torch.rand(2, 1, 80, 80)
    logits, value, hx = model(x, torch.zeros(2, 256))
    assert logits.shape == (2, 4)
    assert value.shape == (2,)
    assert hx.shape == (2, 256)


def test_baby_a3c_plays_breakout(breakout_path):
    from analysis.atari.frames import rollout

    agent = load_baby_a3c_agent(breakout_path)
    assert agent.game == "breakout"
    played = rollout(agent, "breakout", 300, seed=0)
    assert len(played) == 300
    assert len(played.states) == 300
    # An 80 M-frame agent scores within 300 steps; a random one rarely does.
    assert sum(played.rewards) > 0


def test_baby_a3c_rejects_pickled_code(tmp_path):
    marker = tmp_path / "pwned"
    bad = tmp_path / "evil.model.80.tar"
    bad.write_bytes(pickle.dumps(_Exploit(str(marker))))
    with pytest.raises(BabyA3CError, match="never run"):
        load_baby_a3c(bad)
    assert not marker.exists()


def test_baby_a3c_wrong_state(tmp_path):
    path = tmp_path / "other.tar"
    torch.save({"weight": torch.zeros(2)}, path)
    with pytest.raises(BabyA3CError, match="actor_linear"):
        load_baby_a3c(path)


def test_baby_a3c_mismatched_game(breakout_path):
    agent = load_baby_a3c_agent(breakout_path)
    with pytest.raises(AgentMismatchError, match="4 actions but ms_pacman has 9"):
        agent.check_game("ms_pacman", 9)


def test_baby_a3c_preprocessing_reconstructs_imresize():
    screen = np.zeros((210, 160, 3), np.uint8)
    screen[35:195, :80] = 90  # left half of the kept rows
    screen[35:195, 80:] = 30
    x = preprocess_screen(screen)
    assert x.shape == (1, 80, 80)
    # Byte scaling stretches the crop to the full range: 90 -> 255, 30 -> 0.
    assert x[0, 40, 5] == pytest.approx(1.0)
    assert x[0, 40, 75] == pytest.approx(0.0)
    assert x[0, 0, 5] == pytest.approx(1.0)  # row 35 is the first kept row
