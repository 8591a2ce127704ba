"""Record spikes and membrane traces of every spiking neuron layer in a model, for one input.

The recorder switches on each neuron's own recording (see ``models.neurons.base``) for one
forward pass and switches it off again, so the model's outputs are the same with and without
it; the only cost is the copy of each layer's traces to the CPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from models.neurons.base import SpikingNeuron


@dataclass
class LayerRecord:
    """What one neuron layer did for one input; tensors are time-first ``[T, B, ...]``.

    Attributes:
        name: the module's qualified name in the model.
        kind: the neuron class name (``LIF``, ``NASN``, ...).
        spk: the layer's output ``S[t]``.
        mem: the membrane potential the firing rule is applied to.
        threshold: firing threshold for threshold neurons, else None.
        window: clip window ``(alpha, alpha + D)`` of the integer output for integer neurons.
        binary: for integer neurons, the unrolled spikes ``[T, D, B, ...]``; binary neurons
            give their spikes with one sub-step.
        constant: the constant term that spike inference adds to the unrolled count.
        scale: ``spk == scale * (binary.sum(1) + constant)``.
        extra: any other recorded entries (``v``, ``q``, ``tau``, ``N``).
    """

    name: str
    kind: str
    spk: torch.Tensor
    mem: torch.Tensor
    threshold: float | None
    window: tuple[float, float] | None
    binary: torch.Tensor
    constant: float
    scale: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def steps(self) -> int:
        """Time steps ``T``."""
        return int(self.spk.shape[0])

    @property
    def neurons(self) -> int:
        """Neurons per sample (all dimensions after ``[T, B]``)."""
        return int(self.spk[0, 0].numel())


def neuron_layers(model: nn.Module) -> dict[str, SpikingNeuron]:
    """Return the spiking neuron modules of ``model`` by qualified name, in forward order of definition."""
    return {
        name: module for name, module in model.named_modules() if isinstance(module, SpikingNeuron)
    }


def record(model: nn.Module, *inputs: Any, **kwargs: Any) -> tuple[Any, dict[str, LayerRecord]]:
    """Run ``model(*inputs, **kwargs)`` once and return its output and every neuron layer's record.

    The model runs under ``torch.no_grad``; its mode (train or eval) is left as it is.

    Returns:
        ``(output, records)`` with records keyed by module name, in the order of
        ``model.named_modules()``. Layers that did not run are left out.

    Raises:
        ValueError: the model contains no spiking neuron layer.
    """
    layers = neuron_layers(model)
    if not layers:
        raise ValueError(
            f"{type(model).__name__} has no spiking neuron layers (models.neurons) to record"
        )
    previous = {name: layer.record for name, layer in layers.items()}
    try:
        for layer in layers.values():
            layer.record = True
            layer.records = {}
        with torch.no_grad():
            output = model(*inputs, **kwargs)
        records = {}
        for name, layer in layers.items():
            entries = dict(layer.records)
            if not entries:
                continue
            spk = entries.pop("spk")
            binary, constant, scale = layer.unroll(spk)
            records[name] = LayerRecord(
                name=name,
                kind=type(layer).__name__,
                spk=spk,
                mem=entries.pop("mem"),
                threshold=entries.pop("threshold", None),
                window=entries.pop("window", None),
                binary=binary,
                constant=constant,
                scale=scale,
                extra=entries,
            )
    finally:
        for name, layer in layers.items():
            layer.record = previous[name]
            layer.records = {}
    return output, records
