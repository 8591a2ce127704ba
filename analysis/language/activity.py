"""Spike rates per layer and synaptic operations with energy, against the ANN twin.

Spike rate of a neuron layer: the share of its binary sub-steps that carry a spike,
``sum(binary) / (T * D * neurons)``, averaged over tokens. Operations come from
``analysis.energy.count_ops``: accumulates (ACs) where the input is spikes, multiply-accumulates
(MACs) where it is real-valued, per sequence, with the attention products ``Q K^T`` and
``A V`` counted as their own rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from analysis.energy import EnergyCosts, count_ops, merge_calls
from analysis.recording import record
from models.language.model import LanguageModel


@dataclass(frozen=True)
class LayerRate:
    """Spike statistics of one neuron layer for one sequence.

    Attributes:
        name: module name (``blocks.0.attn.q.neuron``).
        block: transformer block index, or -1 for the final neuron.
        role: ``attn input``, ``query``, ``key``, ``value``, ``attn output``, ``mlp input``,
            ``mlp hidden`` or ``output``.
        rate: share of binary sub-steps with a spike.
        mean_count: mean integer output (spikes per time step) per neuron.
    """

    name: str
    block: int
    role: str
    rate: float
    mean_count: float


_ROLES = {
    "attn_input": "attn input",
    "attn.q.neuron": "query",
    "attn.k.neuron": "key",
    "attn.v.neuron": "value",
    "attn.attn_neuron": "attn output",
    "mlp_input": "mlp input",
    "mlp.neuron": "mlp hidden",
}


def _role(name: str) -> tuple[int, str]:
    if name == "final":
        return -1, "output"
    parts = name.split(".", 2)  # blocks, index, rest
    return int(parts[1]), _ROLES.get(parts[2], parts[2])


def spike_rates(model: LanguageModel, tokens: torch.Tensor) -> list[LayerRate]:
    """Return the spike statistics of every neuron layer for ``tokens`` ``[B, L]``.

    Raises:
        ValueError: the model has no spiking neurons (the ANN twin).
    """
    _, records = record(model.eval(), tokens)
    rates = []
    for name, layer in records.items():
        block, role = _role(name)
        binary = layer.binary  # [T, D, B, ...]
        rates.append(
            LayerRate(
                name=name,
                block=block,
                role=role,
                rate=float(binary.mean()),
                mean_count=float(binary.sum(1).mean()),
            )
        )
    return rates


@dataclass(frozen=True)
class OpsSummary:
    """Synaptic operations of one model on one sequence.

    Attributes:
        acs, macs: accumulates and multiply-accumulates of all synaptic layers.
        attention_acs, attention_macs: the share of the ``Q K^T`` and ``A V`` products.
        energy_pj: ``acs * ac_pj + macs * mac_pj``.
        attention_energy_pj: the energy of the attention products alone.
        tokens: sequence length.
    """

    acs: float
    macs: float
    attention_acs: float
    attention_macs: float
    energy_pj: float
    attention_energy_pj: float
    tokens: int

    @property
    def energy_per_token_pj(self) -> float:
        """Energy divided by the sequence length."""
        return self.energy_pj / max(self.tokens, 1)


def operations(
    model: LanguageModel, tokens: torch.Tensor, costs: EnergyCosts | None = None
) -> OpsSummary:
    """Count the synaptic operations of one sequence ``[1, L]`` and estimate their energy."""
    costs = costs or EnergyCosts()
    ops = merge_calls(count_ops(model.eval(), tokens))
    attention = [op for op in ops if op.name.endswith((".qk", ".av"))]
    acs = sum(op.acs for op in ops)
    macs = sum(op.macs for op in ops)
    attention_acs = sum(op.acs for op in attention)
    attention_macs = sum(op.macs for op in attention)
    return OpsSummary(
        acs=acs,
        macs=macs,
        attention_acs=attention_acs,
        attention_macs=attention_macs,
        energy_pj=acs * costs.ac_pj + macs * costs.mac_pj,
        attention_energy_pj=attention_acs * costs.ac_pj + attention_macs * costs.mac_pj,
        tokens=int(tokens.shape[1]),
    )
