"""Hyperparameters of the language models, one frozen dataclass shared by all four kinds."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

ATTENTION_KINDS = ("wssa", "ssa", "softmax")
OBJECTIVES = ("causal", "masked")
SPIKING_NEURONS = ("nilif", "nasn")

# The shipped size: 4 layers of width 128, 4 heads, context 128, MLP ratio 3 and a
# 1024-token vocabulary with tied input and output embeddings, about 0.8 M parameters
# (1.6 MB in fp16), so that six checkpoints and the tokenizer fit in 11 MB.
DEFAULT_WIDTH = 128
DEFAULT_LAYERS = 4
DEFAULT_HEADS = 4
DEFAULT_CONTEXT = 128
DEFAULT_MLP_RATIO = 3
# softmax(A / tau) in the WTA backward pass. With the default score scale s = 1 / sqrt(d_h),
# tau = 1 makes that surrogate the attention of a standard softmax transformer on Q and K.
DEFAULT_TAU = 1.0


@dataclass(frozen=True)
class LanguageModelConfig:
    """Architecture of one language model.

    Attributes:
        vocab_size: token ids, special tokens included.
        width: model width ``C``.
        layers: transformer blocks.
        heads: attention heads; ``width`` must divide by it.
        context: maximum sequence length ``L``.
        mlp_ratio: hidden width of the MLP as a multiple of ``width``.
        attention: ``"wssa"`` (winner-take-all spiking attention), ``"ssa"`` (Spikformer's
            softmax-free ``Q K^T V``) or ``"softmax"`` (the ANN baseline).
        objective: ``"causal"`` (decoder, next-token prediction; causal attention mask) or
            ``"masked"`` (encoder, masked-token prediction; bidirectional attention).
        neuron: spiking neuron of the spiking kinds, ``"nilif"`` or ``"nasn"``.
        time_steps: integer time steps ``T`` (the input is repeated ``T`` times).
        spike_steps: ``D``, the maximum spike count per time step (binary sub-steps).
        top_k: keys each query selects in WSSA (1 is hard winner-take-all).
        tau: temperature of the softmax surrogate in the WSSA backward pass.
        score_scale: ``s`` in ``A = s * Q K^T``; None for ``1 / sqrt(width / heads)``.
        dropout: dropout of the ANN baseline (the spiking kinds use none).
    """

    vocab_size: int
    width: int = DEFAULT_WIDTH
    layers: int = DEFAULT_LAYERS
    heads: int = DEFAULT_HEADS
    context: int = DEFAULT_CONTEXT
    mlp_ratio: int = DEFAULT_MLP_RATIO
    attention: str = "wssa"
    objective: str = "causal"
    neuron: str = "nilif"
    time_steps: int = 1
    spike_steps: int = 4
    top_k: int = 1
    tau: float = DEFAULT_TAU
    score_scale: float | None = None
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.attention not in ATTENTION_KINDS:
            raise ValueError(f"attention must be one of {ATTENTION_KINDS}, got {self.attention!r}")
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")
        if self.neuron not in SPIKING_NEURONS:
            raise ValueError(f"neuron must be one of {SPIKING_NEURONS}, got {self.neuron!r}")
        for name in ("vocab_size", "width", "layers", "heads", "context", "mlp_ratio"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if self.width % self.heads:
            raise ValueError(f"width {self.width} must be divisible by heads {self.heads}")
        if self.time_steps < 1 or self.spike_steps < 1:
            raise ValueError(
                "time_steps and spike_steps must be at least 1, "
                f"got {self.time_steps} and {self.spike_steps}"
            )
        if self.top_k < 1:
            raise ValueError(f"top_k must be at least 1, got {self.top_k}")
        if not self.tau > 0:
            raise ValueError(f"tau must be positive, got {self.tau}")
        if self.score_scale is not None and not self.score_scale > 0:
            raise ValueError(f"score_scale must be positive or None, got {self.score_scale}")

    @property
    def causal(self) -> bool:
        """Whether attention is causally masked (the decoder objective)."""
        return self.objective == "causal"

    @property
    def spiking(self) -> bool:
        """Whether the model is built from spiking neurons."""
        return self.attention != "softmax"

    @property
    def head_dim(self) -> int:
        """Width of one head."""
        return self.width // self.heads

    @property
    def scale(self) -> float:
        """The score scale ``s`` in use."""
        return self.score_scale if self.score_scale is not None else self.head_dim**-0.5

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a plain dict for a checkpoint card."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> LanguageModelConfig:
        """Build a config from a card's dict, ignoring unknown keys.

        Raises:
            ValueError: ``vocab_size`` is missing or a value is invalid.
        """
        known = {f.name for f in fields(cls)}
        if "vocab_size" not in values:
            raise ValueError("model config lacks vocab_size")
        return cls(**{key: value for key, value in values.items() if key in known})
