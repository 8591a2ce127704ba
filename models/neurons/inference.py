"""Spike inference: compute a synaptic layer's input from unrolled binary spikes.

An integer neuron emits ``S = scale * (count + constant)`` where ``count`` is the number of
binary spikes it fires over ``D`` sub-steps (see ``IntegerNeuron.unroll``). For an affine
layer ``f(x) = W x + b`` the next layer's input is then

    f(S) = scale * sum_d (f(b_d) - f(0)) + scale * (f(constant) - f(0)) + f(0)

so the layer only ever sees binary spike maps ``b_d`` (spike-driven accumulates) plus a
constant term that folds into its bias. ``spike_driven`` computes exactly this, so a test can
compare it with ``f(S)`` computed from the integer values.
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def spike_driven(
    layer: Callable[[torch.Tensor], torch.Tensor],
    binary: torch.Tensor,
    constant: float,
    scale: float,
) -> torch.Tensor:
    """Apply an affine ``layer`` to spikes given as ``[T, D, B, ...]`` binary sub-steps.

    Args:
        layer: an affine map on ``[N, ...]`` tensors (a linear or convolutional layer,
            optionally with bias), applied to each sub-step separately.
        binary: 0/1 spikes ``[T, D, B, ...]``.
        constant: the spike inference constant (``ceil(alpha)``, or ``alpha`` when shifted).
        scale: ``1 / N``.

    Returns:
        ``[T, B, ...out]``, equal to ``layer(scale * (binary.sum(1) + constant))`` up to float
        rounding.
    """
    steps, sub_steps = binary.shape[:2]
    flat = binary.reshape(steps * sub_steps * binary.shape[2], *binary.shape[3:])
    zero = torch.zeros_like(flat[:1])
    bias = layer(zero)  # f(0): the layer's bias as a map
    per_step = layer(flat) - bias  # W b_d for every sub-step
    per_step = per_step.reshape(steps, sub_steps, binary.shape[2], *per_step.shape[1:])
    out = per_step.sum(1) * scale + bias
    if constant:
        out = out + (layer(torch.full_like(zero, constant)) - bias) * scale
    return out
