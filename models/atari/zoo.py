"""Load a Stable-Baselines3 / RL Zoo ``.zip`` agent without unpickling anything.

An SB3 ``.zip`` holds ``data`` (JSON; objects that JSON cannot store are cloudpickled into
``":serialized:"`` strings beside a readable summary), ``policy.pth`` (the policy
``state_dict`` written by ``torch.save``), ``policy.optimizer.pth``,
``pytorch_variables.pth`` and two text files. This loader reads only two members:

* ``policy.pth`` through ``torch.load(..., weights_only=True)``, which restores tensors and
  refuses any other object, so no code in the file can run;
* ``data`` as plain JSON, reading the readable fields (``_shape``, ``dtype`` and ``n`` of the
  spaces, ``gamma``, the policy class name) and never decoding ``":serialized:"``.

Supported policies are the Atari ``CnnPolicy`` of PPO and A2C (``ActorCriticCnnPolicy`` with
a NatureCNN extractor shared by actor and critic, loaded into
:class:`models.atari.policy.NatureActorCritic`) and of DQN (``QNetwork``; its Q-values serve
as logits and their maximum as the value).
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from models.atari.policy import NatureActorCritic, NatureCNN, config_from_state, sb3_policy_state
from models.registry import load_into

MAX_MEMBER_BYTES = 512 << 20  # a Nature CNN policy is a few MB; larger members are rejected


class ZooLoadError(ValueError):
    """Raised for a ``.zip`` that is not a supported SB3 agent; the message names the fix."""


class QNetworkPolicy(nn.Module):
    """SB3's DQN ``QNetwork`` (NatureCNN extractor, one linear layer to the Q-values)."""

    def __init__(self, n_actions: int, stack: int, features_dim: int) -> None:
        super().__init__()
        self.features_extractor = NatureCNN(stack, features_dim)
        self.q_net = nn.Sequential(nn.Linear(features_dim, n_actions))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(q_values [B, A], max Q [B])`` for ``x`` ``[B, stack, 84, 84]`` in [0, 1]."""
        q_values = self.q_net(self.features_extractor(x))
        return q_values, q_values.max(dim=-1).values


@dataclass(frozen=True)
class ZooAgent:
    """A network read from an SB3 ``.zip`` and what its ``data`` entry says about it.

    Attributes:
        network: :class:`NatureActorCritic` or :class:`QNetworkPolicy`, in eval mode.
        algorithm: ``"actor-critic"`` (PPO, A2C) or ``"dqn"``.
        policy_class: the class name recorded in ``data``, when readable.
        observation_shape: the observation space shape, ``[stack, 84, 84]``.
        n_actions: size of the discrete action space.
        gamma: discount factor, when recorded.
        sb3_version: the SB3 version that saved the file.
    """

    network: nn.Module
    algorithm: str
    policy_class: str | None
    observation_shape: tuple[int, ...]
    n_actions: int
    gamma: float | None
    sb3_version: str | None


def _read_member(archive: zipfile.ZipFile, name: str, path: Path) -> bytes:
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise ZooLoadError(
            f"{path} has no {name!r} member; it is not a Stable-Baselines3 model .zip"
        ) from None
    if info.file_size > MAX_MEMBER_BYTES:
        raise ZooLoadError(
            f"{path}: member {name!r} is {info.file_size} bytes, larger than allowed"
        )
    return archive.read(info)


def _space_field(space: Any, key: str) -> Any:
    if isinstance(space, dict):
        return space.get(key)
    return None


def _policy_class_name(entry: Any) -> str | None:
    # The readable summary of a cloudpickled class includes reprs such as
    # "<function ActorCriticCnnPolicy.__init__ at 0x...>"; the class name is read from them.
    if not isinstance(entry, dict):
        return None
    for value in entry.values():
        if isinstance(value, str):
            match = re.search(r"<function (\w+)\.__init__", value)
            if match:
                return match.group(1)
    return None


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Return the JSON ``data`` entry of an SB3 ``.zip``, without decoding pickled values.

    Raises:
        ZooLoadError: not a zip, or no readable ``data`` entry.
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            payload = _read_member(archive, "data", path)
    except zipfile.BadZipFile as error:
        raise ZooLoadError(f"{path} is not a zip file ({error}); pick an SB3 model .zip") from error
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ZooLoadError(f"{path}: the 'data' entry is not JSON ({error})") from error
    if not isinstance(data, dict):
        raise ZooLoadError(f"{path}: the 'data' entry is not a JSON object")
    return data


def load_zoo_zip(path: str | os.PathLike[str]) -> ZooAgent:
    """Load the policy of an SB3 / RL Zoo ``.zip`` Atari agent.

    Raises:
        ZooLoadError: the file is missing, not an SB3 zip, holds a non-tensor ``policy.pth``,
            an unsupported policy, or observations that are not stacked 84x84 frames.
    """
    path = Path(path)
    if not path.is_file():
        raise ZooLoadError(f"agent file {path} not found")
    data = read_metadata(path)
    with zipfile.ZipFile(path) as archive:
        policy_bytes = _read_member(archive, "policy.pth", path)
        version = None
        if "_stable_baselines3_version" in archive.namelist():
            version = archive.read("_stable_baselines3_version").decode("utf-8", "replace").strip()
    try:
        state = torch.load(io.BytesIO(policy_bytes), map_location="cpu", weights_only=True)
    except Exception as error:  # UnpicklingError for objects other than tensors, RuntimeError else
        raise ZooLoadError(
            f"{path}: policy.pth is not a tensor-only state_dict ({type(error).__name__}: "
            f"{error}); such files are never unpickled"
        ) from error
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ZooLoadError(f"{path}: policy.pth does not hold a state_dict of tensors")

    obs_space = data.get("observation_space")
    shape = _space_field(obs_space, "_shape")
    if not isinstance(shape, list) or len(shape) != 3:
        raise ZooLoadError(
            f"{path}: observation space shape {shape!r} is not an image stack; only Atari "
            "CnnPolicy agents with 84x84 frame stacks are supported"
        )
    shape_t = tuple(int(s) for s in shape)
    if shape_t[1:] != (84, 84):
        # SB3 transposes image observations to channels first (VecTransposeImage) before a
        # CnnPolicy sees them, so a saved Atari policy always has [stack, 84, 84].
        raise ZooLoadError(
            f"{path}: observations of shape {shape_t} are not channel-first 84x84 frame stacks"
        )

    if any(key.startswith("q_net.") for key in state):
        kept = {k[len("q_net.") :]: v for k, v in state.items() if k.startswith("q_net.")}
        if "q_net.0.weight" not in kept or "features_extractor.cnn.0.weight" not in kept:
            raise ZooLoadError(f"{path}: DQN policy lacks q_net.q_net or a NatureCNN extractor")
        if any(k.startswith("q_net.") and not k.startswith("q_net.0.") for k in kept):
            raise ZooLoadError(
                f"{path}: DQN policy has hidden layers after the extractor; only net_arch=[] "
                "(SB3's CnnPolicy default) is supported"
            )
        network: nn.Module = QNetworkPolicy(
            n_actions=int(kept["q_net.0.weight"].shape[0]),
            stack=int(kept["features_extractor.cnn.0.weight"].shape[1]),
            features_dim=int(kept["q_net.0.weight"].shape[1]),
        )
        algorithm = "dqn"
    else:
        try:
            kept = sb3_policy_state(state)
            network = NatureActorCritic(config_from_state(kept))
        except ValueError as error:
            raise ZooLoadError(f"{path}: {error}") from error
        algorithm = "actor-critic"
    try:
        load_into(network, {k: v.float() for k, v in kept.items()}, str(path))
    except ValueError as error:
        raise ZooLoadError(str(error)) from error

    head = "q_net.0.weight" if algorithm == "dqn" else "action_net.weight"
    n_outputs = int(network.state_dict()[head].shape[0])
    recorded = _space_field(data.get("action_space"), "n")
    n_actions = int(recorded) if recorded is not None else n_outputs
    if n_actions != n_outputs:
        raise ZooLoadError(
            f"{path}: the action space has {n_actions} actions but the policy outputs "
            f"{n_outputs}; the file is inconsistent"
        )
    gamma = data.get("gamma")
    return ZooAgent(
        network=network.eval(),
        algorithm=algorithm,
        policy_class=_policy_class_name(data.get("policy_class")),
        observation_shape=shape_t,
        n_actions=n_actions,
        gamma=float(gamma) if isinstance(gamma, (int, float)) else None,
        sb3_version=version,
    )
