"""Heaviside spike function with the arctangent surrogate gradient."""

from __future__ import annotations

import math

import torch

DEFAULT_ATAN_ALPHA = 2.0  # SpikingJelly's surrogate.ATan default


def atan_grad(x: torch.Tensor, alpha: float = DEFAULT_ATAN_ALPHA) -> torch.Tensor:
    """Return the ATan surrogate derivative ``alpha / 2 / (1 + (pi / 2 * alpha * x) ** 2)``.

    It is the derivative of ``arctan(pi / 2 * alpha * x) / pi + 1 / 2``, equals ``alpha / 2`` at
    ``x = 0`` and is finite and positive everywhere.
    """
    return (alpha / 2) / (1 + (math.pi / 2 * alpha * x).square())


class _HeavisideATan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, alpha: float) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):  # type: ignore[override]
        (x,) = ctx.saved_tensors
        return grad_output * atan_grad(x, ctx.alpha), None


def spike_atan(x: torch.Tensor, alpha: float = DEFAULT_ATAN_ALPHA) -> torch.Tensor:
    """Fire where ``x >= 0``: forward is the Heaviside step, backward the ATan surrogate."""
    return _HeavisideATan.apply(x, alpha)
