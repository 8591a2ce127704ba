"""A small spiking CNN for 28x28 images whose neuron type is a config field, and its ANN twin.

Architecture (the same for every neuron type; the ANN replaces each neuron by ReLU):

    image [B, 1, 28, 28] in [0, 1], repeated over T steps (direct encoding)
    conv1: Conv3x3(1 -> c1)  + BatchNorm + MaxPool2 -> neuron    # [T, B, c1, 14, 14]
    conv2: Conv3x3(c1 -> c2) + BatchNorm + MaxPool2 -> neuron    # [T, B, c2, 7, 7]
    conv3: Conv3x3(c2 -> c2) + BatchNorm + MaxPool2 -> neuron    # [T, B, c2, 3, 3]
    fc1:   Linear(9 c2 -> hidden) + BatchNorm -> neuron          # [T, B, hidden]
    fc2:   Linear(hidden -> 10), averaged over T                 # logits [B, 10]

Pooling comes before each neuron, so every synaptic layer after the first receives the
neurons' spikes directly; the first convolution sees real-valued pixels (multiply-accumulates,
as in every directly encoded SNN). LIF-family networks run T = 4 binary steps; integer
networks (ILIF, NILIF, ASN, NASN) run T = 1 integer step with D = 4, the "1x4" setting, and
can run their spike-inference path, where every layer after a neuron sees only the unrolled
binary spikes (``models.neurons.inference.spike_driven``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

from models.neurons import INTEGER_TYPES, SpikingNeuron, make_neuron
from models.neurons.inference import spike_driven

NUM_CLASSES = 10
IMAGE_SIZE = 28
NEURON_KINDS = ("lif", "plif", "ilif", "nilif", "asn", "nasn", "ann")
LAYER_NAMES = ("conv1", "conv2", "conv3", "fc1")


@dataclass(frozen=True)
class ClassifierConfig:
    """Architecture of :class:`SpikingConvNet`.

    Attributes:
        neuron: ``lif``, ``plif``, ``ilif``, ``nilif``, ``asn``, ``nasn``, or ``ann`` for the twin.
        T: time steps; defaults to 4 for binary neurons and 1 for integer neurons.
        D: spikes per integer step (integer neurons only).
        channels: output channels of conv1 and of conv2/conv3.
        hidden: width of fc1.
        neuron_kwargs: extra constructor arguments of the neuron (``tau``, ``v_reset``, ...).
    """

    neuron: str = "nasn"
    T: int | None = None
    D: int = 4
    channels: tuple[int, int] = (32, 64)
    hidden: int = 128
    neuron_kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.neuron not in NEURON_KINDS:
            raise ValueError(
                f"unknown neuron {self.neuron!r}; use one of {', '.join(NEURON_KINDS)}"
            )
        if self.T is not None and self.T < 1:
            raise ValueError(f"T must be at least 1, got {self.T}")

    @property
    def is_integer(self) -> bool:
        """Whether the neurons are integer-training ones."""
        return self.neuron in INTEGER_TYPES

    @property
    def steps(self) -> int:
        """Time steps the network runs: ``T``, or its default for the neuron type."""
        if self.T is not None:
            return self.T
        return 1 if self.is_integer or self.neuron == "ann" else 4

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form for checkpoint cards."""
        data = asdict(self)
        data["channels"] = list(self.channels)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClassifierConfig:
        """Inverse of :meth:`to_dict`."""
        values = dict(data)
        values["channels"] = tuple(values.get("channels", (32, 64)))
        return cls(**values)


def _default_neuron_kwargs(config: ClassifierConfig) -> dict[str, Any]:
    if config.neuron == "lif":
        defaults: dict[str, Any] = {"tau": 2.0, "v_reset": 0.0, "detach_reset": True}
    elif config.neuron == "plif":
        defaults = {"init_tau": 2.0, "v_reset": 0.0, "detach_reset": True}
    else:
        defaults = {"D": config.D}
    defaults.update(config.neuron_kwargs)
    return defaults


class SpikingConvNet(nn.Module):
    """The classifier described in the module docstring; inputs ``[B, 1, 28, 28]``."""

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.config = config
        c1, c2 = config.channels
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c2)
        self.conv3 = nn.Conv2d(c2, c2, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(c2)
        self.fc1 = nn.Linear(c2 * 3 * 3, config.hidden, bias=False)
        self.bn4 = nn.BatchNorm1d(config.hidden)
        self.fc2 = nn.Linear(config.hidden, NUM_CLASSES)
        self.pool = nn.MaxPool2d(2)
        if config.neuron == "ann":
            self.sn1, self.sn2, self.sn3, self.sn4 = (nn.ReLU() for _ in range(4))
        else:
            kwargs = _default_neuron_kwargs(config)
            self.sn1, self.sn2, self.sn3, self.sn4 = (
                make_neuron(config.neuron, **kwargs) for _ in range(4)
            )

    def neuron_layers(self) -> dict[str, nn.Module]:
        """The four neuron (or ReLU) layers by display name."""
        return dict(zip(LAYER_NAMES, (self.sn1, self.sn2, self.sn3, self.sn4), strict=True))

    def _synapse(
        self, layer, spk: torch.Tensor, neuron: nn.Module, spike_inference: bool
    ) -> torch.Tensor:
        steps, batch = spk.shape[:2]
        if spike_inference and isinstance(neuron, SpikingNeuron):
            binary, constant, scale = neuron.unroll(spk)
            return spike_driven(layer, binary, constant, scale)
        out = layer(spk.flatten(0, 1))
        return out.reshape(steps, batch, *out.shape[1:])

    def _pool(self, current: torch.Tensor) -> torch.Tensor:
        # max-pool a time-first [T, B, C, H, W] tensor
        pooled = self.pool(current.flatten(0, 1))
        return pooled.reshape(*current.shape[:2], *pooled.shape[1:])

    def forward(self, images: torch.Tensor, spike_inference: bool = False) -> torch.Tensor:
        """Return logits ``[B, 10]`` for images ``[B, 1, 28, 28]``.

        Args:
            images: pixel values in [0, 1].
            spike_inference: feed every layer after a neuron with the unrolled binary spikes
                instead of the integer values (integer neurons; binary neurons are unchanged).

        Raises:
            ValueError: the input is not ``[B, 1, 28, 28]``.
        """
        if images.dim() != 4 or images.shape[1:] != (1, IMAGE_SIZE, IMAGE_SIZE):
            raise ValueError(
                f"expected images of shape [B, 1, {IMAGE_SIZE}, {IMAGE_SIZE}], got {list(images.shape)}"
            )
        steps = self.config.steps
        # the first layer sees the same real-valued image at every step: compute it once
        current = self.pool(self.bn1(self.conv1(images)))
        spk = self.sn1(
            current.unsqueeze(0).expand(steps, *current.shape).contiguous()
        )  # [T, B, c1, 14, 14]

        # Spike inference may only unroll the affine part (convolution and batch norm):
        # max-pooling is not linear, so it runs on the summed input of the next neuron.
        spk = self.sn2(
            self._pool(
                self._synapse(lambda x: self.bn2(self.conv2(x)), spk, self.sn1, spike_inference)
            )
        )
        spk = self.sn3(
            self._pool(
                self._synapse(lambda x: self.bn3(self.conv3(x)), spk, self.sn2, spike_inference)
            )
        )
        spk = spk.flatten(2)  # [T, B, 9 c2]
        spk = self.sn4(
            self._synapse(lambda x: self.bn4(self.fc1(x)), spk, self.sn3, spike_inference)
        )
        logits = self._synapse(self.fc2, spk, self.sn4, spike_inference)  # [T, B, 10]
        return logits.mean(0)
