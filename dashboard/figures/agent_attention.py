"""Plotly figures of the "Agent vs human attention" page.

Screens are drawn as ``go.Image`` in screen pixels (x right, y down, 160x210); maps are laid
over them as ``go.Heatmap`` traces on the same axes, so a heat map cell and the pixel under it
share coordinates.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.atari.compare import HIGHER_IS_BETTER, METRIC_LABELS

SCREEN_W, SCREEN_H = 160, 210
# Colour scales that fade to transparent at zero, so the frame shows through low values.
HUMAN_SCALE = [[0.0, "rgba(0,230,118,0)"], [0.3, "rgba(0,230,118,0.5)"], [1.0, "rgba(0,255,150,1)"]]
AGENT_SCALE = [[0.0, "rgba(255,40,0,0)"], [0.4, "rgba(255,60,0,0.6)"], [1.0, "rgba(255,235,0,1)"]]
VARIANT_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _screen_layout(fig: go.Figure, title: str, height: int = 430) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": 14}},
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        showlegend=False,
    )
    fig.update_xaxes(range=[-0.5, SCREEN_W - 0.5], visible=False, constrain="domain")
    fig.update_yaxes(
        range=[SCREEN_H - 0.5, -0.5],
        visible=False,
        scaleanchor="x",
        scaleratio=1,
        constrain="domain",
    )
    return fig


def screen_figure(screen: np.ndarray, title: str, gaze_xy: np.ndarray | None = None) -> go.Figure:
    """Draw a 210x160 RGB screen, with the frame's gaze samples as dots when given."""
    fig = go.Figure(go.Image(z=screen, hoverinfo="x+y"))
    if gaze_xy is not None and len(gaze_xy):
        inside = (
            (gaze_xy[:, 0] >= 0)
            & (gaze_xy[:, 0] < SCREEN_W)
            & (gaze_xy[:, 1] >= 0)
            & (gaze_xy[:, 1] < SCREEN_H)
        )
        fig.add_trace(
            go.Scatter(
                x=gaze_xy[inside, 0],
                y=gaze_xy[inside, 1],
                mode="markers",
                marker={"size": 4, "color": "#00e5ff", "opacity": 0.7},
                name="gaze samples",
                hovertemplate="gaze x=%{x:.1f}, y=%{y:.1f}<extra></extra>",
            )
        )
    return _screen_layout(fig, title)


def overlay_figure(
    screen: np.ndarray, values: np.ndarray, title: str, *, opacity: float, colorscale: list
) -> go.Figure:
    """Draw a map at screen size (``[210, 160]``) over the screen with the given opacity."""
    fig = go.Figure(go.Image(z=screen, hoverinfo="skip"))
    top = float(np.max(values)) if np.max(values) > 0 else 1.0
    fig.add_trace(
        go.Heatmap(
            z=values,
            x=np.arange(SCREEN_W),
            y=np.arange(SCREEN_H),
            colorscale=colorscale,
            zmin=0.0,
            zmax=top,
            opacity=opacity,
            showscale=False,
            hovertemplate="x=%{x}, y=%{y}: %{z:.3g}<extra></extra>",
        )
    )
    return _screen_layout(fig, title)


def metric_curve(rows: pd.DataFrame, metrics: Sequence[str], current: int, title: str) -> go.Figure:
    """Plot metrics against the frame index, with the current frame marked."""
    fig = go.Figure()
    for metric in metrics:
        if metric not in rows or rows[metric].isna().all():
            continue
        fig.add_trace(
            go.Scatter(
                x=rows["frame_index"],
                y=rows[metric],
                mode="lines+markers",
                marker={"size": 4},
                name=METRIC_LABELS.get(metric, metric),
                connectgaps=False,
                hovertemplate="frame %{x}: %{y:.3f}<extra>%{fullData.name}</extra>",
            )
        )
    fig.add_vline(
        x=current, line={"color": "#888", "dash": "dash"}, annotation_text="current frame"
    )
    fig.update_layout(
        title={"text": title, "font": {"size": 14}},
        height=320,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        xaxis_title="frame index",
        yaxis_title="metric value",
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def stage_figure(table: pd.DataFrame, metric: str) -> go.Figure:
    """Plot a metric against the frames each checkpoint had seen, one line per variant."""
    fig = go.Figure()
    for number, (variant, part) in enumerate(table.groupby("variant", sort=True)):
        part = part.sort_values("frames")
        fig.add_trace(
            go.Scatter(
                x=part["frames"] / 1e6,
                y=part[metric],
                mode="lines+markers",
                name=str(variant),
                line={"color": VARIANT_COLORS[number % len(VARIANT_COLORS)]},
                text=part["checkpoint"],
                hovertemplate="%{text}<br>%{x:.1f} M frames: %{y:.3f}<extra></extra>",
            )
        )
    direction = "higher" if HIGHER_IS_BETTER.get(metric, True) else "lower"
    fig.update_layout(
        title={
            "text": (
                f"{METRIC_LABELS.get(metric, metric)} against training "
                f"({direction} is more human-like)"
            ),
            "font": {"size": 14},
        },
        height=340,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        xaxis_title="frames seen in training (millions)",
        yaxis_title=METRIC_LABELS.get(metric, metric),
    )
    return fig


def return_figure(table: pd.DataFrame, metric: str, correlation: dict) -> go.Figure:
    """Scatter a metric against each checkpoint's evaluation return, with the correlations."""
    fig = go.Figure()
    for number, (variant, part) in enumerate(table.groupby("variant", sort=True)):
        fig.add_trace(
            go.Scatter(
                x=part["return_mean"],
                y=part[metric],
                error_x={
                    "type": "data",
                    "array": part["return_std"],
                    "visible": True,
                    "thickness": 1,
                },
                mode="markers",
                marker={"size": 10, "color": VARIANT_COLORS[number % len(VARIANT_COLORS)]},
                name=str(variant),
                text=part["checkpoint"],
                hovertemplate="%{text}<br>return %{x:.0f}: %{y:.3f}<extra></extra>",
            )
        )
    if correlation.get("pearson_r") is not None:
        note = (
            f"Pearson r = {correlation['pearson_r']:.2f} (p = {correlation['pearson_p']:.2g}), "
            f"Spearman ρ = {correlation['spearman_rho']:.2f}, n = {correlation['n']}"
        )
    else:
        note = correlation.get("note") or "correlation undefined"
    fig.update_layout(
        title={
            "text": f"{METRIC_LABELS.get(metric, metric)} against return<br><sup>{note}</sup>",
            "font": {"size": 14},
        },
        height=340,
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        xaxis_title="mean evaluation return (bars: one standard deviation)",
        yaxis_title=METRIC_LABELS.get(metric, metric),
    )
    return fig


CLICK_STEP = 4  # screen pixels between clickable points of the recording grid


def record_figure(screen: np.ndarray, clicks: np.ndarray | None, title: str) -> go.Figure:
    """Draw a screen under a transparent grid of clickable points; mark recorded clicks."""
    fig = go.Figure(go.Image(z=screen, hoverinfo="skip"))
    xs, ys = np.meshgrid(
        np.arange(0, SCREEN_W, CLICK_STEP) + CLICK_STEP / 2,
        np.arange(0, SCREEN_H, CLICK_STEP) + CLICK_STEP / 2,
    )
    fig.add_trace(
        go.Scatter(
            x=xs.ravel(),
            y=ys.ravel(),
            mode="markers",
            marker={"size": 9, "color": "rgba(255,255,255,0.01)"},
            name="click grid",
            hovertemplate="look here: x=%{x:.0f}, y=%{y:.0f}<extra></extra>",
        )
    )
    if clicks is not None and len(clicks):
        fig.add_trace(
            go.Scatter(
                x=clicks[:, 0],
                y=clicks[:, 1],
                mode="markers",
                marker={"size": 12, "color": "#00e5ff", "symbol": "x"},
                name="your clicks",
                hoverinfo="skip",
            )
        )
    fig.update_layout(clickmode="event+select", dragmode=False)
    return _screen_layout(fig, title, height=520)
