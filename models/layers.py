"""Small layers shared by the spiking models."""

from __future__ import annotations

import torch
from torch import nn


class SpikeMatmul(nn.Module):
    """Multiply two tensors with ``torch.matmul``, as a module so that hooks can see both operands.

    Spiking attention computes products such as ``Q @ K^T`` and ``A @ V`` between spike
    tensors. Routing them through this module lets the synaptic-operation counter in
    ``analysis.energy`` and the recorder in ``analysis.recording`` count and capture them.
    """

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.matmul(a, b)
