"""Cached wrappers of the speech page: models once per checkpoint, analyses once per recording."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from analysis.energy import EnergyCosts
from analysis.speech import SpeechAnalysis, analyse_waveform
from data.audio import PreparedAudio, prepare_waveform
from models.registry import list_checkpoints
from models.speech.ablation import load_ablation
from models.speech.checkpoints import AREA, load_model


def installed_checkpoints() -> dict[str, dict[str, Any]]:
    """Cards of the speech checkpoints whose weights are present, by name."""
    return {info.name: info.card for info in list_checkpoints(AREA) if info.weights.exists()}


@st.cache_resource(show_spinner="Loading SpikCommander ...")
def speech_model(name: str):
    """Load the model, front-end config and card of checkpoint ``name`` once per server."""
    return load_model(name)


@st.cache_data(show_spinner="Running SpikCommander on the recording ...", max_entries=32)
def analyse(name: str, audio: bytes) -> tuple[PreparedAudio, SpeechAnalysis]:
    """Prepare ``audio`` and run checkpoint ``name`` on it; raises ``AudioError`` for bad input."""
    prepared = prepare_waveform(audio)
    model, front_end, _card = speech_model(name)
    return prepared, analyse_waveform(model, front_end, prepared)


def energy_table(analysis: SpeechAnalysis, costs: EnergyCosts | None = None) -> pd.DataFrame:
    """Per-layer operations and energy in nanojoules, spiking against dense."""
    costs = costs or EnergyCosts()
    return pd.DataFrame(
        {
            "layer": [op.name for op in analysis.ops],
            "type": [op.layer_type for op in analysis.ops],
            "spike_input": [op.spike_input for op in analysis.ops],
            "acs": [op.acs for op in analysis.ops],
            "macs": [op.macs for op in analysis.ops],
            "dense_macs": [op.dense_macs for op in analysis.ops],
            "snn_nj": [op.energy_pj(costs) / 1000 for op in analysis.ops],
            "ann_nj": [op.dense_macs * costs.mac_pj / 1000 for op in analysis.ops],
        }
    )


@st.cache_data
def ablation_frame() -> tuple[pd.DataFrame, str] | None:
    """Return the stored branch ablation as ``(table, command)``, or None if it was never run."""
    results = load_ablation()
    if results is None:
        return None
    return pd.DataFrame(results["rows"]), results["command"]
