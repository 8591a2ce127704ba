"""Plotly figures of the speech page. Each builder takes arrays and returns a figure; the
matching ``*_frame`` function returns the numbers behind it for the CSV download."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.speech import LayerActivity
from data.audio import SAMPLE_RATE
from data.spectrogram import FrontEndConfig

STEP_MS = 10  # one model time step is one 10 ms spectrogram frame
TOP_DB = FrontEndConfig().top_db
DIGITS = [str(d) for d in range(10)]
_LAYOUT = {"margin": {"l": 60, "r": 20, "t": 40, "b": 45}, "template": "plotly_white"}


def _time_ms(steps: int) -> np.ndarray:
    return np.arange(steps) * STEP_MS


def waveform_figure(waveform: np.ndarray, rate: int = SAMPLE_RATE) -> go.Figure:
    """Plot the one second the model heard, amplitude against time."""
    fig = go.Figure(
        go.Scattergl(x=np.arange(len(waveform)) / rate * 1000, y=waveform, mode="lines")
    )
    fig.update_layout(
        title="Waveform (8 kHz, 1 s)", xaxis_title="time (ms)", yaxis_title="amplitude"
    )
    return fig.update_layout(**_LAYOUT)


def waveform_frame(waveform: np.ndarray, rate: int = SAMPLE_RATE) -> pd.DataFrame:
    return pd.DataFrame({"time_ms": np.arange(len(waveform)) / rate * 1000, "amplitude": waveform})


def mel_figure(mel_db: np.ndarray) -> go.Figure:
    """Mel spectrogram ``[T, n_mels]`` in dB as a heat map, bands upward."""
    floor = float(mel_db.max()) - TOP_DB  # the same floor as the model's input scaling
    fig = go.Figure(
        go.Heatmap(
            z=np.maximum(mel_db, floor).T,
            x=_time_ms(len(mel_db)),
            colorscale="Magma",
            zmin=floor,
            zmax=float(mel_db.max()),
            colorbar={"title": "dB"},
            hovertemplate="t %{x} ms<br>band %{y}<br>%{z:.1f} dB<extra></extra>",
        )
    )
    fig.update_layout(
        title="Mel spectrogram (140 bands)", xaxis_title="time (ms)", yaxis_title="mel band"
    )
    return fig.update_layout(**_LAYOUT)


def matrix_frame(values: np.ndarray, column: str, value_name: str) -> pd.DataFrame:
    """Long table of a ``[T, N]`` array: one row per (time, unit)."""
    steps, units = values.shape
    return pd.DataFrame(
        {
            "time_ms": np.repeat(_time_ms(steps), units),
            column: np.tile(np.arange(units), steps),
            value_name: values.reshape(-1),
        }
    )


def raster_figure(spikes: np.ndarray, title: str) -> go.Figure:
    """Spike raster of ``[T, N]`` 0/1 spikes: one mark per spike."""
    steps, neurons = np.nonzero(spikes)
    fig = go.Figure(
        go.Scattergl(
            x=steps * STEP_MS,
            y=neurons,
            mode="markers",
            marker={"symbol": "line-ns-open", "size": 7, "color": "#1f3b73"},
            hovertemplate="t %{x} ms<br>neuron %{y}<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"{title} ({len(steps):,} spikes)", xaxis_title="time (ms)", yaxis_title="neuron"
    )
    fig.update_xaxes(range=[-STEP_MS, spikes.shape[0] * STEP_MS])
    fig.update_yaxes(range=[-1, spikes.shape[1]])
    return fig.update_layout(**_LAYOUT)


def head_view(values: np.ndarray, head: int | None) -> tuple[np.ndarray, list[str]]:
    """Reduce ``[T, H, d_h]`` to ``[T, rows]``: the mean per head, or one head's channels."""
    if head is None:
        return values.mean(axis=2), [f"head {h + 1}" for h in range(values.shape[1])]
    return values[:, head], [f"ch {c + 1}" for c in range(values.shape[2])]


def gate_figure(values: np.ndarray, head: int | None, title: str) -> go.Figure:
    """Heat map over time of ``[T, H, d_h]`` gate spikes, per head (mean) or for one head."""
    view, rows = head_view(values, head)
    label = "firing rate" if head is None else "spike"
    fig = go.Figure(
        go.Heatmap(
            z=view.T,
            x=_time_ms(len(view)),
            y=rows,
            zmin=0,
            zmax=1,
            colorscale="Blues",
            colorbar={"title": label},
            hovertemplate="t %{x} ms<br>%{y}<br>%{z:.2f}<extra></extra>",
        )
    )
    fig.update_layout(title=title, xaxis_title="time (ms)")
    fig.update_yaxes(autorange="reversed")
    return fig.update_layout(**_LAYOUT)


def global_gate_figure(gate: np.ndarray) -> go.Figure:
    """Draw the global gate ``[H, d_h]``, one LIF step on the sums over the whole second."""
    fig = go.Figure(
        go.Heatmap(
            z=gate,
            x=[f"ch {c + 1}" for c in range(gate.shape[1])],
            y=[f"head {h + 1}" for h in range(gate.shape[0])],
            zmin=0,
            zmax=1,
            colorscale="Blues",
            showscale=False,
            hovertemplate="%{y}, %{x}: %{z:.0f}<extra></extra>",
        )
    )
    fig.update_layout(title=f"Global gate ({int(gate.sum())} of {gate.size} open)")
    fig.update_yaxes(autorange="reversed")
    return fig.update_layout(**_LAYOUT)


def evidence_figure(probabilities: np.ndarray, prediction: int, cumulative: bool) -> go.Figure:
    """Per-step softmax ``[T, n_classes]`` (or its running sum) with the predicted digit in bold."""
    values = np.cumsum(probabilities, axis=0) if cumulative else probabilities
    fig = go.Figure()
    for digit in range(values.shape[1]):
        chosen = digit == prediction
        fig.add_trace(
            go.Scatter(
                x=_time_ms(len(values)),
                y=values[:, digit],
                mode="lines",
                name=f"{digit}{' (predicted)' if chosen else ''}",
                line={"width": 4 if chosen else 1.2},
                opacity=1.0 if chosen else 0.6,
            )
        )
    what = "running sum of the per-step softmax" if cumulative else "softmax at each step"
    fig.update_layout(
        title=f"Class evidence: {what}",
        xaxis_title="time (ms)",
        yaxis_title="evidence",
        legend_title="digit",
    )
    return fig.update_layout(**_LAYOUT)


def evidence_frame(probabilities: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame(probabilities, columns=[f"p_{d}" for d in range(probabilities.shape[1])])
    cumulative = np.cumsum(probabilities, axis=0)
    for digit in range(probabilities.shape[1]):
        frame[f"sum_{digit}"] = cumulative[:, digit]
    frame.insert(0, "time_ms", _time_ms(len(probabilities)))
    return frame


def layer_rates_figure(layers: Sequence[LayerActivity]) -> go.Figure:
    """Firing rate of every neuron layer, in model order."""
    fig = go.Figure(
        go.Bar(
            x=[layer.rate for layer in layers],
            y=[layer.name for layer in layers],
            orientation="h",
            hovertemplate="%{y}: %{x:.4f} spikes per neuron per step<extra></extra>",
        )
    )
    fig.update_layout(
        title="Spike rate per layer", xaxis_title="spikes per neuron per step", height=480
    )
    fig.update_yaxes(autorange="reversed")
    return fig.update_layout(**_LAYOUT)


def energy_figure(frame: pd.DataFrame) -> go.Figure:
    """Energy per synaptic layer: spiking (ACs and MACs) against the same layer run densely."""
    fig = go.Figure()
    fig.add_trace(
        go.Bar(y=frame["layer"], x=frame["snn_nj"], name="spiking model", orientation="h")
    )
    fig.add_trace(
        go.Bar(y=frame["layer"], x=frame["ann_nj"], name="ANN of the same shape", orientation="h")
    )
    fig.update_layout(title="Energy per layer (nJ)", xaxis_title="nJ", barmode="group", height=520)
    fig.update_yaxes(autorange="reversed")
    return fig.update_layout(**_LAYOUT)


def confusion_figure(confusion: np.ndarray, title: str) -> go.Figure:
    """Confusion matrix, rows the true digit, columns the predicted one, counts as text."""
    fig = go.Figure(
        go.Heatmap(
            z=confusion,
            x=DIGITS,
            y=DIGITS,
            text=confusion,
            texttemplate="%{text}",
            colorscale="Blues",
            hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>",
        )
    )
    fig.update_layout(title=title, xaxis_title="predicted digit", yaxis_title="true digit")
    fig.update_yaxes(autorange="reversed")
    return fig.update_layout(**_LAYOUT)


def confusion_frame(confusion: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame(confusion, columns=[f"predicted_{d}" for d in DIGITS])
    frame.insert(0, "true_digit", DIGITS)
    return frame


def ablation_figure(frame: pd.DataFrame) -> go.Figure:
    """Test accuracy of each ablation variant, with its parameter count on hover."""
    fig = go.Figure(
        go.Bar(
            x=frame["test_accuracy"] * 100,
            y=frame["variant"],
            orientation="h",
            customdata=frame["parameters"],
            text=[f"{100 * a:.1f} %" for a in frame["test_accuracy"]],
            textposition="auto",
            hovertemplate="%{y}<br>%{x:.1f} %<br>%{customdata:,} parameters<extra></extra>",
        )
    )
    fig.update_layout(
        title="Branch ablation (300 held-out recordings)", xaxis_title="test accuracy (%)"
    )
    fig.update_xaxes(range=[0, 100])
    fig.update_yaxes(autorange="reversed")
    return fig.update_layout(**_LAYOUT)
