"""Analysis of one recording by SpikCommander: spectrogram, spikes, gates, evidence, energy.

``analyse_waveform`` runs the model once with every neuron layer recorded and returns plain
numpy arrays, time-first where they have a time axis, for the dashboard and for tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from analysis.energy import EnergyCosts, LayerOps, count_ops, merge_calls
from analysis.recording import LayerRecord, record
from data.audio import PreparedAudio
from data.spectrogram import FrontEndConfig, LogMel
from models.speech.spikcommander import SpikCommander

INPUT_LAYER = "embed.lif"  # the first spiking layer: the spectrogram's spike encoding


@dataclass(frozen=True)
class LayerActivity:
    """Firing of one neuron layer for one recording.

    Attributes:
        name: module name in the model.
        neurons: neurons per time step.
        steps: time steps the layer ran (1 for the global gate).
        rate: mean spikes per neuron per step.
        spikes: total spikes.
    """

    name: str
    neurons: int
    steps: int
    rate: float
    spikes: float


@dataclass(frozen=True)
class SpeechAnalysis:
    """Everything the speech page draws for one recording.

    Attributes:
        waveform: ``[samples]`` the one second the model heard, 8 kHz.
        mel_db: ``[T, n_mels]`` mel spectrogram in dB.
        features: ``[T, n_mels]`` the scaled input in [0, 1].
        input_spikes: ``[T, D]`` spikes of the first LIF layer.
        local_gate: ``[T, H, d_h]`` local-view gate spikes, or None when the view is off.
        global_gate: ``[H, d_h]`` global-view gate (one step), or None when the view is off.
        global_gated: ``[T, H, d_h]`` ``gate_all * V``: the spikes the global gate lets through.
        v_spikes: ``[T, H, d_h]`` spikes of the V projection.
        v_branch: ``[T, H, d_h]`` V-branch output spikes, or None when the branch is off.
        step_probabilities: ``[T, n_classes]`` softmax of each step's logits.
        evidence: ``[T, n_classes]`` running sum of ``step_probabilities``.
        prediction: argmax of the summed softmax.
        layers: firing of every neuron layer, in model order.
        ops: synaptic operations per layer (calls of a layer merged).
        energy_pj: estimated energy of the spiking model, picojoules.
        ann_energy_pj: the same layers run densely with MACs (an ANN of the same shape).
    """

    waveform: np.ndarray
    mel_db: np.ndarray
    features: np.ndarray
    input_spikes: np.ndarray
    local_gate: np.ndarray | None
    global_gate: np.ndarray | None
    global_gated: np.ndarray | None
    v_spikes: np.ndarray
    v_branch: np.ndarray | None
    step_probabilities: np.ndarray
    evidence: np.ndarray
    prediction: int
    layers: tuple[LayerActivity, ...]
    ops: tuple[LayerOps, ...]
    energy_pj: float
    ann_energy_pj: float

    @property
    def confidence(self) -> float:
        """Share of the summed softmax that went to the predicted class."""
        final = self.evidence[-1]
        return float(final[self.prediction] / final.sum())


def _spikes(records: dict[str, LayerRecord], name: str) -> np.ndarray | None:
    entry = records.get(name)
    return None if entry is None else entry.spk[:, 0].numpy()  # drop the batch axis


def analyse_waveform(
    model: SpikCommander,
    front_end: FrontEndConfig,
    audio: PreparedAudio,
    costs: EnergyCosts | None = None,
) -> SpeechAnalysis:
    """Run ``model`` on one prepared second of audio and collect what the page shows.

    Raises:
        ValueError: the front end's output does not match the model's input size.
    """
    costs = costs or EnergyCosts()
    log_mel = LogMel(front_end)
    waveform = torch.from_numpy(audio.waveform).unsqueeze(0)  # [1, samples]
    with torch.no_grad():
        mel_db = log_mel.mel_db(waveform)[0]
        features = log_mel(waveform)  # [1, T, F]
    if features.shape[-1] != model.config.in_features:
        raise ValueError(
            f"the front end makes {features.shape[-1]} bands but the model takes "
            f"{model.config.in_features}; use the front-end settings stored with the checkpoint"
        )
    x = features.transpose(0, 1).contiguous()  # [T, 1, F]
    model.eval()
    logits, records = record(model, x)
    probabilities = torch.softmax(logits[:, 0], dim=-1).numpy()  # [T, n_classes]
    evidence = np.cumsum(probabilities, axis=0)

    prefix = "blocks.0.attn."
    v_spikes = _spikes(records, prefix + "v.2")
    global_gate = _spikes(records, prefix + "gate_global")
    global_gated = None
    if global_gate is not None:
        global_gate = global_gate[0]  # one step: [H, d_h]
        heads, head_dim = global_gate.shape
        global_gated = global_gate[None] * v_spikes.reshape(-1, heads, head_dim)
    heads, head_dim = model.config.heads, model.config.head_dim
    layers = tuple(
        LayerActivity(
            name=name,
            neurons=entry.neurons,
            steps=entry.steps,
            rate=float(entry.spk.mean()),
            spikes=float(entry.spk.sum()),
        )
        for name, entry in records.items()
    )
    ops = tuple(merge_calls(count_ops(model, x, batch_size=1)))
    return SpeechAnalysis(
        waveform=audio.waveform,
        mel_db=mel_db.numpy(),
        features=features[0].numpy(),
        input_spikes=_spikes(records, INPUT_LAYER),
        local_gate=_spikes(records, prefix + "gate_local"),
        global_gate=global_gate,
        global_gated=global_gated,
        v_spikes=v_spikes.reshape(-1, heads, head_dim),
        v_branch=_spikes(records, prefix + "v_lif"),
        step_probabilities=probabilities,
        evidence=evidence,
        prediction=int(evidence[-1].argmax()),
        layers=layers,
        ops=ops,
        energy_pj=sum(op.energy_pj(costs) for op in ops),
        ann_energy_pj=sum(op.dense_macs for op in ops) * costs.mac_pj,
    )
