"""The actor-critic network of the agents trained here, readable without Stable-Baselines3.

The layers and parameter names are those of Stable-Baselines3's ``ActorCriticCnnPolicy`` with
a ``NatureCNN`` feature extractor (Mnih et al. 2015) and no extra MLP layers, so a policy
``state_dict`` from SB3 or an RL Zoo ``.zip`` loads here after
:func:`sb3_policy_state` drops SB3's aliased copies of the shared extractor:

    x = obs / 255                                   # [B, 4, 84, 84] uint8 -> [0, 1]
    h = ReLU(conv 32@8x8 s4) -> ReLU(conv 64@4x4 s2) -> ReLU(conv 64@3x3 s1)  # [B, 64, 7, 7]
    z = ReLU(Linear(3136 -> features_dim)(flatten(h)))                        # [B, F]
    logits = action_net(z)    value = value_net(z)

The shipped agents use ``features_dim=128`` instead of SB3's default 512, which brings a
checkpoint from 1.7 M to 0.48 M parameters (about 1 MB in fp16) so that ten of them fit the
project's size budget.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

SHIPPED_FEATURES_DIM = 128  # shipped agents; SB3's NatureCNN default is 512


@dataclass(frozen=True)
class ActorCriticConfig:
    """Shape of :class:`NatureActorCritic`.

    Attributes:
        n_actions: size of the discrete action space (9 for Ms. Pac-Man's minimal set).
        stack: stacked frames in one observation.
        features_dim: width of the linear layer after the convolutions.
    """

    n_actions: int = 9
    stack: int = 4
    features_dim: int = SHIPPED_FEATURES_DIM


class NatureCNN(nn.Module):
    """Three convolutions and one linear layer with SB3's parameter names (``cnn``, ``linear``)."""

    def __init__(self, stack: int, features_dim: int) -> None:
        super().__init__()
        self.cnn = nn.Sequential(
            nn.Conv2d(stack, 32, kernel_size=8, stride=4),
            nn.ReLU(),
            nn.Conv2d(32, 64, kernel_size=4, stride=2),
            nn.ReLU(),
            nn.Conv2d(64, 64, kernel_size=3, stride=1),
            nn.ReLU(),
            nn.Flatten(),
        )
        self.linear = nn.Sequential(nn.Linear(64 * 7 * 7, features_dim), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.cnn(x))  # [B, F]


class NatureActorCritic(nn.Module):
    """Map scaled observations to policy logits and a state value.

    ``forward`` takes ``x`` in ``[0, 1]`` (``obs / 255``) so that saliency methods perturb and
    differentiate the same input the network sees; :meth:`forward_obs` accepts raw ``uint8``
    observations.
    """

    def __init__(self, config: ActorCriticConfig) -> None:
        super().__init__()
        self.config = config
        self.features_extractor = NatureCNN(config.stack, config.features_dim)
        self.action_net = nn.Linear(config.features_dim, config.n_actions)
        self.value_net = nn.Linear(config.features_dim, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(logits [B, n_actions], value [B])`` for ``x`` ``[B, stack, 84, 84]``."""
        z = self.features_extractor(x)
        return self.action_net(z), self.value_net(z).squeeze(-1)

    def forward_obs(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Same as :meth:`forward` for ``uint8`` observations in ``[0, 255]``."""
        return self(obs.float() / 255.0)


def sb3_policy_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Keep the parameters of an SB3 ``ActorCriticCnnPolicy`` that this module needs.

    SB3 stores the shared feature extractor three times (``features_extractor``,
    ``pi_features_extractor``, ``vf_features_extractor``); only the first is kept. The empty
    ``mlp_extractor`` of ``net_arch=[]`` has no tensors.

    Raises:
        ValueError: the state has separate actor and critic extractors or extra MLP layers,
            which this module does not model.
    """
    kept = {}
    for key, tensor in state.items():
        if key.startswith(("pi_features_extractor.", "vf_features_extractor.")):
            twin = "features_extractor." + key.split(".", 1)[1]
            if twin not in state:
                raise ValueError(
                    f"policy has separate actor and critic feature extractors ({key}); only "
                    "policies with share_features_extractor=True are supported"
                )
            continue
        if key.startswith("mlp_extractor."):
            raise ValueError(
                f"policy has MLP layers after the extractor ({key}); only net_arch=[] "
                "(SB3's CnnPolicy default) is supported"
            )
        kept[key] = tensor
    return kept


def config_from_state(state: dict[str, torch.Tensor]) -> ActorCriticConfig:
    """Infer :class:`ActorCriticConfig` from the tensor shapes of a policy state.

    Raises:
        ValueError: a tensor that every NatureCNN actor-critic has is missing.
    """
    needed = (
        "features_extractor.cnn.0.weight",
        "features_extractor.linear.0.weight",
        "action_net.weight",
    )
    missing = [key for key in needed if key not in state]
    if missing:
        raise ValueError(
            f"policy state lacks {missing}; expected an SB3 CnnPolicy with a NatureCNN extractor"
        )
    return ActorCriticConfig(
        n_actions=int(state["action_net.weight"].shape[0]),
        stack=int(state["features_extractor.cnn.0.weight"].shape[1]),
        features_dim=int(state["features_extractor.linear.0.weight"].shape[0]),
    )
