"""Cached model loading and recording for the Neuron firing page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st
import torch

from analysis.energy import LayerOps, count_ops
from analysis.firing import layer_statistics
from analysis.recording import record
from models.vision.classifier import LAYER_NAMES, ClassifierConfig, SpikingConvNet
from models.vision.zoo import load_classifier, shipped_cards

# Each synaptic layer and the neuron layer it drives, in forward order.
BLOCKS = (("conv1", "sn1"), ("conv2", "sn2"), ("conv3", "sn3"), ("fc1", "sn4"), ("fc2", None))
NEURON_MODULES = dict(zip(LAYER_NAMES, ("sn1", "sn2", "sn3", "sn4"), strict=True))


@dataclass(frozen=True)
class LayerView:
    """What one neuron layer did for the current image, as numpy arrays for the page."""

    name: str
    kind: str
    shape: tuple[int, ...]
    mem: np.ndarray  # [T, neurons]
    spk: np.ndarray  # [T, neurons], the layer output S[t]
    binary: np.ndarray  # [T, D, neurons], unrolled 0/1 spikes
    threshold: float | None
    window: tuple[float, float] | None
    constant: float
    scale: float


@dataclass(frozen=True)
class Run:
    """The recorded forward pass of one image."""

    probabilities: np.ndarray  # [10]
    layers: dict[str, LayerView]
    statistics: dict[str, dict[str, float]]  # layer_statistics by neuron module name
    snn_ops: list[LayerOps]
    ann_ops: list[LayerOps]
    steps: int
    sub_steps: int


@st.cache_data(show_spinner=False)
def installed_cards() -> dict[str, dict[str, Any]]:
    """Cards of the installed classifiers by neuron type."""
    return shipped_cards()


@st.cache_resource(show_spinner="Loading the checkpoint ...")
def classifier(neuron: str) -> tuple[SpikingConvNet, dict[str, Any]]:
    """The shipped classifier with ``neuron``, loaded once per server."""
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    return load_classifier(neuron)


@st.cache_data(show_spinner="Running the network ...", max_entries=64)
def run_image(neuron: str, image: bytes) -> Run:
    """Run the classifier on one 28x28 uint8 image (raw bytes) and record every layer."""
    model, _card = classifier(neuron)
    pixels = np.frombuffer(image, dtype=np.uint8).reshape(1, 1, 28, 28)
    x = torch.from_numpy(pixels.copy()).float().div_(255.0)
    logits, records = record(model, x)
    layers = {}
    for display, module in NEURON_MODULES.items():
        rec = records[module]
        shape = tuple(rec.spk.shape[2:])
        layers[display] = LayerView(
            name=display,
            kind=rec.kind,
            shape=shape,
            mem=rec.mem[:, 0].reshape(rec.steps, -1).numpy(),
            spk=rec.spk[:, 0].reshape(rec.steps, -1).numpy(),
            binary=rec.binary[:, :, 0].reshape(rec.steps, rec.binary.shape[1], -1).numpy(),
            threshold=rec.threshold,
            window=rec.window,
            constant=rec.constant,
            scale=rec.scale,
        )
    twin = SpikingConvNet(
        ClassifierConfig(neuron="ann", channels=model.config.channels, hidden=model.config.hidden)
    )
    twin.eval()
    first = next(iter(layers.values()))
    return Run(
        probabilities=torch.softmax(logits[0], 0).numpy(),
        layers=layers,
        statistics={name: layer_statistics(rec) for name, rec in records.items()},
        snn_ops=count_ops(model, x),
        ann_ops=count_ops(twin, x),
        steps=first.binary.shape[0],
        sub_steps=first.binary.shape[1],
    )
