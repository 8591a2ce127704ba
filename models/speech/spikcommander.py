"""SpikCommander (Wang et al., AAAI 2026): SEE embedding, MSTASA attention, SCR-MLP, per-step head.

All tensors are time-first: the input is ``[T, B, F]`` (F mel bands or input channels), the
inside ``[T, B, D]`` and the output logits ``[T, B, n_classes]``. Every spiking layer is the
LIF of :func:`models.speech.layers.spikcommander_lif`.

The structure follows the authors' released code as far as it goes. Their MSTASA and SCR-MLP
forward passes were published only in part, so the wiring of each view below follows the
description of those functions (projections, window sums, gates, fusion order) and is a
reconstruction where the code was missing. The prediction is the argmax of the softmax summed
over time steps, and the loss is cross-entropy on those summed probabilities, as in the
authors' training loop.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from models.speech.config import SpikCommanderConfig
from models.speech.layers import (
    SeqBatchNorm,
    TimeConv1d,
    WindowSum,
    along_time,
    conv_bn_lif,
    spikcommander_lif,
)


class SEE(nn.Module):
    """Embed the input as spikes (SEE): ``x1 = LIF(BN(DWConv(PWConv(x))))``, ``x1 + LIF(BN(W x1))``.

    The first convolution mixes the ``F`` input channels into ``D`` (with bias), the depthwise
    one smooths each channel along time with kernel ``see_kernel``. Dropout follows the second
    LIF. The output contains values in {0, 1, 2} because of the residual sum.
    """

    def __init__(self, config: SpikCommanderConfig) -> None:
        super().__init__()
        dim = config.dim
        self.pointwise = TimeConv1d(config.in_features, dim, 1)
        self.depthwise = TimeConv1d(dim, dim, config.see_kernel, groups=dim)
        self.norm = SeqBatchNorm(dim)
        self.lif = spikcommander_lif()
        self.mix = conv_bn_lif(dim, dim)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.lif(self.norm(along_time(self.depthwise, along_time(self.pointwise, x))))
        return x1 + self.dropout(self.mix(x1))


class MSTASA(nn.Module):
    """Multi-view spiking temporal-aware self-attention on ``[T, B, D]`` with ``H`` heads.

    With spiking projections ``Q, K, V = LIF(BN(W x))`` (each ``[T, B, H, d_h]``):

    - local view: ``Q_loc[t] = sum_{|t' - t| <= w} Q[t']`` (same for ``K``), zero-padded;
      ``gate_loc = LIF((Q_loc + K_loc) / sqrt(d_h (2w + 1)))`` over the T steps;
      ``out_loc = gate_loc * V``.
    - global view: ``Q_all = sum_t Q[t]``; ``gate_all = LIF((Q_all + K_all) / sqrt(d_h T))``
      as a single LIF step; ``out_all = gate_all * V`` for every ``t``.
    - V-branch: a pointwise Conv2d across heads and a depthwise Conv2d with kernel
      ``v_kernel`` over (time, head channel) of ``V`` laid out ``[B, H, T, d_h]``, then LIF.
    - fusion: ``y = LIF(BN(W_f drop(out_loc + out_all))) + v_mask``;
      ``out = drop(LIF(BN(W_o y)))``.

    The gates act element-wise per head channel, so the cost is O(T D) rather than the O(T^2 D)
    of a token-by-token attention matrix. The global sums over T are plain additions that the
    energy counter does not see (``D T`` accumulates per sample, under 1 % of the layer's).
    """

    def __init__(self, config: SpikCommanderConfig) -> None:
        super().__init__()
        dim, heads = config.dim, config.heads
        self.heads = heads
        self.head_dim = config.head_dim
        self.local_view = config.local_view
        self.global_view = config.global_view
        self.use_v_branch = config.v_branch
        self.q = conv_bn_lif(dim, dim)
        self.k = conv_bn_lif(dim, dim)
        self.v = conv_bn_lif(dim, dim)
        if self.local_view:
            self.window_sum = WindowSum(dim, config.window)
            self.local_scale = 1.0 / math.sqrt(self.head_dim * (2 * config.window + 1))
            self.gate_local = spikcommander_lif()
        if self.global_view:
            self.global_scale = 1.0 / math.sqrt(self.head_dim * config.steps)
            self.gate_global = spikcommander_lif()
        if self.use_v_branch:
            kt, kc = config.v_kernel
            self.v_pointwise = nn.Conv2d(heads, heads, 1, bias=False)
            self.v_depthwise = nn.Conv2d(
                heads, heads, (kt, kc), padding=(kt // 2, kc // 2), groups=heads, bias=False
            )
            self.v_lif = spikcommander_lif()
        self.fuse = conv_bn_lif(dim, dim)
        self.project = conv_bn_lif(dim, dim)
        self.dropout = nn.Dropout(config.dropout)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        steps, batch, _ = x.shape
        return x.view(steps, batch, self.heads, self.head_dim)  # [T, B, H, d_h]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        steps, batch, dim = x.shape
        q, k, v = self.q(x), self.k(x), self.v(x)  # [T, B, D] spikes each
        mixed = torch.zeros_like(v)

        if self.local_view:
            current = along_time(self.window_sum, q) + along_time(self.window_sum, k)
            current = current * self.local_scale
            gate = self.gate_local(self._heads(current))  # [T, B, H, d_h]
            mixed = mixed + gate.reshape(steps, batch, dim) * v

        if self.global_view:
            current = (q.sum(0, keepdim=True) + k.sum(0, keepdim=True)) * self.global_scale
            gate = self.gate_global(self._heads(current))  # [1, B, H, d_h]: one LIF step
            mixed = mixed + gate.reshape(1, batch, dim) * v

        y = self.dropout(self.fuse(self.dropout(mixed)))

        if self.use_v_branch:
            heads_first = self._heads(v).permute(1, 2, 0, 3).contiguous()  # [B, H, T, d_h]
            current = self.v_depthwise(self.v_pointwise(heads_first)).permute(
                2, 0, 1, 3
            )  # [T, B, H, d_h]
            y = y + self.v_lif(current.contiguous()).reshape(steps, batch, dim)

        return self.dropout(self.project(y))


class SCRMLP(nn.Module):
    """Spiking contextual refinement MLP on ``[T, B, D]`` with hidden width ``h``.

    ``z = LIF(BN(W_1 x))`` (D to D), ``u = LIF(BN(W_2 z))`` (D to h); the channels split into
    halves ``a, b``; ``a' = LIF(BN(DWConv_31(a)))`` along time; ``c = LIF(BN(W_3 [b, a']))``
    (h to D); ``out = LIF(BN(W_4 c))`` (D to D). Dropout follows each LIF.
    """

    def __init__(self, config: SpikCommanderConfig) -> None:
        super().__init__()
        dim, hidden = config.dim, config.dim * config.mlp_ratio
        half = hidden // 2
        self.inner = conv_bn_lif(dim, dim)
        self.expand = conv_bn_lif(dim, hidden)
        self.temporal = TimeConv1d(half, half, config.scr_kernel, groups=half, bias=False)
        self.temporal_norm = SeqBatchNorm(half)
        self.temporal_lif = spikcommander_lif()
        self.reduce = conv_bn_lif(hidden, dim)
        self.outer = conv_bn_lif(dim, dim)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.dropout(self.inner(x))
        u = self.dropout(self.expand(z))  # [T, B, h]
        a, b = u.chunk(2, dim=-1)
        a = self.dropout(self.temporal_lif(self.temporal_norm(along_time(self.temporal, a))))
        c = self.dropout(self.reduce(torch.cat([b, a], dim=-1)))
        return self.dropout(self.outer(c))


class PlainMLP(nn.Module):
    """The ablation's plain spiking MLP: ``drop(LIF(BN(W_2 drop(LIF(BN(W_1 x))))))``, D-h-D."""

    def __init__(self, config: SpikCommanderConfig) -> None:
        super().__init__()
        hidden = config.dim * config.mlp_ratio
        self.expand = conv_bn_lif(config.dim, hidden)
        self.reduce = conv_bn_lif(hidden, config.dim)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.reduce(self.dropout(self.expand(x))))


class Block(nn.Module):
    """``x = x + MSTASA(x)``, then ``x = x + MLP(x)``."""

    def __init__(self, config: SpikCommanderConfig) -> None:
        super().__init__()
        self.attn = MSTASA(config)
        self.mlp = SCRMLP(config) if config.mlp == "scr" else PlainMLP(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(x)
        return x + self.mlp(x)


class SpikCommander(nn.Module):
    """SEE, ``depths`` blocks and a linear head applied at every time step.

    ``forward(x)`` takes ``[T, B, F]`` and returns per-step logits ``[T, B, n_classes]``;
    :func:`summed_probabilities` turns them into the prediction scores.
    """

    def __init__(self, config: SpikCommanderConfig | None = None) -> None:
        super().__init__()
        self.config = config or SpikCommanderConfig()
        self.embed = SEE(self.config)
        self.blocks = nn.ModuleList(Block(self.config) for _ in range(self.config.depths))
        self.head = nn.Linear(self.config.dim, self.config.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or x.shape[-1] != self.config.in_features:
            raise ValueError(
                f"expected input [T, B, {self.config.in_features}], got shape {tuple(x.shape)}"
            )
        x = self.embed(x)
        for block in self.blocks:
            x = block(x)
        return self.head(x)


def summed_probabilities(logits: torch.Tensor) -> torch.Tensor:
    """Return ``sum_t softmax(logits[t])``, ``[B, n_classes]``, for logits ``[T, B, n_classes]``."""
    return F.softmax(logits, dim=-1).sum(0)


def spikcommander_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy on the summed per-step probabilities, as the authors' training loop does.

    ``loss = CE(sum_t softmax(logits[t]), y)``: ``F.cross_entropy`` applies a log-softmax on
    top of the summed probabilities.
    """
    return F.cross_entropy(summed_probabilities(logits), labels)


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters (the frozen window-sum kernels are left out)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
