"""The PPO training entry point with a tiny budget, and the evaluation it runs."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from models.atari.evaluate import load_actor_critic, play_games
from models.atari.policy import ActorCriticConfig, NatureActorCritic
from models.atari.train_ppo import PPOTrainConfig, checkpoint_name, train


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("ppo")
    config = PPOTrainConfig(
        variant="tiny",
        stage_frames=(512, 1024),
        n_envs=2,
        n_steps=64,
        batch_size=64,
        eval_episodes=1,
        out_dir=str(out),
        command="glimpse train atari ppo --variant tiny",
    )
    return train(config), out


def test_stages_saved_and_evaluated(trained):
    result, _out = trained
    names = [stage["name"] for stage in result["stages"]]
    assert names == [checkpoint_name("tiny", f) for f in (0, 512, 1024)]
    for stage in result["stages"]:
        assert stage["episodes"] == 1
        assert stage["return_mean"] >= 0


def test_checkpoint_is_fp16_and_loads(trained):
    _, out = trained
    stem = out / checkpoint_name("tiny", 1024)
    tensors = load_file(str(stem.with_suffix(".safetensors")))
    assert all(t.dtype == torch.float16 for t in tensors.values())
    assert not any(k.startswith(("pi_features", "vf_features")) for k in tensors)
    model, card = load_actor_critic(stem)
    assert card["frames"] == 1024
    assert card["command"] == "glimpse train atari ppo --variant tiny"
    assert card["metrics"]["eval_episodes"] == 1
    assert card["config"]["env"]["terminal_on_life_loss"] is True
    assert model.config.n_actions == 9


def test_policy_changed_during_training(trained):
    _, out = trained
    first, _ = load_actor_critic(out / checkpoint_name("tiny", 0))
    last, _ = load_actor_critic(out / checkpoint_name("tiny", 1024))
    assert not torch.equal(first.action_net.weight, last.action_net.weight)


def test_wrong_action_count_rejected():
    model = NatureActorCritic(ActorCriticConfig(n_actions=4))
    with pytest.raises(ValueError, match="4 actions but ALE/MsPacman-v5 has 9"):
        play_games(model, 1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"stage_frames": (1000, 500)}, "increasing"), ({"batch_size": 4096}, "exceeds")],
)
def test_bad_config_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PPOTrainConfig(**kwargs)
