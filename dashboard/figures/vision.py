"""Figures of the Neuron firing page: raster, membrane traces, integer outputs, histograms."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

SPIKE_COLOR = "#1f4e79"
THRESHOLD_COLOR = "#c0392b"
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def raster(
    steps: np.ndarray,
    neurons: np.ndarray,
    *,
    total_steps: int,
    sub_steps: int,
    neuron_range: tuple[int, int],
    title: str,
) -> go.Figure:
    """Spike raster as a WebGL scatter: x is the binary step, y the neuron index.

    For integer neurons (``sub_steps`` > 1) dotted lines separate the integer time steps.
    """
    lo, hi = neuron_range
    fig = go.Figure(
        go.Scattergl(
            x=steps,
            y=neurons,
            mode="markers",
            marker={
                "symbol": "line-ns-open",
                "size": 7,
                "color": SPIKE_COLOR,
                "line": {"width": 1.5},
            },
            hovertemplate="neuron %{y}<br>step %{x}<extra></extra>",
            name="spikes",
        )
    )
    if sub_steps > 1:
        for t in range(1, total_steps // sub_steps):
            fig.add_vline(x=t * sub_steps - 0.5, line={"dash": "dot", "color": "#999", "width": 1})
    fig.update_layout(
        title=title,
        xaxis={
            "title": "binary step" if sub_steps > 1 else "time step",
            "range": [-0.5, total_steps - 0.5],
            "dtick": 1,
        },
        yaxis={"title": "neuron", "range": [lo - 0.5, hi - 0.5]},
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
        dragmode="zoom",
        showlegend=False,
    )
    return fig


def membrane_traces(
    mem: np.ndarray, spk: np.ndarray, neurons: Sequence[int], threshold: float, title: str
) -> go.Figure:
    """Membrane potential ``mem [T, k]`` of ``k`` neurons with the threshold and the spikes."""
    fig = go.Figure()
    steps = np.arange(mem.shape[0])
    for i, neuron in enumerate(neurons):
        color = PALETTE[i % len(PALETTE)]
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=mem[:, i],
                mode="lines+markers",
                name=f"neuron {neuron}",
                line={"color": color},
                hovertemplate=f"neuron {neuron}<br>step %{{x}}<br>mem %{{y:.3f}}<extra></extra>",
            )
        )
        fired = np.flatnonzero(spk[:, i] > 0)
        if fired.size:
            fig.add_trace(
                go.Scatter(
                    x=fired,
                    y=mem[fired, i],
                    mode="markers",
                    marker={
                        "symbol": "star",
                        "size": 13,
                        "color": color,
                        "line": {"color": "black", "width": 1},
                    },
                    name=f"spike {neuron}",
                    showlegend=False,
                    hovertemplate=f"neuron {neuron} fires at step %{{x}}<extra></extra>",
                )
            )
    fig.add_hline(
        y=threshold,
        line={"dash": "dash", "color": THRESHOLD_COLOR},
        annotation_text=f"threshold {threshold:g}",
        annotation_position="top left",
    )
    fig.update_layout(
        title=title,
        xaxis={"title": "time step", "dtick": 1},
        yaxis={"title": "membrane potential H[t] (before reset)"},
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def integer_window(
    mem: np.ndarray, q: np.ndarray, neurons: Sequence[int], window: tuple[float, float], title: str
) -> go.Figure:
    """Membrane ``U`` and integer output ``q`` of selected neurons against the clip window.

    ``mem`` and ``q`` are ``[T, k]``; each time step is a group of points along x.
    """
    lo, hi = window
    fig = go.Figure()
    labels = [
        f"n{n}" if mem.shape[0] == 1 else f"n{n} t{t}" for t in range(mem.shape[0]) for n in neurons
    ]
    fig.add_trace(
        go.Scatter(
            x=labels,
            y=mem.reshape(-1),
            mode="markers",
            marker={"size": 10, "color": "#1f77b4"},
            name="U (membrane potential)",
            hovertemplate="%{x}<br>U = %{y:.3f}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=labels,
            y=q.reshape(-1),
            mode="markers",
            marker={"size": 12, "symbol": "diamond-open", "color": "#d62728", "line": {"width": 2}},
            name="q = clip(round(U), lo, hi)",
            hovertemplate="%{x}<br>q = %{y:.3f}<extra></extra>",
        )
    )
    fig.add_hrect(y0=lo, y1=hi, fillcolor="#2ca02c", opacity=0.08, line_width=0)
    fig.add_hline(
        y=lo, line={"dash": "dash", "color": "#2ca02c"}, annotation_text=f"alpha = {lo:.3f}"
    )
    fig.add_hline(
        y=hi, line={"dash": "dash", "color": "#2ca02c"}, annotation_text=f"alpha + D = {hi:.3f}"
    )
    fig.update_layout(
        title=title,
        xaxis={"title": "neuron", "type": "category"},
        yaxis={"title": "value"},
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
        legend={"orientation": "h", "y": -0.3},
    )
    return fig


def integer_vs_binary(
    q: np.ndarray, binary: np.ndarray, neurons: Sequence[int], constant: float
) -> go.Figure:
    """Integer outputs ``q [T, k]`` beside their unrolled spikes ``binary [T, D, k]``."""
    steps, sub_steps, _ = binary.shape
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.3, 0.7],
        subplot_titles=("integer output q", f"unrolled binary spikes (q = count + {constant:g})"),
        horizontal_spacing=0.12,
    )
    names = [str(n) for n in neurons]
    fig.add_trace(
        go.Heatmap(
            z=q.T,
            x=[f"t{t}" for t in range(steps)],
            y=names,
            text=np.round(q.T, 3),
            texttemplate="%{text}",
            colorscale="Blues",
            showscale=False,
            hovertemplate="neuron %{y}, %{x}: q = %{z:.3f}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    flat = binary.reshape(steps * sub_steps, -1).T  # [k, T * D]
    fig.add_trace(
        go.Heatmap(
            z=flat,
            x=[f"t{t}.{d}" for t in range(steps) for d in range(sub_steps)],
            y=names,
            colorscale=[[0, "#ffffff"], [1, SPIKE_COLOR]],
            zmin=0,
            zmax=1,
            showscale=False,
            xgap=2,
            ygap=2,
            hovertemplate="neuron %{y}, sub-step %{x}: %{z}<extra></extra>",
        ),
        row=1,
        col=2,
    )
    fig.update_yaxes(title_text="neuron", type="category", row=1, col=1)
    fig.update_yaxes(type="category", row=1, col=2)
    fig.update_layout(margin={"l": 60, "r": 20, "t": 50, "b": 40})
    return fig


def rate_histogram(rates: np.ndarray, title: str) -> go.Figure:
    """Histogram of per-neuron firing rates."""
    fig = go.Figure(
        go.Histogram(
            x=rates, nbinsx=min(40, max(5, int(np.sqrt(rates.size)))), marker_color=SPIKE_COLOR
        )
    )
    fig.update_layout(
        title=title,
        xaxis={"title": "firing rate (spikes per binary step)"},
        yaxis={"title": "neurons"},
        bargap=0.05,
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
    )
    return fig


def class_probabilities(
    probabilities: np.ndarray, classes: Sequence[str], label: int | None
) -> go.Figure:
    """Bar chart of the predicted class probabilities, the true class highlighted."""
    colors = ["#2ca02c" if i == label else "#1f77b4" for i in range(len(classes))]
    fig = go.Figure(go.Bar(x=probabilities, y=list(classes), orientation="h", marker_color=colors))
    fig.update_layout(
        xaxis={"title": "probability", "range": [0, 1]},
        yaxis={"autorange": "reversed"},
        margin={"l": 100, "r": 20, "t": 30, "b": 40},
        height=320,
    )
    return fig


def energy_bars(
    layers: Sequence[str], snn_nj: Sequence[float], ann_nj: Sequence[float], label: str
) -> go.Figure:
    """Grouped bars of energy per layer, spiking network against the ANN twin."""
    fig = go.Figure(
        [
            go.Bar(name=label, x=list(layers), y=list(snn_nj), marker_color=SPIKE_COLOR),
            go.Bar(name="ANN twin", x=list(layers), y=list(ann_nj), marker_color="#aaaaaa"),
        ]
    )
    fig.update_layout(
        barmode="group",
        yaxis={"title": "energy per image (nJ)"},
        margin={"l": 60, "r": 20, "t": 30, "b": 40},
        legend={"orientation": "h", "y": 1.1},
        height=320,
    )
    return fig
