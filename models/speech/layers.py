"""Building blocks of SpikCommander on time-first tensors ``[T, B, D]``."""

from __future__ import annotations

import torch
from torch import nn

from models.neurons import LIF
from models.speech.config import LIF_SURROGATE_ALPHA, LIF_TAU, LIF_THRESHOLD, LIF_V_RESET


def spikcommander_lif() -> LIF:
    """Return the LIF layer SpikCommander uses everywhere.

    ``H[t] = V[t-1] - (V[t-1] - 0.5) / 2 + X[t]``; ``S[t] = 1`` if ``H[t] >= 1``; ``V[t] = 0.5``
    after a spike, else ``H[t]``; ``V[-1] = 0.5``. ATan surrogate with alpha 5, reset detached.
    """
    return LIF(
        tau=LIF_TAU,
        v_threshold=LIF_THRESHOLD,
        v_reset=LIF_V_RESET,
        decay_input=False,
        detach_reset=True,
        surrogate_alpha=LIF_SURROGATE_ALPHA,
    )


class SeqBatchNorm(nn.BatchNorm1d):
    """Batch norm over the channels of ``[T, B, C]``, with statistics over time and batch."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        steps, batch, channels = x.shape
        return super().forward(x.reshape(steps * batch, channels)).reshape(steps, batch, channels)


class TimeConv1d(nn.Conv1d):
    """A 1-D convolution along time with "same" zero padding; call it through :func:`along_time`.

    The module itself takes ``nn.Conv1d``'s ``[B, C, T]`` layout, so that forward hooks such as
    the energy counter see the tensor the convolution really runs on.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        groups: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            padding=kernel_size // 2,
            groups=groups,
            bias=bias,
        )


def along_time(conv: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Apply a ``[B, C, T]`` convolution to a time-first ``[T, B, C]`` tensor.

    The permuted input is made contiguous: a spike tensor then reaches the convolution as a
    fresh 0/1 tensor in its own layout, which the energy counter reads as spikes.
    """
    out = conv(x.permute(1, 2, 0).contiguous())  # [B, C, T]
    return out.permute(2, 0, 1)  # [T, B, C]


class WindowSum(TimeConv1d):
    """Sum each channel over a centred window of ``2 w + 1`` steps, zero-padded at the ends.

    ``out[t] = sum_{t' = t - w}^{t + w} x[t']``. It is a depthwise convolution with a frozen
    all-ones kernel, so the energy counter counts one accumulate per spike per window position.
    """

    def __init__(self, channels: int, radius: int) -> None:
        super().__init__(channels, channels, 2 * radius + 1, groups=channels, bias=False)
        self.radius = radius
        nn.init.ones_(self.weight)
        self.weight.requires_grad_(False)


def conv_bn_lif(in_features: int, out_features: int) -> nn.Sequential:
    """``LIF(BN(W x))``: a bias-free pointwise (1x1) projection, batch norm and LIF."""
    return nn.Sequential(
        nn.Linear(in_features, out_features, bias=False),
        SeqBatchNorm(out_features),
        spikcommander_lif(),
    )
