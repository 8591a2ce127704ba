"""Leaky integrate-and-fire neurons with SpikingJelly's ``LIFNode`` equations.

The update of one time step, with ``a = 1 / tau``:

- charge, ``decay_input=True``:  ``H[t] = V[t-1] + a * (X[t] - (V[t-1] - v_reset))``
- charge, ``decay_input=False``: ``H[t] = V[t-1] - a * (V[t-1] - v_reset) + X[t]``
  (with ``v_reset=None`` the leak pulls toward 0 instead of ``v_reset``)
- fire: ``S[t] = Heaviside(H[t] - v_threshold)``, with the ATan surrogate in the backward pass
- reset, hard (``v_reset`` a number): ``V[t] = H[t] * (1 - S[t]) + v_reset * S[t]``
- reset, soft (``v_reset=None``):     ``V[t] = H[t] - v_threshold * S[t]``

``V[-1]`` is ``v_reset`` for a hard reset and 0 for a soft one. With ``detach_reset=True`` the
spike used in the reset carries no gradient. Inputs and outputs are time-first ``[T, B, ...]``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from models.neurons.base import SpikingNeuron
from models.neurons.surrogate import DEFAULT_ATAN_ALPHA, spike_atan


def lif_charge(
    v: torch.Tensor,
    x: torch.Tensor,
    decay: float | torch.Tensor,
    decay_input: bool,
    v_reset: float | None,
) -> torch.Tensor:
    """Return ``H[t]`` from the previous state ``v`` and the input ``x``; ``decay`` is ``1 / tau``."""
    rest = 0.0 if v_reset is None else v_reset
    if decay_input:
        return v + (x - (v - rest)) * decay
    return v - (v - rest) * decay + x


def lif_reset(
    h: torch.Tensor, spk: torch.Tensor, v_threshold: float, v_reset: float | None
) -> torch.Tensor:
    """Return ``V[t]`` after firing: hard reset to ``v_reset`` or soft reset by subtraction."""
    if v_reset is None:
        return h - spk * v_threshold
    return h * (1.0 - spk) + v_reset * spk


def lif_step(
    v: torch.Tensor,
    x: torch.Tensor,
    *,
    decay: float | torch.Tensor,
    v_threshold: float,
    v_reset: float | None,
    decay_input: bool,
    detach_reset: bool,
    surrogate_alpha: float = DEFAULT_ATAN_ALPHA,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Run one LIF step and return ``(spk, h, v_next)``; differentiable through autograd."""
    h = lif_charge(v, x, decay, decay_input, v_reset)
    spk = spike_atan(h - v_threshold, surrogate_alpha)
    spk_reset = spk.detach() if detach_reset else spk
    return spk, h, lif_reset(h, spk_reset, v_threshold, v_reset)


class _LIFMultiStep(torch.autograd.Function):
    """All T steps in one autograd node.

    The forward runs without a graph and the backward walks time in reverse with the
    hand-derived gradients below. This is much faster than one graph node per elementwise
    operation and step, and gives SpikingJelly's gradients to float precision.
    """

    @staticmethod
    def forward(ctx, x_seq, tau, v_threshold, v_reset, decay_input, detach_reset, alpha, keep_v):  # type: ignore[override]
        rest = 0.0 if v_reset is None else v_reset
        v = torch.full_like(x_seq[0], rest)
        h_seq = torch.empty_like(x_seq)
        fired = torch.empty(x_seq.shape, dtype=torch.bool, device=x_seq.device)
        v_seq = torch.empty_like(x_seq) if keep_v else x_seq.new_empty(0)
        for t in range(x_seq.shape[0]):
            h = h_seq[t]
            if decay_input:  # H = V + (X - (V - v_reset)) / tau
                torch.sub(x_seq[t], v, out=h)
                if rest:
                    h.add_(rest)
                h.div_(tau).add_(v)
            else:  # H = V - (V - v_reset) / tau + X
                torch.sub(v, rest, out=h)
                h.div_(tau)
                torch.sub(v, h, out=h)
                h.add_(x_seq[t])
            torch.ge(h, v_threshold, out=fired[t])
            v = (
                torch.where(fired[t], rest, h)
                if v_reset is not None
                else h - fired[t] * v_threshold
            )
            if keep_v:
                v_seq[t] = v
        spk_seq = fired.to(x_seq.dtype)
        ctx.save_for_backward(h_seq, fired)
        ctx.config = (tau, v_threshold, v_reset, decay_input, detach_reset, alpha)
        ctx.mark_non_differentiable(h_seq, v_seq)
        return spk_seq, h_seq, v_seq

    @staticmethod
    def backward(ctx, grad_spk, _grad_h, _grad_v):  # type: ignore[override]
        h_seq, fired = ctx.saved_tensors
        tau, v_threshold, v_reset, decay_input, detach_reset, alpha = ctx.config
        keep = 1.0 - 1.0 / tau  # dH[t] / dV[t-1]
        sharpness = math.pi / 2 * alpha
        grad_x = torch.empty_like(h_seq)
        grad_v = torch.zeros_like(h_seq[0])  # dL / dV[t]; nothing flows from past the last step
        for t in reversed(range(h_seq.shape[0])):
            h = h_seq[t]
            # ATan surrogate alpha / 2 / (1 + (pi / 2 * alpha * (H - threshold)) ** 2), in place
            surrogate = torch.sub(h, v_threshold).mul_(sharpness).square_().add_(1.0)
            surrogate = surrogate.reciprocal_().mul_(alpha / 2)
            # dL/dH[t] = dL/dS[t] * dS/dH[t] + dL/dV[t] * dV[t]/dH[t]; dV/dH is the reset path
            # plus the spike's own surrogate term unless the reset is detached
            if v_reset is None:
                if detach_reset:
                    grad_h = grad_v.clone()
                else:
                    grad_h = surrogate.mul(-v_threshold).add_(1.0).mul_(grad_v)
            else:
                grad_h = torch.where(fired[t], 0.0, grad_v)
                if not detach_reset:
                    grad_h.addcmul_(surrogate.mul(grad_v), v_reset - h)
            grad_h.addcmul_(grad_spk[t], surrogate)
            if decay_input:
                torch.div(grad_h, tau, out=grad_x[t])
            else:
                grad_x[t] = grad_h
            grad_v = grad_h.mul_(keep)
        return grad_x, None, None, None, None, None, None, None


class LIF(SpikingNeuron):
    """Leaky integrate-and-fire neuron, number-for-number SpikingJelly's multi-step ``LIFNode``.

    See the module docstring for the update equations. Records ``mem`` (``H[t]``, the
    potential compared with the threshold), ``v`` (``V[t]`` after the reset, SpikingJelly's
    ``v_seq``), ``spk`` and ``threshold``.

    Args:
        tau: membrane time constant, > 1.
        v_threshold: firing threshold.
        v_reset: hard-reset potential, or None for a soft reset by subtraction.
        decay_input: whether the input is scaled by ``1 / tau`` as well.
        detach_reset: drop the gradient of the spike in the reset path.
        surrogate_alpha: sharpness of the ATan surrogate.
    """

    def __init__(
        self,
        *,
        tau: float = 2.0,
        v_threshold: float = 1.0,
        v_reset: float | None = 0.0,
        decay_input: bool = True,
        detach_reset: bool = False,
        surrogate_alpha: float = DEFAULT_ATAN_ALPHA,
    ) -> None:
        super().__init__()
        if not tau > 1.0:
            raise ValueError(f"tau must be greater than 1, got {tau}")
        self.tau = float(tau)
        self.v_threshold = float(v_threshold)
        self.v_reset = None if v_reset is None else float(v_reset)
        self.decay_input = decay_input
        self.detach_reset = detach_reset
        self.surrogate_alpha = float(surrogate_alpha)

    def extra_repr(self) -> str:
        return (
            f"tau={self.tau}, v_threshold={self.v_threshold}, v_reset={self.v_reset}, "
            f"decay_input={self.decay_input}, detach_reset={self.detach_reset}"
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return spikes ``[T, B, ...]`` for inputs ``[T, B, ...]``."""
        spk, h, v = _LIFMultiStep.apply(
            x,
            self.tau,
            self.v_threshold,
            self.v_reset,
            self.decay_input,
            self.detach_reset,
            self.surrogate_alpha,
            self.record,
        )
        if self.record:
            self._store(mem=h, v=v, spk=spk, threshold=self.v_threshold)
        return spk


class PLIF(SpikingNeuron):
    """Parametric LIF: the LIF update with a learnable ``1 / tau = sigmoid(w)`` per layer.

    Same equations as :class:`LIF` (Fang et al. 2021, SpikingJelly's ``ParametricLIFNode``),
    with ``w`` initialised to ``-log(init_tau - 1)`` so that ``tau`` starts at ``init_tau``.
    Records ``mem``, ``v``, ``spk``, ``threshold`` and the current ``tau``.
    """

    def __init__(
        self,
        *,
        init_tau: float = 2.0,
        v_threshold: float = 1.0,
        v_reset: float | None = 0.0,
        decay_input: bool = True,
        detach_reset: bool = False,
        surrogate_alpha: float = DEFAULT_ATAN_ALPHA,
    ) -> None:
        super().__init__()
        if not init_tau > 1.0:
            raise ValueError(f"init_tau must be greater than 1, got {init_tau}")
        self.w = nn.Parameter(torch.tensor(-math.log(init_tau - 1.0)))
        self.v_threshold = float(v_threshold)
        self.v_reset = None if v_reset is None else float(v_reset)
        self.decay_input = decay_input
        self.detach_reset = detach_reset
        self.surrogate_alpha = float(surrogate_alpha)

    @property
    def tau(self) -> float:
        """Current membrane time constant ``1 / sigmoid(w)``."""
        return float(1.0 / torch.sigmoid(self.w.detach()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return spikes ``[T, B, ...]`` for inputs ``[T, B, ...]``."""
        decay = torch.sigmoid(self.w)
        v = torch.full_like(x[0], 0.0 if self.v_reset is None else self.v_reset)
        spikes, mems, volts = [], [], []
        for t in range(x.shape[0]):
            spk, h, v = lif_step(
                v,
                x[t],
                decay=decay,
                v_threshold=self.v_threshold,
                v_reset=self.v_reset,
                decay_input=self.decay_input,
                detach_reset=self.detach_reset,
                surrogate_alpha=self.surrogate_alpha,
            )
            spikes.append(spk)
            mems.append(h)
            volts.append(v)
        spk_seq = torch.stack(spikes)
        if self.record:
            self._store(
                mem=torch.stack(mems),
                v=torch.stack(volts),
                spk=spk_seq,
                threshold=self.v_threshold,
                tau=self.tau,
            )
        return spk_seq
