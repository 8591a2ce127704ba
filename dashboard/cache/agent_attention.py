"""Cached wrappers for the "Agent vs human attention" page.

Agents, trials and rollouts are cached as resources (one shared instance per key); saliency
maps and metric tables as data, keyed by plain values: an agent key ``(kind, ident)``, a
source key ``(kind, ...)``, frame indices, method and target names.

Agent keys: ``("shipped", checkpoint name)``, ``("zip", path)``, ``("baby-a3c", path)``.
Source keys: ``("trial", label path, game)`` or ``("emulator", agent key, game, steps, seed)``.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from data.sources import data_dir

AgentKey = tuple[str, str]
SourceKey = tuple[Any, ...]
SAMPLE_FOLDER = Path(__file__).resolve().parents[2] / "data" / "samples" / "atari_head"
SAMPLE_TRIAL = SAMPLE_FOLDER / "ms_pacman" / "593_RZ_5037271_Aug-05-15-35-12.txt"
SAMPLE_RESULTS = SAMPLE_FOLDER / "results"
RECORDED_FOLDER_NAME = "recorded"


def recorded_folder() -> Path:
    """Return the folder where attention recorded on the page is saved as trials."""
    return data_dir() / "atari-head" / RECORDED_FOLDER_NAME


def known_trials() -> dict[str, str]:
    """Return ``{label: path}`` of the shipped sample, fetched trials and recorded trials."""
    from data.atari_head import find_trials

    trials = {f"Shipped sample: {SAMPLE_TRIAL.stem} (200 frames)": str(SAMPLE_TRIAL)}
    fetched = data_dir() / "atari-head"
    if fetched.is_dir():
        for path in find_trials(fetched):
            kind = "Recorded" if RECORDED_FOLDER_NAME in path.parts else "Fetched"
            trials[f"{kind}: {path.parent.name}/{path.stem}"] = str(path)
    return trials


def store_upload(data: bytes, suffix: str) -> str:
    """Save uploaded bytes under a content-addressed temporary name and return the path."""
    digest = hashlib.sha256(data).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / "glimpse-uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}{suffix}"
    if not path.exists():
        path.write_bytes(data)
    return str(path)


@st.cache_resource(show_spinner="Loading the agent...", max_entries=16)
def agent(key: AgentKey):
    """Load an agent (see the module docstring for keys)."""
    from models.atari.agents import load_baby_a3c_agent, load_shipped, load_zoo_agent

    kind, ident = key
    if kind == "shipped":
        return load_shipped(ident)
    if kind == "zip":
        return load_zoo_agent(ident)
    if kind == "baby-a3c":
        return load_baby_a3c_agent(ident)
    raise ValueError(f"unknown agent kind {kind!r}")


@st.cache_data(show_spinner=False)
def shipped_cards() -> list[dict[str, Any]]:
    """Cards of the shipped agents, ordered by variant and frames."""
    from models.atari.agents import shipped_agents

    return shipped_agents()


@st.cache_resource(show_spinner="Loading the gaze model...")
def gaze_model():
    """The shipped human gaze model and its card, or ``None`` when it is not installed."""
    from models.atari.gaze_net import load_gaze_model
    from models.registry import CHECKPOINT_ROOT, CheckpointError

    try:
        return load_gaze_model(CHECKPOINT_ROOT / "atari" / "gaze-ms_pacman")
    except CheckpointError:
        return None


@st.cache_resource(show_spinner="Reading the trial...", max_entries=4)
def sequence(key: SourceKey):
    """Load a trial or play a rollout (see the module docstring for keys)."""
    from analysis.atari.frames import TrialSequence, rollout
    from data.atari_head import AtariHeadTrial

    if key[0] == "trial":
        _, path, game = key
        trial = AtariHeadTrial(path)
        _ = trial.frame_ids  # read the archive now, inside the spinner
        return TrialSequence(trial, game)
    _, agent_key, game, steps, seed = key
    return rollout(agent(agent_key), game, steps, seed=seed)


@st.cache_data(show_spinner=False, max_entries=64)
def frame_maps(
    agent_key: AgentKey, source_key: SourceKey, index: int, method: str, target: str
) -> dict[str, Any]:
    """Return the saliency maps of one frame as plain arrays."""
    from analysis.atari.frames import agent_input, recurrent_states
    from analysis.saliency.compute import compute_saliency

    model = agent(agent_key)
    frames = sequence(source_key)
    state = recurrent_states(model, frames)[index] if model.recurrent else None
    x = agent_input(model, frames, index)
    maps = compute_saliency(model, x, method, target, state=state)
    logits, value, _ = model.step(x, state)
    return {
        "input_map": maps.input_map,
        "screen": maps.screen,
        "compare": maps.compare,
        "probability": maps.probability,
        "degenerate": maps.degenerate,
        "signed": maps.signed,
        "logits": logits.numpy(),
        "value": float(value),
    }


@st.cache_data(show_spinner=False, max_entries=64)
def predicted_gaze(source_key: SourceKey, index: int) -> np.ndarray | None:
    """Return the gaze model's prediction for frame ``index`` (``None`` without the model)."""
    from analysis.atari.pipeline import predict_human

    loaded = gaze_model()
    if loaded is None:
        return None
    return predict_human(loaded[0], sequence(source_key), index)


@st.cache_data(show_spinner=False, max_entries=256)
def frame_rows(
    agent_key: AgentKey,
    source_key: SourceKey,
    method: str,
    target: str,
    indices: tuple[int, ...],
    use_gaze_model: bool,
) -> pd.DataFrame:
    """Compute the per-frame metric rows of ``indices``; the page calls it chunk by chunk."""
    from analysis.atari.frames import recurrent_states
    from analysis.atari.pipeline import analyse_frames

    model = agent(agent_key)
    frames = sequence(source_key)
    loaded = gaze_model() if use_gaze_model else None
    rows = analyse_frames(
        model,
        frames,
        list(indices),
        method=method,
        target=target,
        states=recurrent_states(model, frames) if model.recurrent else None,
        gaze_model=loaded[0] if loaded else None,
        with_emd=False,
    )
    return pd.DataFrame(rows)


def stored_rows(
    folder: Path, trial: str, agent_name: str, method: str, target: str
) -> pd.DataFrame | None:
    """Return batch results for this combination if a results folder holds them."""
    from analysis.atari.batch import BatchError, read_results, result_dir

    path = result_dir(folder, trial, agent_name, method, target)
    if not path.is_dir():
        return None
    try:
        return read_results(path)
    except (BatchError, OSError, ValueError):
        return None


@st.cache_data(show_spinner=False)
def cached_stored_rows(
    folder: str, trial: str, agent_name: str, method: str, target: str, stamp: float
):
    """:func:`stored_rows`, cached until the folder changes (``stamp`` is its newest mtime)."""
    return stored_rows(Path(folder), trial, agent_name, method, target)


def folder_stamp(folder: Path) -> float:
    """Return the newest modification time under ``folder`` (0 when absent)."""
    if not folder.is_dir():
        return 0.0
    return max((p.stat().st_mtime for p in folder.rglob("*.parquet")), default=0.0)
