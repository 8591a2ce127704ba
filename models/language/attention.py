"""Self-attention modules of the language models: WSSA/CWSSA, Spikformer's SSA and softmax.

All three take and return time-first tensors. The spiking modules take spikes
``[T, B, L, C]`` from the block's input neuron and return the projected output ``[T, B, L, C]``
that the block adds to its membrane shortcut; the softmax module works on ``[B, L, C]``.
Every product between two activations goes through ``models.layers.SpikeMatmul`` so that
``analysis.energy.count_ops`` counts it and the attention analysis can read its operands:
``qk`` computes ``Q K^T`` and ``av`` the product of the attention matrix with ``V``.
"""

from __future__ import annotations

import torch
from torch import nn

from models.language.config import LanguageModelConfig
from models.language.wta import allowed_keys, wta_select
from models.layers import SpikeMatmul
from models.neurons import make_neuron
from models.neurons.base import SpikingNeuron


class SeqBatchNorm(nn.BatchNorm1d):
    """Batch normalisation over the last dimension of ``[..., C]`` (all other dims are samples).

    NOTE: in training the batch statistics of a causal model mix all positions of the batch,
    a leak of the order of one in ``B * L`` values per channel; in evaluation the running
    statistics are used and each position depends only on itself.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        return super().forward(x.reshape(-1, shape[-1])).reshape(shape)


def spiking_neuron(config: LanguageModelConfig) -> SpikingNeuron:
    """Build one neuron layer of the configured kind (NILIF or NASN with ``D = spike_steps``)."""
    return make_neuron(config.neuron, D=config.spike_steps)


def _split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    # [..., L, C] -> [..., H, L, d]; a view and a permute, so the storage is the neuron's output
    *lead, length, width = x.shape
    return x.view(*lead, length, heads, width // heads).transpose(-3, -2)


def _merge_heads(x: torch.Tensor) -> torch.Tensor:
    # [..., H, L, d] -> [..., L, H * d]
    *lead, heads, length, dim = x.shape
    return x.transpose(-3, -2).reshape(*lead, length, heads * dim)


class _SpikingProjection(nn.Module):
    """``SN(BN(W x))``: a linear projection of spikes to spikes, without bias (BN has one)."""

    def __init__(self, width_in: int, width_out: int, config: LanguageModelConfig) -> None:
        super().__init__()
        self.linear = nn.Linear(width_in, width_out, bias=False)
        self.norm = SeqBatchNorm(width_out)
        self.neuron = spiking_neuron(config)

    def forward(self, spk: torch.Tensor) -> torch.Tensor:
        return self.neuron(self.norm(self.linear(spk)))


class SpikingSelfAttention(nn.Module):
    """WSSA / CWSSA (``attention="wssa"``) or Spikformer's SSA (``attention="ssa"``).

    For spikes ``X`` ``[T, B, L, C]`` and each head, time step and sample:

    - ``Q = SN(BN(X W_q))``, ``K = SN(BN(X W_k))``, ``V = SN(BN(X W_v))``
    - scores ``A = s * Q K^T`` ``[L, L]``
    - WSSA: ``A_att = WTA_k(A) / k`` (see ``models.language.wta``; causal models mask later keys
      before the winner is chosen). SSA: ``A_att = A``, with later keys zeroed in causal models.
    - ``O = SN(BN(A_att V))``, output ``BN(O W_o + b)``

    With ``k = 1`` the product ``A_att V`` copies one row of ``V`` per query, so it needs no
    multiplication; with SSA it is a sum over all keys. The integer activation of ``A_att V``
    is re-quantised by the output neuron so that ``W_o`` receives spikes.

    Attributes:
        last_scores: when ``keep_scores`` is true, the scores ``A`` of the last forward pass
            ``[T, B, H, L, L]``; otherwise None.
    """

    def __init__(self, config: LanguageModelConfig) -> None:
        super().__init__()
        if config.attention not in ("wssa", "ssa"):
            raise ValueError(
                f"SpikingSelfAttention needs attention 'wssa' or 'ssa', got {config.attention!r}"
            )
        width = config.width
        self.config = config
        self.q = _SpikingProjection(width, width, config)
        self.k = _SpikingProjection(width, width, config)
        self.v = _SpikingProjection(width, width, config)
        self.qk = SpikeMatmul()
        self.av = SpikeMatmul()
        self.attn_norm = SeqBatchNorm(width)
        self.attn_neuron = spiking_neuron(config)
        self.proj = nn.Linear(width, width)
        self.proj_norm = SeqBatchNorm(width)

    def forward(self, spk: torch.Tensor) -> torch.Tensor:
        """Return the attention output ``[T, B, L, C]`` for input spikes ``[T, B, L, C]``."""
        config = self.config
        heads = config.heads
        q = _split_heads(self.q(spk), heads)  # [T, B, H, L, d]
        k = _split_heads(self.k(spk), heads)
        v = _split_heads(self.v(spk), heads)
        scores = self.qk(q, k.transpose(-2, -1)) * config.scale  # [T, B, H, L, L]

        if config.attention == "wssa":
            selection = wta_select(scores, config.top_k, config.causal, config.tau)
            mixed = self.av(selection, v)  # [T, B, H, L, d]
            if config.top_k > 1:
                mixed = mixed / config.top_k
        else:
            if config.causal:
                allowed = allowed_keys(scores.shape[-1], True, scores.device)
                scores = scores * allowed
            mixed = self.av(scores, v)

        out = self.attn_neuron(self.attn_norm(_merge_heads(mixed)))  # [T, B, L, C]
        return self.proj_norm(self.proj(out))


class SoftmaxSelfAttention(nn.Module):
    """Standard multi-head attention, ``softmax(Q K^T / sqrt(d) + mask) V``, on ``[B, L, C]``."""

    def __init__(self, config: LanguageModelConfig) -> None:
        super().__init__()
        self.config = config
        self.qkv = nn.Linear(config.width, 3 * config.width)
        self.qk = SpikeMatmul()
        self.av = SpikeMatmul()
        self.proj = nn.Linear(config.width, config.width)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the attention output ``[B, L, C]`` for input ``[B, L, C]``."""
        config = self.config
        q, k, v = (_split_heads(part, config.heads) for part in self.qkv(x).chunk(3, dim=-1))
        scores = self.qk(q, k.transpose(-2, -1)) * config.head_dim**-0.5  # [B, H, L, L]
        if config.causal:
            allowed = allowed_keys(scores.shape[-1], True, scores.device)
            scores = scores.masked_fill(~allowed, float("-inf"))
        weights = self.dropout(torch.softmax(scores, dim=-1))
        return self.proj(_merge_heads(self.av(weights, v)))
