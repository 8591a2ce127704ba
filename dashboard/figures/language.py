"""Figures of the spiking language models page: attention grids, token links, predictions,
spike rates and energy. Builders take numpy arrays and plain lists and return Plotly figures."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

WINNER_COLOR = "#d62728"
SOFTMAX_COLOR = "#1f77b4"
ROW_HEIGHT_PX = 16  # per token in the token-to-token view
LINK_BUCKETS = 5  # line widths in the token-to-token view


def _finite(values: np.ndarray) -> np.ndarray:
    # masked softmax scores are -inf; Plotly draws NaN as a gap
    out = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(out), out, np.nan)


def head_grid(
    maps: np.ndarray,
    labels: Sequence[str],
    *,
    title: str,
    colorscale: str = "Reds",
    zmin: float | None = None,
    zmax: float | None = None,
) -> go.Figure:
    """Draw ``maps`` ``[layers, heads, L, L]`` as a grid of small heat maps (rows are layers).

    Queries run down each map and keys across; hovering shows the query and key tokens.
    """
    layers, heads = maps.shape[:2]
    fig = make_subplots(
        rows=layers,
        cols=heads,
        horizontal_spacing=0.02,
        vertical_spacing=0.03,
        column_titles=[f"head {h + 1}" for h in range(heads)],
        row_titles=[f"layer {layer + 1}" for layer in range(layers)],
    )
    values = _finite(maps)
    low = float(np.nanmin(values)) if zmin is None else zmin
    high = float(np.nanmax(values)) if zmax is None else zmax
    positions = [f"{i}:{label}" for i, label in enumerate(labels)]
    for layer in range(layers):
        for head in range(heads):
            fig.add_trace(
                go.Heatmap(
                    z=values[layer, head],
                    x=positions,
                    y=positions,
                    coloraxis="coloraxis",
                    hovertemplate="query %{y}<br>key %{x}<br>value %{z:.3g}<extra></extra>",
                ),
                row=layer + 1,
                col=head + 1,
            )
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False, autorange="reversed")
    fig.update_layout(
        title=title,
        coloraxis={"colorscale": colorscale, "cmin": low, "cmax": high},
        height=170 * layers + 80,
        margin={"l": 20, "r": 20, "t": 70, "b": 20},
    )
    return fig


def token_links(
    weights: np.ndarray,
    labels: Sequence[str],
    *,
    title: str,
    color: str = WINNER_COLOR,
    max_links: int = 3,
) -> go.Figure:
    """Draw attention from queries (left) to keys (right) as lines, BertViz-style.

    Each query draws its ``max_links`` strongest keys; line width and opacity follow the weight
    relative to the largest weight in the matrix. A one-hot (winner-take-all) row draws one line.
    """
    weights = np.nan_to_num(_finite(weights), nan=0.0)
    length = weights.shape[0]
    peak = float(weights.max()) if weights.size and weights.max() > 0 else 1.0
    # one trace per strength bucket, lines separated by None, keeps the figure light
    buckets: dict[int, tuple[list, list]] = {}
    for query in range(length):
        row = weights[query]
        for key in np.argsort(-row, kind="stable")[:max_links]:
            weight = float(row[key])
            if weight <= 0:
                continue
            bucket = min(int(weight / peak * LINK_BUCKETS), LINK_BUCKETS - 1)
            xs, ys = buckets.setdefault(bucket, ([], []))
            xs += [0, 1, None]
            ys += [query, int(key), None]
    fig = go.Figure()
    for bucket, (xs, ys) in sorted(buckets.items()):
        strength = (bucket + 1) / LINK_BUCKETS
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                line={"color": color, "width": 0.5 + 3.5 * strength},
                opacity=0.25 + 0.75 * strength,
                hoverinfo="skip",
                showlegend=False,
            )
        )
    for side, anchor in ((0, "right"), (1, "left")):
        fig.add_trace(
            go.Scatter(
                x=[side] * length,
                y=list(range(length)),
                mode="text",
                text=[f"{i}:{label}" for i, label in enumerate(labels)],
                textposition=f"middle {'left' if anchor == 'right' else 'right'}",
                customdata=[_top_keys(weights[i], labels) for i in range(length)]
                if side == 0
                else None,
                hovertemplate="%{customdata}<extra></extra>" if side == 0 else None,
                hoverinfo=None if side == 0 else "skip",
                showlegend=False,
            )
        )
    fig.update_xaxes(visible=False, range=[-0.6, 1.6])
    fig.update_yaxes(visible=False, autorange="reversed")
    fig.update_layout(
        title=title,
        height=max(300, ROW_HEIGHT_PX * length + 80),
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        annotations=[
            {"x": 0, "y": -1, "text": "<b>query</b>", "showarrow": False, "xanchor": "right"},
            {"x": 1, "y": -1, "text": "<b>key</b>", "showarrow": False, "xanchor": "left"},
        ],
    )
    return fig


def _top_keys(row: np.ndarray, labels: Sequence[str], count: int = 3) -> str:
    keys = np.argsort(-row, kind="stable")[:count]
    return "<br>".join(
        f"{int(k)}:{labels[int(k)]} {row[int(k)]:.3g}" for k in keys if row[int(k)] > 0
    )


def attention_matrix(
    weights: np.ndarray,
    labels: Sequence[str],
    *,
    title: str,
    colorscale: str = "Reds",
    winners: np.ndarray | None = None,
) -> go.Figure:
    """Draw one head's ``[L, L]`` matrix with token labels, marking each query's winner."""
    positions = [f"{i}:{label}" for i, label in enumerate(labels)]
    fig = go.Figure(
        go.Heatmap(
            z=_finite(weights),
            x=positions,
            y=positions,
            colorscale=colorscale,
            hovertemplate="query %{y}<br>key %{x}<br>value %{z:.3g}<extra></extra>",
        )
    )
    if winners is not None:
        fig.add_trace(
            go.Scatter(
                x=[positions[int(k)] for k in winners],
                y=positions,
                mode="markers",
                marker={"symbol": "x", "color": "black", "size": 6},
                name="winner",
                hovertemplate="query %{y}<br>winner %{x}<extra></extra>",
            )
        )
    fig.update_yaxes(autorange="reversed", title="query")
    fig.update_xaxes(title="key")
    size = max(420, 9 * len(labels) + 160)
    fig.update_layout(title=title, height=size, margin={"l": 10, "r": 10, "t": 50, "b": 10})
    return fig


def probability_bars(
    frame: pd.DataFrame, *, title: str, x: str, y: str, group: str | None = None
) -> go.Figure:
    """Horizontal bars of probabilities, one facet row per ``group`` value when given."""
    fig = go.Figure()
    if group is None:
        fig.add_trace(go.Bar(x=frame[x], y=frame[y], orientation="h", marker_color=SOFTMAX_COLOR))
    else:
        for name, part in frame.groupby(group, sort=False):
            fig.add_trace(go.Bar(x=part[x], y=part[y], orientation="h", name=str(name)))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(title="probability", range=[0, 1])
    fig.update_layout(title=title, height=max(260, 22 * len(frame) + 100), barmode="group")
    return fig


def token_series(
    labels: Sequence[str], values: Sequence[float], *, title: str, y_title: str
) -> go.Figure:
    """Bar chart of one value per token, in sequence order."""
    positions = [f"{i}:{label}" for i, label in enumerate(labels)]
    fig = go.Figure(go.Bar(x=positions, y=list(values), marker_color=SOFTMAX_COLOR))
    fig.update_xaxes(type="category", tickangle=-60)
    fig.update_yaxes(title=y_title)
    fig.update_layout(title=title, height=360, margin={"b": 120})
    return fig


def spike_rate_chart(frame: pd.DataFrame) -> go.Figure:
    """Grouped bars of spike rate per neuron role (colour) and block (x)."""
    fig = go.Figure()
    for role, part in frame.groupby("role", sort=False):
        fig.add_trace(go.Bar(x=part["block"], y=part["rate"], name=role))
    fig.update_xaxes(title="block", type="category")
    fig.update_yaxes(title="spike rate (share of binary sub-steps)")
    fig.update_layout(title="Spike rate per layer", barmode="group", height=380)
    return fig


def energy_chart(frame: pd.DataFrame) -> go.Figure:
    """Stacked bars of energy per token, attention products and the rest, per model."""
    fig = go.Figure()
    fig.add_trace(
        go.Bar(x=frame["model"], y=frame["attention_pj_per_token"], name="attention products")
    )
    fig.add_trace(go.Bar(x=frame["model"], y=frame["other_pj_per_token"], name="linear layers"))
    fig.update_yaxes(title="energy per token (pJ)")
    fig.update_layout(title="Estimated synaptic energy on this text", barmode="stack", height=380)
    return fig
