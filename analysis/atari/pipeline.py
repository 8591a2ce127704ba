"""Saliency and similarity metrics for a run of frames: the step shared by page and batch.

:func:`analyse_frames` computes, for each requested frame, the agent's saliency map, the
human attention of that frame and every metric of :mod:`analysis.atari.compare`, and returns
one flat row per frame. The dashboard calls it for the frames on screen; the batch command
calls it for chunks of a whole trial, so both produce the same numbers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from analysis.atari.compare import (
    ALL_METRICS,
    fixation_indices,
    frame_metrics,
    human_attention,
    other_fixations,
)
from analysis.atari.frames import FrameSequence, agent_input, gaze_model_input, recurrent_states
from analysis.saliency.compute import compute_saliency
from analysis.saliency.gaze import GazeError
from analysis.saliency.maps import SaliencyError
from models.atari.agents import Agent
from models.atari.gaze_net import GazeNet

log = logging.getLogger(__name__)

ROW_COLUMNS = (
    "frame_index",
    "frame_id",
    "human_source",
    "gaze_on_screen",
    "gaze_off_screen",
    *ALL_METRICS,
    "agent_action",
    "agent_value",
    "saliency_sum",
    "degenerate",
    "note",
)


@torch.no_grad()
def predict_human(gaze_model: GazeNet, sequence: FrameSequence, index: int) -> np.ndarray:
    """Return the gaze model's predicted distribution ``[84, 84]`` at frame ``index``."""
    x = torch.from_numpy(gaze_model_input(sequence, index)).float()[None] / 255.0
    return gaze_model.predict(x)[0].double().numpy()


def analyse_frames(
    agent: Agent,
    sequence: FrameSequence,
    indices: Sequence[int],
    *,
    method: str = "perturbation",
    target: str = "actor",
    states: Sequence[torch.Tensor | None] | None = None,
    cells: Sequence[np.ndarray] | None = None,
    gaze_model: GazeNet | None = None,
    with_emd: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Compute saliency and metrics for ``indices`` of ``sequence``.

    Args:
        states: the agent's recurrent state before every frame of the sequence; computed with
            :func:`recurrent_states` when ``None`` and the agent is recurrent.
        cells: every frame's fixated cells (:func:`fixation_indices`) for shuffled AUC;
            computed from the sequence's gaze when ``None``.
        gaze_model: predicts the human map on frames without recorded gaze.
        with_emd: also compute the earth mover's distance (the slowest metric).
        progress: called with (frames done, frames requested).

    Returns:
        One dict per frame with the keys of :data:`ROW_COLUMNS`. A frame whose map cannot be
        scored keeps its row, with ``None`` metrics and the reason in ``note``.
    """
    if states is None:
        states = recurrent_states(agent, sequence) if agent.recurrent else [None] * len(sequence)
    if cells is None:
        cells = fixation_indices([sequence.gaze(i) for i in range(len(sequence))])
    rows = []
    for done, index in enumerate(indices, start=1):
        row: dict[str, Any] = dict.fromkeys(ROW_COLUMNS)
        row.update(frame_index=int(index), frame_id=sequence.frame_id(index), note="")
        x = agent_input(agent, sequence, index)
        logits, value, _ = agent.step(x, states[index])
        row["agent_action"] = int(logits.argmax())
        row["agent_value"] = float(value)
        try:
            predicted = None
            if gaze_model is not None and sequence.gaze(index) is None:
                predicted = predict_human(gaze_model, sequence, index)
            human = human_attention(sequence.gaze(index), predicted)
            row.update(
                human_source=human.source,
                gaze_on_screen=human.on_screen,
                gaze_off_screen=human.off_screen,
            )
            maps = compute_saliency(agent, x, method, target, state=states[index])
            row["saliency_sum"] = float(np.abs(maps.input_map).sum())
            row["degenerate"] = maps.degenerate
            row.update(
                frame_metrics(
                    maps.probability,
                    human,
                    shuffled_negatives=other_fixations(cells, index),
                    with_emd=with_emd,
                    borji_seed=int(index),
                )
            )
            if human.source == "none":
                row["note"] = "no on-screen gaze for this frame"
            elif maps.degenerate:
                row["note"] = f"saliency map is {maps.degenerate}; scored as uniform"
        except (SaliencyError, GazeError) as error:
            row["note"] = str(error)
            log.warning("frame %s: %s", row["frame_id"], error)
        rows.append(row)
        if progress is not None:
            progress(done, len(indices))
    return rows
