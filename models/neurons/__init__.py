"""Spiking neurons on time-first tensors ``[T, B, ...]`` and a factory that builds them by name.

Binary neurons (``LIF``, ``PLIF``) run ``T`` steps of 0/1 spikes. Integer neurons (``ILIF``,
``NILIF``, ``ASN``, ``NASN``) train with integer outputs and infer with the same values unrolled
into ``D`` binary spikes per step.
"""

from __future__ import annotations

from typing import Any

from models.neurons.base import SpikingNeuron
from models.neurons.integer import ASN, ILIF, NASN, NILIF, IntegerNeuron
from models.neurons.lif import LIF, PLIF, lif_charge, lif_reset, lif_step
from models.neurons.surrogate import atan_grad, spike_atan

NEURON_TYPES: dict[str, type[SpikingNeuron]] = {
    "lif": LIF,
    "plif": PLIF,
    "ilif": ILIF,
    "nilif": NILIF,
    "asn": ASN,
    "nasn": NASN,
}
INTEGER_TYPES = frozenset({"ilif", "nilif", "asn", "nasn"})


def make_neuron(kind: str, **kwargs: Any) -> SpikingNeuron:
    """Build a neuron layer by its lower-case name (``lif``, ``plif``, ``ilif``, ``nilif``,
    ``asn``, ``nasn``), passing ``kwargs`` to its constructor.

    Raises:
        ValueError: unknown ``kind``; the message lists the known names.
    """
    key = kind.lower()
    if key not in NEURON_TYPES:
        raise ValueError(f"unknown neuron type {kind!r}; use one of {', '.join(NEURON_TYPES)}")
    return NEURON_TYPES[key](**kwargs)


__all__ = [
    "ASN",
    "ILIF",
    "INTEGER_TYPES",
    "LIF",
    "NASN",
    "NEURON_TYPES",
    "NILIF",
    "PLIF",
    "IntegerNeuron",
    "SpikingNeuron",
    "atan_grad",
    "lif_charge",
    "lif_reset",
    "lif_step",
    "make_neuron",
    "spike_atan",
]
