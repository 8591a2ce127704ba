"""Plotly figures of the backdoor page. Builders take arrays and data frames, never models."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

# Qualitative colours for the ten classes and the five defences.
CLASS_COLOURS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
DEFENCE_COLOURS = {
    "No defence": "#7f7f7f",
    "CBPT-style": "#d62728",
    "Class-wise prompts, no inversion": "#ff9896",
    "Fine-tuning": "#1f77b4",
    "CleanCLIP-style": "#2ca02c",
}


def _to_uint8(image: np.ndarray) -> np.ndarray:
    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = (np.clip(array, 0.0, 1.0) * 255).round().astype(np.uint8)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    return array


def _hide_axes(fig: go.Figure) -> None:
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False)


def gallery_figure(
    clean: np.ndarray,
    triggered: np.ndarray,
    clean_titles: Sequence[str],
    triggered_titles: Sequence[str],
) -> go.Figure:
    """Draw clean images over their triggered versions, each titled with its predictions.

    Args:
        clean, triggered: ``[N, H, W, 3]`` images (uint8, or float in [0, 1]).
        clean_titles, triggered_titles: one title per image (``<br>`` breaks lines).
    """
    count = len(clean)
    fig = make_subplots(
        rows=2,
        cols=count,
        subplot_titles=[*clean_titles, *triggered_titles],
        vertical_spacing=0.16,
        horizontal_spacing=0.01,
    )
    for column in range(count):
        fig.add_trace(go.Image(z=_to_uint8(clean[column]), hoverinfo="skip"), row=1, col=column + 1)
        fig.add_trace(
            go.Image(z=_to_uint8(triggered[column]), hoverinfo="skip"), row=2, col=column + 1
        )
    fig.update_annotations(font_size=10)
    _hide_axes(fig)
    fig.update_layout(height=430, margin={"l": 10, "r": 10, "t": 70, "b": 10})
    return fig


def trigger_figure(
    panels: Sequence[tuple[str, np.ndarray]], heatmaps: Sequence[tuple[str, np.ndarray]]
) -> go.Figure:
    """Draw images (``[H, W, 3]``) and heat maps (``[H, W]`` in [0, 1]) side by side, titled."""
    titles = [title for title, _ in panels] + [title for title, _ in heatmaps]
    fig = make_subplots(rows=1, cols=len(titles), subplot_titles=titles, horizontal_spacing=0.02)
    for column, (_, image) in enumerate(panels, start=1):
        fig.add_trace(go.Image(z=_to_uint8(image), hoverinfo="skip"), row=1, col=column)
    for offset, (title, heat) in enumerate(heatmaps, start=len(panels) + 1):
        fig.add_trace(
            go.Heatmap(
                z=np.asarray(heat)[::-1],
                zmin=0.0,
                zmax=1.0,
                colorscale="Inferno",
                showscale=offset == len(titles),
                name=title,
                hovertemplate="x %{x}, y %{y}: %{z:.3f}<extra></extra>",
            ),
            row=1,
            col=offset,
        )
        fig.update_yaxes(scaleanchor=f"x{offset}", row=1, col=offset)
    fig.update_annotations(font_size=11)
    _hide_axes(fig)
    fig.update_layout(height=260, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def results_figure(table: pd.DataFrame) -> go.Figure:
    """Draw CA and ASR per attack and defence as grouped bars with one-std error bars."""
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=("Clean accuracy (%)", "Attack success rate (%)")
    )
    for defence, rows in table.groupby("defence", sort=False):
        colour = DEFENCE_COLOURS.get(defence)
        for column, key in ((1, "ca"), (2, "asr")):
            fig.add_trace(
                go.Bar(
                    x=rows["attack"],
                    y=rows[f"{key}_mean"],
                    error_y={"type": "data", "array": rows[f"{key}_std"], "visible": True},
                    name=defence,
                    legendgroup=defence,
                    showlegend=column == 1,
                    marker_color=colour,
                    hovertemplate="%{x}<br>%{y:.2f} %<extra>" + defence + "</extra>",
                ),
                row=1,
                col=column,
            )
    fig.update_layout(barmode="group", height=420, legend={"orientation": "h", "y": -0.15})
    fig.update_yaxes(range=[0, 100])
    return fig


def spread_figure(per_seed: pd.DataFrame) -> go.Figure:
    """Draw every seed's CA and ASR per defence as points, to show run-to-run spread."""
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("Clean accuracy (%) per seed", "Attack success rate (%) per seed"),
    )
    for defence, rows in per_seed.groupby("defence", sort=False):
        colour = DEFENCE_COLOURS.get(defence)
        for column, key in ((1, "ca"), (2, "asr")):
            fig.add_trace(
                go.Box(
                    x=rows["defence"],
                    y=rows[key],
                    name=defence,
                    legendgroup=defence,
                    showlegend=False,
                    boxpoints="all",
                    jitter=0.3,
                    pointpos=0,
                    marker_color=colour,
                    customdata=rows["seed"],
                    hovertemplate="seed %{customdata}: %{y:.2f} %<extra>" + defence + "</extra>",
                ),
                row=1,
                col=column,
            )
    fig.update_xaxes(showticklabels=True, tickangle=-20)
    fig.update_layout(height=400, margin={"b": 90})
    return fig


def pca_figure(
    panels: Sequence[dict],
    class_names: Sequence[str],
) -> go.Figure:
    """Draw image features in 2-D per panel, coloured by predicted class, with class text points.

    Each panel is a dict with ``title``, ``clean`` ``[N, 2]``, ``triggered`` ``[N, 2]``,
    ``clean_pred``, ``triggered_pred`` ``[N]``, ``text`` ``[C, 2]`` and ``labels`` ``[N]``.
    Circles are clean images, crosses triggered ones, stars the class text features.
    """
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=[p["title"] for p in panels])
    for column, panel in enumerate(panels, start=1):
        for kind, symbol in (("clean", "circle"), ("triggered", "x")):
            points = panel[kind]
            predicted = panel[f"{kind}_pred"]
            fig.add_trace(
                go.Scattergl(
                    x=points[:, 0],
                    y=points[:, 1],
                    mode="markers",
                    marker={
                        "symbol": symbol,
                        "size": 7,
                        "color": [CLASS_COLOURS[p % len(CLASS_COLOURS)] for p in predicted],
                        "opacity": 0.8,
                    },
                    name=f"{kind} images",
                    legendgroup=kind,
                    showlegend=column == 1,
                    customdata=np.stack(
                        [
                            [class_names[i] for i in panel["labels"]],
                            [class_names[i] for i in predicted],
                        ],
                        axis=-1,
                    ),
                    hovertemplate=(
                        f"{kind}: %{{customdata[0]}}, predicted %{{customdata[1]}}<extra></extra>"
                    ),
                ),
                row=1,
                col=column,
            )
        text = panel["text"]
        fig.add_trace(
            go.Scatter(
                x=text[:, 0],
                y=text[:, 1],
                mode="markers+text",
                text=list(class_names),
                textposition="top center",
                marker={
                    "symbol": "star",
                    "size": 15,
                    "color": list(CLASS_COLOURS[: len(class_names)]),
                    "line": {"width": 1},
                },
                name="class text features",
                legendgroup="text",
                showlegend=column == 1,
                hovertemplate="%{text}<extra>text feature</extra>",
            ),
            row=1,
            col=column,
        )
    fig.update_xaxes(title_text="PC 1")
    fig.update_yaxes(title_text="PC 2")
    fig.update_layout(height=520, legend={"orientation": "h", "y": -0.12})
    return fig
