"""WE-/WD-Spikingformer, the Spikformer-SSA baseline and the ANN twin, built from one config.

Spiking models (``attention`` ``"wssa"`` or ``"ssa"``), on time-first tensors:

- ``x_0 = g * E[token] + P[position]`` with a fixed gain ``g``, repeated over ``T`` time
  steps: ``[T, B, L, C]``
- block ``l`` with membrane shortcuts (the residual stream ``x`` holds membrane potentials and
  each branch starts with its own neuron, as in Spikingformer):
  ``x = x + Attn(SN(x))`` then ``x = x + MLP(SN(x))`` with
  ``MLP(S) = BN(W_2 SN(BN(W_1 S)) + b_2)``
- logits: ``mean_t (SN(x_t) E^T + b)`` with the output projection tied to the embedding ``E``.

WD-Spikingformer is ``attention="wssa", objective="causal"`` (CWSSA); WE-Spikingformer is
``attention="wssa", objective="masked"`` (WSSA). The ANN twin (``attention="softmax"``) is a
pre-norm transformer of the same widths: ``x = x + Attn(LN(x))``, ``x = x + MLP(LN(x))`` with
a GELU MLP, and logits ``LN(x) E^T + b``.
"""

from __future__ import annotations

import torch
from torch import nn

from models.language.attention import (
    SeqBatchNorm,
    SoftmaxSelfAttention,
    SpikingSelfAttention,
    spiking_neuron,
)
from models.language.config import LanguageModelConfig

# The spiking models scale the embedding by SPIKING_INPUT_GAIN on the way in, so that the first
# neurons see inputs of order one and fire, while the tied output projection starts with
# logits of order one instead of order ten.
SPIKING_EMBED_STD = 0.1
SPIKING_INPUT_GAIN = 10.0
ANN_EMBED_STD = 0.02  # GPT-2's initialisation, for token and position embeddings alike
SPIKING_POSITION_STD = 0.5


class SpikingMLP(nn.Module):
    """``BN(W_2 SN(BN(W_1 S)) + b_2)`` on spikes ``[T, B, L, C]``."""

    def __init__(self, config: LanguageModelConfig) -> None:
        super().__init__()
        hidden = config.width * config.mlp_ratio
        self.fc1 = nn.Linear(config.width, hidden, bias=False)
        self.norm1 = SeqBatchNorm(hidden)
        self.neuron = spiking_neuron(config)
        self.fc2 = nn.Linear(hidden, config.width)
        self.norm2 = SeqBatchNorm(config.width)

    def forward(self, spk: torch.Tensor) -> torch.Tensor:
        return self.norm2(self.fc2(self.neuron(self.norm1(self.fc1(spk)))))


class SpikingBlock(nn.Module):
    """One Spikingformer block with membrane shortcuts on ``[T, B, L, C]``."""

    def __init__(self, config: LanguageModelConfig) -> None:
        super().__init__()
        self.attn_input = spiking_neuron(config)
        self.attn = SpikingSelfAttention(config)
        self.mlp_input = spiking_neuron(config)
        self.mlp = SpikingMLP(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.attn_input(x))
        return x + self.mlp(self.mlp_input(x))


class ANNBlock(nn.Module):
    """One pre-norm transformer block on ``[B, L, C]``."""

    def __init__(self, config: LanguageModelConfig) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(config.width)
        self.attn = SoftmaxSelfAttention(config)
        self.norm2 = nn.LayerNorm(config.width)
        hidden = config.width * config.mlp_ratio
        self.mlp = nn.Sequential(
            nn.Linear(config.width, hidden),
            nn.GELU(),
            nn.Linear(hidden, config.width),
            nn.Dropout(config.dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class LanguageModel(nn.Module):
    """A language model of any kind in ``LanguageModelConfig``; maps tokens to logits.

    ``forward(tokens)`` takes ``[B, L]`` token ids with ``L <= context`` and returns logits
    ``[B, L, V]``. For the causal objective the logits at position ``i`` predict token ``i + 1``;
    for the masked objective they predict the token at ``i`` itself (used at masked positions).
    The output projection shares its weight with the embedding; checkpoints store it once
    (see ``TIED_KEY``).
    """

    TIED_KEY = "head.weight"

    def __init__(self, config: LanguageModelConfig) -> None:
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.width)
        position_std = SPIKING_POSITION_STD if config.spiking else ANN_EMBED_STD
        self.position = nn.Parameter(torch.randn(config.context, config.width) * position_std)
        if config.spiking:
            nn.init.normal_(self.embed.weight, std=SPIKING_EMBED_STD)
            self.blocks = nn.ModuleList(SpikingBlock(config) for _ in range(config.layers))
            self.final = spiking_neuron(config)
        else:
            nn.init.normal_(self.embed.weight, std=ANN_EMBED_STD)
            self.blocks = nn.ModuleList(ANNBlock(config) for _ in range(config.layers))
            self.final = nn.LayerNorm(config.width)
        self.head = nn.Linear(config.width, config.vocab_size)
        self.head.weight = self.embed.weight
        nn.init.zeros_(self.head.bias)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Return logits ``[B, L, V]`` for token ids ``[B, L]``.

        Raises:
            ValueError: the sequence is longer than the context or the ids are out of range.
        """
        if tokens.dim() != 2:
            raise ValueError(f"tokens must be [B, L], got shape {tuple(tokens.shape)}")
        length = tokens.shape[1]
        if length > self.config.context:
            raise ValueError(
                f"sequence of {length} tokens exceeds the context of {self.config.context}; "
                "truncate it first"
            )
        if not self.config.spiking:
            x = self.embed(tokens) + self.position[:length]  # [B, L, C]
            for block in self.blocks:
                x = block(x)
            return self.head(self.final(x))

        x = SPIKING_INPUT_GAIN * self.embed(tokens) + self.position[:length]  # [B, L, C]
        x = x.unsqueeze(0).expand(self.config.time_steps, *x.shape)  # [T, B, L, C]
        for block in self.blocks:
            x = block(x)
        return self.head(self.final(x)).mean(dim=0)  # [B, L, V]

    def checkpoint_state(self) -> dict[str, torch.Tensor]:
        """Return the state dict without the tied output weight."""
        state = self.state_dict()
        state.pop(self.TIED_KEY)
        return state

    def load_checkpoint_state(self, state: dict[str, torch.Tensor], source: str) -> None:
        """Load a state from :meth:`checkpoint_state`, restoring the tie.

        Raises:
            models.registry.CheckpointError: keys or shapes do not match this model.
        """
        from models.registry import load_into

        full = dict(state)
        if "embed.weight" in full:
            full[self.TIED_KEY] = full["embed.weight"]
        load_into(self, full, source)
        self.head.weight = self.embed.weight


def build_model(config: LanguageModelConfig) -> LanguageModel:
    """Return a freshly initialised model for ``config``."""
    return LanguageModel(config)


def count_parameters(model: nn.Module) -> int:
    """Return the number of distinct trainable parameters (the tied weight counted once)."""
    return sum(p.numel() for p in model.parameters())
