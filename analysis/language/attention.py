"""Attention maps of the language models per layer, head, time step and binary sub-step.

For the spiking models the maps are rebuilt from the operands of each attention's ``qk``
product (``models.layers.SpikeMatmul``), captured by a forward hook, and from the unrolled
spikes of the query and key neurons that ``analysis.recording.record`` returns.

Sub-steps: an integer neuron sends ``Q = scale * (sum_d b_d + constant)`` as ``D`` binary
spike vectors ``b_1 .. b_D`` per time step. After the first ``d`` sub-steps of both Q and K
have arrived, the accumulated score is

    A^(d) = s * Q^(<=d) (K^(<=d))^T   with   Q^(<=d) = scale * (sum_{d' <= d} b_d' + constant),

and ``A^(D)`` equals the score ``A`` the model uses. The winner of ``A^(d)`` shows which key
would win if the query stopped reading after ``d`` sub-steps. Winners of every sub-step
follow the same tie rule as the model (``models.language.wta``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from analysis.recording import record
from models.language.model import LanguageModel
from models.language.wta import masked_softmax, winner_take_all


@dataclass(frozen=True)
class AttentionMaps:
    """Attention of one sequence; arrays are numpy, ``L`` is the sequence length.

    Attributes:
        kind: ``"wssa"``, ``"ssa"`` or ``"softmax"``.
        causal: whether later keys were masked.
        scores: ``A = s * Q K^T`` ``[layers, T, H, L, L]`` (softmax models: pre-softmax scores
            with masked entries set to ``-inf``).
        weights: what multiplies ``V``, ``[layers, T, H, L, L]``: the 0/1 selection (WSSA),
            the masked scores (SSA) or the softmax probabilities (ANN).
        surrogate: ``softmax(A / tau)`` over the allowed keys ``[layers, T, H, L, L]``, the
            WSSA gradient surrogate (for SSA and ANN the softmax of their scores).
        partial_scores: ``A^(d)`` ``[layers, T, D, H, L, L]`` (spiking models; ``D = 1`` and a
            copy of ``scores`` for the ANN).
        partial_selection: winner-take-all of ``partial_scores`` with the model's ``k``.
        top_k: keys per query of the selection.
    """

    kind: str
    causal: bool
    scores: np.ndarray
    weights: np.ndarray
    surrogate: np.ndarray
    partial_scores: np.ndarray
    partial_selection: np.ndarray
    top_k: int

    @property
    def layers(self) -> int:
        """Transformer blocks."""
        return int(self.scores.shape[0])

    @property
    def heads(self) -> int:
        """Heads per block."""
        return int(self.scores.shape[2])

    @property
    def steps(self) -> tuple[int, int]:
        """``(T, D)``: time steps and binary sub-steps per time step."""
        return int(self.partial_scores.shape[1]), int(self.partial_scores.shape[2])

    def winners(self, layer: int, time_step: int, sub_step: int | None = None) -> np.ndarray:
        """Return the winning key of each query ``[H, L]`` (the first selected key when
        ``top_k > 1``); ``sub_step`` (1-based) picks a partial map, None the full one."""
        if sub_step is None:
            selection = winner_take_all(
                torch.from_numpy(self.scores[layer, time_step]), self.top_k, self.causal
            )
        else:
            selection = torch.from_numpy(self.partial_selection[layer, time_step, sub_step - 1])
        return selection.numpy().argmax(axis=-1)


def _split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    # [T, B, L, C] -> [T, B, H, L, d]
    steps, batch, length, width = x.shape
    return x.view(steps, batch, length, heads, width // heads).transpose(2, 3)


@torch.no_grad()
def extract_attention(model: LanguageModel, tokens: torch.Tensor) -> AttentionMaps:
    """Run ``model`` on one sequence ``[1, L]`` and return its attention maps.

    Raises:
        ValueError: ``tokens`` is not one sequence ``[1, L]``.
    """
    if tokens.dim() != 2 or tokens.shape[0] != 1:
        raise ValueError(f"tokens must be one sequence [1, L], got shape {tuple(tokens.shape)}")
    config = model.config
    captured: dict[str, list[torch.Tensor]] = {}
    handles = []
    for index, block in enumerate(model.blocks):
        for name in ("qk", "av"):
            module = getattr(block.attn, name)

            def hook(_module, args, _output, key=f"{index}.{name}"):
                captured[key] = [arg.detach().clone() for arg in args]

            handles.append(module.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        if config.spiking:
            _, records = record(model, tokens)
        else:
            model(tokens)
            records = {}
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)

    if not config.spiking:
        return _softmax_maps(model, captured)

    scores, weights, surrogate, partial, partial_sel = [], [], [], [], []
    for index in range(config.layers):
        q, k_t = captured[f"{index}.qk"]  # [T, B, H, L, d], [T, B, H, d, L]
        full = (q @ k_t * config.scale)[:, 0]  # [T, H, L, L]
        weight = captured[f"{index}.av"][0][:, 0]
        if config.attention == "wssa" and config.top_k > 1:
            weight = weight / config.top_k
        scores.append(full)
        weights.append(weight)
        surrogate.append(masked_softmax(full, config.tau, config.causal))

        q_rec = records[f"blocks.{index}.attn.q.neuron"]
        k_rec = records[f"blocks.{index}.attn.k.neuron"]
        steps = []
        for d in range(1, q_rec.binary.shape[1] + 1):
            q_part = q_rec.scale * (q_rec.binary[:, :d].sum(1) + q_rec.constant)  # [T, B, L, C]
            k_part = k_rec.scale * (k_rec.binary[:, :d].sum(1) + k_rec.constant)
            q_heads = _split_heads(q_part, config.heads)
            k_heads = _split_heads(k_part, config.heads)
            steps.append((q_heads @ k_heads.transpose(-2, -1) * config.scale)[:, 0])  # [T, H, L, L]
        stacked = torch.stack(steps, dim=1)  # [T, D, H, L, L]
        partial.append(stacked)
        partial_sel.append(winner_take_all(stacked, config.top_k, config.causal))

    return AttentionMaps(
        kind=config.attention,
        causal=config.causal,
        scores=torch.stack(scores).numpy(),
        weights=torch.stack(weights).numpy(),
        surrogate=torch.stack(surrogate).numpy(),
        partial_scores=torch.stack(partial).numpy(),
        partial_selection=torch.stack(partial_sel).numpy(),
        top_k=config.top_k,
    )


def _softmax_maps(model: LanguageModel, captured: dict[str, list[torch.Tensor]]) -> AttentionMaps:
    config = model.config
    scores, weights = [], []
    for index in range(config.layers):
        q, k_t = captured[f"{index}.qk"]  # [B, H, L, d], [B, H, d, L]
        full = (q @ k_t * config.head_dim**-0.5)[0]  # [H, L, L]
        if config.causal:
            future = torch.ones_like(full, dtype=torch.bool).triu(diagonal=1)
            full = full.masked_fill(future, float("-inf"))
        scores.append(full.unsqueeze(0))  # [T = 1, H, L, L]
        weights.append(captured[f"{index}.av"][0][0].unsqueeze(0))
    stacked_scores = torch.stack(scores)
    stacked_weights = torch.stack(weights)
    return AttentionMaps(
        kind="softmax",
        causal=config.causal,
        scores=stacked_scores.numpy(),
        weights=stacked_weights.numpy(),
        surrogate=stacked_weights.numpy(),
        partial_scores=stacked_scores.unsqueeze(2).numpy(),
        partial_selection=winner_take_all(stacked_scores.unsqueeze(2), 1, config.causal).numpy(),
        top_k=1,
    )
