"""Integer-training, spike-inference neurons: ILIF, NILIF, ASN and NASN.

All four share one update on time-first tensors ``[T, B, ...]``:

- charge: ``U[t] = H[t-1] + X[t]`` with ``H[-1] = 0``
- fire:   ``q[t] = clip(round(U[t]), lo, hi)`` and ``S[t] = q[t] / N``
- reset:  ``H[t] = beta * (U[t] - N * S[t])``  (soft reset by the emitted value, then decay)

| neuron | window ``[lo, hi]``               | ``N`` |
| ------ | --------------------------------- | ----- |
| ILIF   | ``[0, D]``                        | 1     |
| NILIF  | ``[0, D]``                        | D     |
| ASN    | ``[alpha, alpha + D]``, learnable | 1     |
| NASN   | ``[alpha, alpha + D]``, learnable | D     |

ILIF follows Luo et al. (ECCV 2024, SpikeYOLO); ASN and NASN follow Zhou et al. 2026,
"Adaptive Spiking Neurons for Vision and Language Modeling", Eqs. 7, 12 and 13, with ``alpha``
one learnable scalar per layer.

Gradients (straight-through estimator, that paper's section 3.4): ``dq/dU = 1`` where
``lo <= U <= hi`` and 0 elsewhere; ``dq/dalpha = 1`` where ``U < lo`` or ``U > hi`` and 0
elsewhere, summed over the mini-batch and multiplied by the gradient scale ``a``. The paper
leaves ``a`` open; the default here is the LSQ rule ``a = 1 / sqrt(F * D)`` with ``F`` the
number of features per sample.

Spike inference: each integer output is sent as ``count`` binary spikes over ``D`` sub-steps
plus a constant that the next layer folds into its bias,
``W @ S = (W @ sum_d b_d + W @ constant) / N``, with ``constant = ceil(alpha)`` (0 for ILIF
and NILIF) and ``count = q - ceil(alpha)`` in ``[0, D]``. This is exact whenever ``alpha`` is
an integer. For a non-integer ``alpha`` the literal window of Eq. 7 emits the non-integer
values ``alpha`` and ``alpha + D`` at its two clip boundaries; spike inference sends
``ceil(alpha)`` and ``ceil(alpha) + D`` there, so the two differ only on clipped entries, by
``ceil(alpha) - alpha < 1``. With ``window="shifted"`` the neuron instead emits
``alpha + clip(round(U - alpha), 0, D)``, whose spike form (constant ``alpha``) is exact for
every ``alpha``.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

from models.neurons.base import SpikingNeuron

DEFAULT_D = 4  # the 1x4 setting: one integer step, at most four spikes
DEFAULT_BETA = 0.5  # decay of the residual; unused when T = 1


class _ClipRound(torch.autograd.Function):
    """``clip(round(u), lo, hi)`` with the straight-through gradients described above."""

    @staticmethod
    def forward(ctx, u, alpha, width, shift, grad_scale):  # type: ignore[override]
        lo = alpha.detach()
        hi = lo + width
        if shift:
            q = lo + torch.clamp(torch.round(u - lo), 0.0, width)
        else:
            q = torch.minimum(torch.maximum(torch.round(u), lo), hi)
        ctx.save_for_backward(u, lo)
        ctx.width, ctx.grad_scale = width, grad_scale
        return q

    @staticmethod
    def backward(ctx, grad_q):  # type: ignore[override]
        u, lo = ctx.saved_tensors
        hi = lo + ctx.width
        inside = (u >= lo) & (u <= hi)
        grad_u = grad_q * inside
        grad_alpha = (grad_q * ~inside).sum() * ctx.grad_scale
        return grad_u, grad_alpha.reshape(()), None, None, None


class IntegerNeuron(SpikingNeuron):
    """Shared implementation of ILIF, NILIF, ASN and NASN (see the module docstring).

    Records ``mem`` (``U[t]``), ``q`` (the integer-valued output before ``/ N``), ``spk``
    (``S[t]``), ``window`` (``(lo, hi)``) and ``N``.

    Args:
        D: maximum spike count per time step (the width of the clip window).
        normalized: divide the output by ``N = D`` (NILIF, NASN) instead of ``N = 1``.
        learnable_alpha: learn the window's lower edge ``alpha`` (ASN, NASN); else it is 0.
        alpha_init: initial ``alpha``.
        beta: decay of the residual ``H``.
        grad_scale: the ``a`` of the alpha gradient; None for ``1 / sqrt(F * D)``.
        window: ``"literal"`` for Eq. 7, ``"shifted"`` for the exact-inference variant.
    """

    output_kind = "integer"

    def __init__(
        self,
        *,
        D: int = DEFAULT_D,
        normalized: bool = False,
        learnable_alpha: bool = False,
        alpha_init: float = 0.0,
        beta: float = DEFAULT_BETA,
        grad_scale: float | None = None,
        window: Literal["literal", "shifted"] = "literal",
    ) -> None:
        super().__init__()
        if int(D) != D or D < 1:
            raise ValueError(f"D must be a positive integer, got {D}")
        if window not in ("literal", "shifted"):
            raise ValueError(f"window must be 'literal' or 'shifted', got {window!r}")
        if not 0.0 <= beta <= 1.0:
            raise ValueError(f"beta must lie in [0, 1], got {beta}")
        self.D = int(D)
        self.N = self.D if normalized else 1
        self.steps_per_output = self.D
        self.beta = float(beta)
        self.grad_scale = grad_scale
        self.window = window
        alpha = torch.tensor(float(alpha_init))
        if learnable_alpha:
            self.alpha = nn.Parameter(alpha)
        else:
            self.register_buffer("alpha", alpha)

    def extra_repr(self) -> str:
        return (
            f"D={self.D}, N={self.N}, alpha={float(self.alpha):.4f}, beta={self.beta}, "
            f"window={self.window!r}"
        )

    @property
    def clip_window(self) -> tuple[float, float]:
        """The current window ``(lo, hi)`` of the integer output ``q``."""
        lo = float(self.alpha.detach())
        return lo, lo + self.D

    def _scale(self, u: torch.Tensor) -> float:
        if self.grad_scale is not None:
            return self.grad_scale
        features = u[0].numel() // max(u.shape[1], 1) if u.dim() > 1 else u.numel()
        return 1.0 / math.sqrt(max(features, 1) * self.D)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``S = q / N`` as ``[T, B, ...]`` for inputs ``[T, B, ...]``."""
        grad_scale = self._scale(x)
        shift = self.window == "shifted"
        h = torch.zeros_like(x[0])
        mems, qs = [], []
        for t in range(x.shape[0]):
            u = h + x[t]
            q = _ClipRound.apply(u, self.alpha, float(self.D), shift, grad_scale)
            h = self.beta * (u - q)
            mems.append(u)
            qs.append(q)
        q_seq = torch.stack(qs)
        spk = q_seq / self.N if self.N != 1 else q_seq
        if self.record:
            self._store(mem=torch.stack(mems), q=q_seq, spk=spk, window=self.clip_window, N=self.N)
        return spk

    def spike_constant(self) -> float:
        """The constant term of spike inference: ``alpha`` when shifted, else ``ceil(alpha)``."""
        alpha = float(self.alpha.detach())
        return alpha if self.window == "shifted" else float(math.ceil(alpha))

    def unroll(self, spk: torch.Tensor) -> tuple[torch.Tensor, float, float]:
        """Unroll ``S`` into ``D`` binary spikes per step.

        Returns:
            ``(binary, constant, scale)`` where ``binary`` is ``[T, D, B, ...]`` with the first
            ``count`` sub-steps set, and ``scale * (binary.sum(1) + constant)`` equals ``spk``
            exactly for an integer ``alpha`` or the shifted window (see the module docstring
            for the literal window with a non-integer ``alpha``).
        """
        constant = self.spike_constant()
        q = spk * self.N
        # the shifted window's count is an integer up to float error; the literal window's
        # clipped entries alpha and alpha + D round up to ceil(alpha) and ceil(alpha) + D
        rounding = torch.round if self.window == "shifted" else torch.ceil
        count = rounding(q - constant).clamp(0, self.D)
        steps = torch.arange(self.D, device=spk.device, dtype=spk.dtype)
        steps = steps.view(1, self.D, *([1] * (spk.dim() - 1)))
        binary = (steps < count.unsqueeze(1)).to(spk.dtype)
        return binary, constant, 1.0 / self.N


class ILIF(IntegerNeuron):
    """Integer LIF: ``S = clip(round(U), 0, D)``; see the module docstring."""

    def __init__(self, *, D: int = DEFAULT_D, beta: float = DEFAULT_BETA) -> None:
        super().__init__(D=D, normalized=False, learnable_alpha=False, beta=beta)


class NILIF(IntegerNeuron):
    """Normalized integer LIF: ``S = clip(round(U), 0, D) / D``; see the module docstring."""

    def __init__(self, *, D: int = DEFAULT_D, beta: float = DEFAULT_BETA) -> None:
        super().__init__(D=D, normalized=True, learnable_alpha=False, beta=beta)


class ASN(IntegerNeuron):
    """Adaptive spiking neuron: ``S = clip(round(U), alpha, alpha + D)``, learnable ``alpha``."""

    def __init__(
        self,
        *,
        D: int = DEFAULT_D,
        alpha_init: float = 0.0,
        beta: float = DEFAULT_BETA,
        grad_scale: float | None = None,
        window: Literal["literal", "shifted"] = "literal",
    ) -> None:
        super().__init__(
            D=D,
            normalized=False,
            learnable_alpha=True,
            alpha_init=alpha_init,
            beta=beta,
            grad_scale=grad_scale,
            window=window,
        )


class NASN(IntegerNeuron):
    """Normalized ASN: ``S = clip(round(U), alpha, alpha + D) / D`` and ``H = beta * (U - D * S)``."""

    def __init__(
        self,
        *,
        D: int = DEFAULT_D,
        alpha_init: float = 0.0,
        beta: float = DEFAULT_BETA,
        grad_scale: float | None = None,
        window: Literal["literal", "shifted"] = "literal",
    ) -> None:
        super().__init__(
            D=D,
            normalized=True,
            learnable_alpha=True,
            alpha_init=alpha_init,
            beta=beta,
            grad_scale=grad_scale,
            window=window,
        )
