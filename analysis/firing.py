"""Per-layer firing statistics and the energy table of a spiking network against its ANN twin."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.energy import EnergyCosts, LayerOps, merge_calls
from analysis.recording import LayerRecord


def spike_counts(record: LayerRecord, sample: int = 0) -> np.ndarray:
    """Binary spikes per neuron and time step for one sample, ``[T, neurons]``.

    For integer neurons this is the unrolled count in ``[0, D]``; for binary neurons 0 or 1.
    """
    binary = record.binary[:, :, sample]  # [T, D, ...]
    return binary.sum(1).reshape(binary.shape[0], -1).numpy()


def raster_points(record: LayerRecord, sample: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(step, neuron)`` of every binary spike of one sample.

    Steps count the unrolled sub-steps: step ``t * D + d`` is sub-step ``d`` of time step
    ``t``, so a binary neuron has ``T`` steps and an integer neuron ``T * D``.
    """
    binary = record.binary[:, :, sample]  # [T, D, ...]
    flat = binary.reshape(binary.shape[0] * binary.shape[1], -1)  # [T * D, neurons]
    steps, neurons = np.nonzero(flat.numpy())
    return steps.astype(np.int32), neurons.astype(np.int32)


def layer_statistics(record: LayerRecord, sample: int = 0) -> dict[str, float]:
    """Firing rate and sparsity of one layer for one sample.

    ``firing_rate`` is binary spikes per neuron per binary step (``T * D`` steps for integer
    neurons); ``sparsity`` is the fraction of (neuron, time step) pairs that emit nothing.
    """
    counts = spike_counts(record, sample)
    sub_steps = record.binary.shape[1]
    return {
        "neurons": float(counts.shape[1]),
        "spikes": float(counts.sum()),
        "firing_rate": float(counts.sum() / (counts.size * sub_steps)) if counts.size else 0.0,
        "sparsity": float((counts == 0).mean()) if counts.size else 1.0,
    }


def neuron_rates(record: LayerRecord, sample: int = 0) -> np.ndarray:
    """Per-neuron firing rate (spikes per binary step) for one sample, ``[neurons]``."""
    counts = spike_counts(record, sample)
    return counts.sum(0) / (counts.shape[0] * record.binary.shape[1])


def energy_table(
    blocks: Sequence[tuple[str, str | None]],
    statistics: dict[str, dict[str, float]],
    snn_ops: Sequence[LayerOps],
    ann_ops: Sequence[LayerOps],
    costs: EnergyCosts,
) -> pd.DataFrame:
    """One row per block (a synaptic layer and the neuron layer after it), plus a total row.

    Args:
        blocks: ``(synaptic layer name, neuron module name or None)`` in forward order.
        statistics: :func:`layer_statistics` of each neuron module, by module name.
        snn_ops, ann_ops: per-sample operations from ``analysis.energy.count_ops`` of the
            spiking network and of its ANN twin; calls of the same layer are summed.
        costs: energy per operation.

    Returns:
        Columns ``layer``, ``input``, ``firing_rate``, ``sparsity``, ``SOPs`` (accumulates),
        ``MACs``, ``energy_nJ``, ``ANN_MACs``, ``ANN_energy_nJ``, ``energy_ratio``.
    """
    snn = {op.name: op for op in merge_calls(snn_ops)}
    ann = {op.name: op for op in merge_calls(ann_ops)}
    rows = []
    for synapse, neuron in blocks:
        ops = snn.get(synapse)
        twin = ann.get(synapse)
        stats = statistics.get(neuron, {}) if neuron else {}
        energy = ops.energy_pj(costs) / 1e3 if ops else np.nan
        ann_energy = twin.energy_pj(costs) / 1e3 if twin else np.nan
        rows.append(
            {
                "layer": synapse,
                "input": "spikes" if ops and ops.spike_input else "real values",
                "firing_rate": stats.get("firing_rate", np.nan),
                "sparsity": stats.get("sparsity", np.nan),
                "SOPs": ops.acs if ops else np.nan,
                "MACs": ops.macs if ops else np.nan,
                "energy_nJ": energy,
                "ANN_MACs": twin.macs if twin else np.nan,
                "ANN_energy_nJ": ann_energy,
            }
        )
    table = pd.DataFrame(rows)
    total = {
        "layer": "total",
        "input": "",
        "firing_rate": np.nan,
        "sparsity": np.nan,
        **{
            key: table[key].sum()
            for key in ("SOPs", "MACs", "energy_nJ", "ANN_MACs", "ANN_energy_nJ")
        },
    }
    table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    table["energy_ratio"] = table["energy_nJ"] / table["ANN_energy_nJ"]
    return table
