"""Shared page parts: charts with PNG export, CSV downloads and the standard messages."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from PIL import Image


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-").lower() or "figure"


def chart(
    fig: go.Figure,
    *,
    key: str,
    filename: str,
    height: int | None = None,
    select: str | tuple[str, ...] | None = None,
) -> Any:
    """Draw a Plotly figure whose toolbar camera button saves a PNG named ``filename``.

    With ``select`` (``"points"``, ``"box"``, ``"lasso"`` or a tuple of them) the chart
    reruns the page on a selection and returns Streamlit's selection event.
    """
    if height is not None:
        fig.update_layout(height=height)
    config = {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": _slug(filename), "scale": 2},
    }
    if select is None:
        return st.plotly_chart(fig, key=key, config=config, width="stretch")
    return st.plotly_chart(
        fig, key=key, config=config, width="stretch", on_select="rerun", selection_mode=select
    )


def csv_download(frame: pd.DataFrame, *, filename: str, key: str, label: str = "CSV") -> None:
    """Offer ``frame`` as a CSV file."""
    st.download_button(
        label=label,
        data=frame.to_csv(index=False).encode("utf-8"),
        file_name=f"{_slug(filename)}.csv",
        mime="text/csv",
        key=key,
        icon=":material/download:",
    )


def png_bytes(image: np.ndarray) -> bytes:
    """Encode an ``[H, W]`` or ``[H, W, 3]`` array (uint8, or float in [0, 1]) as PNG."""
    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = (np.clip(array, 0.0, 1.0) * 255).round().astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def png_download(image: np.ndarray, *, filename: str, key: str, label: str = "PNG") -> None:
    """Offer an image array as a PNG file."""
    st.download_button(
        label=label,
        data=png_bytes(image),
        file_name=f"{_slug(filename)}.png",
        mime="image/png",
        key=key,
        icon=":material/download:",
    )


def missing_checkpoint(what: str, command: str) -> None:
    """Tell the user that a checkpoint is missing and how to train it."""
    st.warning(
        f"No trained checkpoint for {what} is installed. Train it with:\n\n```\n{command}\n```",
        icon=":material/model_training:",
    )


def metric_row(values: Sequence[tuple[str, str]]) -> None:
    """Show (label, value) pairs side by side."""
    for column, (label, value) in zip(st.columns(len(values)), values, strict=True):
        column.metric(label, value)
