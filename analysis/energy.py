"""Synaptic operations and an energy estimate for spiking models against their ANN twins.

A synaptic layer (``nn.Linear``, ``nn.Conv1d``, ``nn.Conv2d``, ``models.layers.SpikeMatmul``)
whose input comes from spiking neurons performs one accumulate (AC) per binary spike per
target it reaches (its fan-out); integer neurons count as their unrolled binary spikes, and
their constant term folds into the next layer's bias at no cost. A layer fed with real values
(the first layer of a network, every layer of an ANN) performs multiply-accumulates (MACs).
Energy is ``ACs * ac_pj + MACs * mac_pj``; only synaptic operations are counted, not neuron
updates or normalisation, the convention of the Spikformer, Spikingformer and ASN papers.

Convolutions are counted exactly, border effects included, by convolving the spike-count map
with an all-ones kernel. Counts are per input sample (summed over time steps, averaged over
the batch).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from models.layers import SpikeMatmul
from models.neurons.base import SpikingNeuron

DEFAULT_AC_PJ = 0.9  # 32-bit float add, 45 nm (Horowitz, ISSCC 2014)
DEFAULT_MAC_PJ = 4.6  # 32-bit float multiply (3.7 pJ) plus add (0.9 pJ), 45 nm (same source)


@dataclass(frozen=True)
class EnergyCosts:
    """Energy per operation in picojoules, with the process they were measured for."""

    ac_pj: float = DEFAULT_AC_PJ
    mac_pj: float = DEFAULT_MAC_PJ
    process: str = "45 nm CMOS, 32-bit float (Horowitz, ISSCC 2014)"

    def __post_init__(self) -> None:
        for name in ("ac_pj", "mac_pj"):
            value = getattr(self, name)
            if not value >= 0:
                raise ValueError(f"{name} must be a non-negative number of picojoules, got {value}")


@dataclass(frozen=True)
class LayerOps:
    """Operations of one synaptic layer for one input sample.

    Attributes:
        name: qualified module name.
        layer_type: ``Linear``, ``Conv2d``, ``SpikeMatmul``, ...
        spike_input: whether the input came from spiking neurons (ACs) or real values (MACs).
        acs: accumulates (0 for a real-valued input).
        macs: multiply-accumulates (0 for a spike input).
        dense_macs: MACs the same layer would do on a real-valued input of the same shape.
        input_spikes: binary spikes entering the layer (0 for a real-valued input).
    """

    name: str
    layer_type: str
    spike_input: bool
    acs: float
    macs: float
    dense_macs: float
    input_spikes: float

    def energy_pj(self, costs: EnergyCosts) -> float:
        """Energy of this layer in picojoules under ``costs``."""
        return self.acs * costs.ac_pj + self.macs * costs.mac_pj


def _storage_key(tensor: torch.Tensor) -> int:
    return tensor.untyped_storage().data_ptr()


def _conv_fanout(counts: torch.Tensor, conv: nn.Conv1d | nn.Conv2d) -> float:
    ones = torch.ones(
        conv.out_channels,
        conv.in_channels // conv.groups,
        *conv.kernel_size,
        dtype=counts.dtype,
        device=counts.device,
    )
    functional = F.conv1d if isinstance(conv, nn.Conv1d) else F.conv2d
    padding = (
        conv.padding if isinstance(conv.padding, str) else conv._reversed_padding_repeated_twice
    )
    if isinstance(conv.padding, str) or conv.padding_mode == "zeros":
        out = functional(counts, ones, None, conv.stride, conv.padding, conv.dilation, conv.groups)
    else:  # other padding modes copy border values, so pad first as the layer does
        padded = F.pad(counts, padding, mode=conv.padding_mode)
        out = functional(padded, ones, None, conv.stride, 0, conv.dilation, conv.groups)
    return float(out.sum())


def _dense_macs(
    module: nn.Module, a: torch.Tensor, b: torch.Tensor | None, out: torch.Tensor
) -> float:
    if isinstance(module, nn.Linear):
        return float(a.numel() // module.in_features * module.in_features * module.out_features)
    if isinstance(module, nn.Conv1d | nn.Conv2d):
        per_output = (
            module.in_channels // module.groups * int(torch.tensor(module.kernel_size).prod())
        )
        return float(out.numel() * per_output)
    assert b is not None
    return float(out.numel() * a.shape[-1])


def count_ops(
    model: nn.Module, *inputs: torch.Tensor, batch_size: int | None = None
) -> list[LayerOps]:
    """Run ``model(*inputs)`` once and count the operations of every synaptic layer.

    A layer's input counts as spikes when it shares storage with the output of a spiking
    neuron layer (views and reshapes of it included), or when every value is a non-negative
    integer (spikes after max-pooling, for instance).

    Args:
        model: any module; its spiking neurons come from ``models.neurons``.
        inputs: the model's inputs.
        batch_size: samples in the batch, to report per-sample counts; defaults to the size of
            the first dimension of the first input, so pass it for time-first inputs.

    Returns:
        One entry per call of a synaptic layer, in call order.
    """
    spike_counts: dict[int, torch.Tensor] = {}
    calls: list[LayerOps] = []
    handles = []

    def on_neuron(module: SpikingNeuron, _args, output: torch.Tensor) -> None:
        binary, _constant, _scale = module.unroll(output)
        spike_counts[_storage_key(output)] = binary.sum(1)

    def counts_of(tensor: torch.Tensor) -> torch.Tensor | None:
        stored = spike_counts.get(_storage_key(tensor))
        if stored is not None and stored.numel() == tensor.numel():
            return stored.reshape(tensor.shape)
        if (
            tensor.is_floating_point()
            and bool((tensor >= 0).all())
            and bool((tensor == tensor.round()).all())
        ):
            return tensor
        return None

    def on_synapse(module: nn.Module, args, output: torch.Tensor) -> None:
        a = args[0]
        b = args[1] if isinstance(module, SpikeMatmul) else None
        dense = _dense_macs(module, a, b, output)
        counts_a = counts_of(a)
        counts_b = counts_of(b) if b is not None else None
        acs, spikes = 0.0, 0.0
        if counts_a is not None:
            spikes = float(counts_a.sum())
            if isinstance(module, nn.Linear):
                acs = spikes * module.out_features
            elif isinstance(module, nn.Conv1d | nn.Conv2d):
                flat = counts_a.reshape(-1, *counts_a.shape[-(module.weight.dim() - 1) :])
                acs = _conv_fanout(flat, module)
            else:
                acs = spikes * b.shape[-1]
        elif counts_b is not None:
            spikes = float(counts_b.sum())
            acs = spikes * a.shape[-2]
        spike_input = counts_a is not None or counts_b is not None
        calls.append(
            LayerOps(
                name=names[module],
                layer_type=type(module).__name__,
                spike_input=spike_input,
                acs=acs,
                macs=0.0 if spike_input else dense,
                dense_macs=dense,
                input_spikes=spikes,
            )
        )

    names = {}
    for name, module in model.named_modules():
        if isinstance(module, SpikingNeuron):
            handles.append(module.register_forward_hook(on_neuron))
        elif isinstance(module, nn.Linear | nn.Conv1d | nn.Conv2d | SpikeMatmul):
            names[module] = name
            handles.append(module.register_forward_hook(on_synapse))
    try:
        with torch.no_grad():
            model(*inputs)
    finally:
        for handle in handles:
            handle.remove()

    if batch_size is None:
        batch_size = int(inputs[0].shape[0])
    scale = 1.0 / max(batch_size, 1)
    return [
        LayerOps(
            c.name,
            c.layer_type,
            c.spike_input,
            c.acs * scale,
            c.macs * scale,
            c.dense_macs * scale,
            c.input_spikes * scale,
        )
        for c in calls
    ]


def merge_calls(ops: list[LayerOps]) -> list[LayerOps]:
    """Sum repeated calls of the same layer (a layer applied at each time step) into one entry."""
    merged: dict[str, LayerOps] = {}
    for op in ops:
        if op.name in merged:
            m = merged[op.name]
            merged[op.name] = LayerOps(
                m.name,
                m.layer_type,
                m.spike_input or op.spike_input,
                m.acs + op.acs,
                m.macs + op.macs,
                m.dense_macs + op.dense_macs,
                m.input_spikes + op.input_spikes,
            )
        else:
            merged[op.name] = op
    return list(merged.values())


def total_energy_pj(ops: list[LayerOps], costs: EnergyCosts | None = None) -> float:
    """Energy of all layers in picojoules."""
    costs = costs or EnergyCosts()
    return sum(op.energy_pj(costs) for op in ops)
