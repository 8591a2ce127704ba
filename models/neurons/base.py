"""The base class that every spiking neuron module shares: recording for the dashboard."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class SpikingNeuron(nn.Module):
    """A neuron layer on time-first tensors ``[T, B, ...]`` that can record its traces.

    Subclasses implement ``forward(x) -> spk`` and, when ``self.record`` is true, fill
    ``self.records`` with detached CPU tensors:

    - ``mem``: membrane potential that the firing rule is applied to, ``[T, B, ...]``;
    - ``spk``: the layer's output, ``[T, B, ...]``;
    - ``threshold`` (float) for threshold neurons, or ``window`` (lo, hi) for clip neurons;

    plus neuron-specific entries documented on each class. State lives only inside one forward
    call, so a module can be reused between inputs without a reset.
    """

    #: ``"binary"`` for neurons that emit 0/1 spikes, ``"integer"`` for integer-training neurons.
    output_kind: str = "binary"
    #: integer steps unrolled per time step at inference (1 for binary neurons).
    steps_per_output: int = 1

    def __init__(self) -> None:
        super().__init__()
        self.record = False
        self.records: dict[str, Any] = {}

    def _store(self, **entries: Any) -> None:
        self.records = {
            key: value.detach().to("cpu") if isinstance(value, torch.Tensor) else value
            for key, value in entries.items()
        }

    def unroll(self, spk: torch.Tensor) -> tuple[torch.Tensor, float, float]:
        """Return ``(binary, constant, scale)`` with ``spk == scale * (binary.sum(1) + constant)``.

        ``binary`` is ``[T, steps, B, ...]``. Binary neurons return their spikes with one step,
        constant 0 and scale 1; integer neurons override this.
        """
        return spk.unsqueeze(1), 0.0, 1.0
