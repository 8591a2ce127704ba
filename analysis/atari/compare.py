"""Compare an agent's saliency with human attention, frame by frame.

Every comparison happens on the 84x84 grid that covers the whole 160x210 screen
(:data:`analysis.saliency.maps.COMPARE_SHAPE`):

* the agent side is :attr:`SaliencyMaps.probability`;
* the human side is the frame's gaze: its fixation map (fixated cells) and its heat map
  (one visual degree of blur, :func:`analysis.saliency.gaze.heat_map`).

Fixation metrics (NSS, AUC-Judd, AUC-Borji, shuffled AUC) need recorded gaze; distribution
metrics (CC, SIM, KL, EMD) compare the agent's map with the human heat map, or, on emulator
frames without recorded gaze, with the gaze model's predicted map. Shuffled AUC draws its
negatives from the fixated cells of every *other* frame of the same trial.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.saliency import metrics
from analysis.saliency.gaze import GazeError, fixation_map, heat_map
from analysis.saliency.maps import COMPARE_SHAPE

FIXATION_METRICS = ("nss", "auc_judd", "auc_borji", "auc_shuffled")
DISTRIBUTION_METRICS = ("cc", "sim", "kl", "emd")
ALL_METRICS = FIXATION_METRICS + DISTRIBUTION_METRICS
METRIC_LABELS = {
    "nss": "NSS",
    "auc_judd": "AUC-Judd",
    "auc_borji": "AUC-Borji",
    "auc_shuffled": "shuffled AUC",
    "cc": "CC",
    "sim": "SIM",
    "kl": "KL(human || agent)",
    "emd": "EMD (pixels)",
}
HIGHER_IS_BETTER = {m: m not in ("kl", "emd") for m in ALL_METRICS}


@dataclass(frozen=True)
class HumanAttention:
    """The human side of one frame on the comparison grid.

    Attributes:
        fixations: ``bool`` fixated cells, or ``None`` without recorded gaze.
        heat_map: distribution to compare with (recorded gaze blurred, or the gaze model's
            prediction), or ``None``.
        on_screen, off_screen: gaze samples inside and outside the screen.
        source: ``"recorded gaze"``, ``"gaze model"`` or ``"none"``.
    """

    fixations: np.ndarray | None
    heat_map: np.ndarray | None
    on_screen: int
    off_screen: int
    source: str


def human_attention(
    gaze_xy: np.ndarray | None, predicted: np.ndarray | None = None
) -> HumanAttention:
    """Build the human side of a frame from recorded gaze, else from a gaze model prediction."""
    if gaze_xy is not None:
        counts = fixation_map(gaze_xy, COMPARE_SHAPE)
        if counts.on_screen:
            return HumanAttention(
                counts.fixation_map > 0,
                heat_map(gaze_xy, COMPARE_SHAPE),
                counts.on_screen,
                counts.off_screen,
                "recorded gaze",
            )
        off_screen = counts.off_screen
    else:
        off_screen = 0
    if predicted is not None:
        return HumanAttention(
            None, np.asarray(predicted, dtype=np.float64), 0, off_screen, "gaze model"
        )
    return HumanAttention(None, None, 0, off_screen, "none")


def fixation_indices(gaze_per_frame: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    """Return each frame's fixated cells as flat row-major indices on the comparison grid."""
    cells = []
    for gaze in gaze_per_frame:
        try:
            counts = fixation_map(gaze, COMPARE_SHAPE).fixation_map
        except GazeError:
            counts = np.zeros(COMPARE_SHAPE, dtype=np.int32)
        cells.append(np.flatnonzero(counts.ravel() > 0))
    return cells


def other_fixations(cells: Sequence[np.ndarray], index: int) -> np.ndarray:
    """Return the fixated cells of every frame except ``index``, concatenated (row-major)."""
    parts = [c for i, c in enumerate(cells) if i != index and c.size]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def frame_metrics(
    probability: np.ndarray,
    human: HumanAttention,
    *,
    shuffled_negatives: np.ndarray | None = None,
    with_emd: bool = True,
    borji_seed: int = 0,
) -> dict[str, float | None]:
    """Score one agent map against one frame's human attention.

    Returns:
        Every metric of :data:`ALL_METRICS`; ``None`` where the frame lacks what the metric
        needs (no recorded gaze, no shuffled negatives, or ``with_emd=False``).
    """
    scores: dict[str, float | None] = dict.fromkeys(ALL_METRICS)
    if human.fixations is not None:
        scores["nss"] = metrics.nss(probability, human.fixations)
        scores["auc_judd"] = metrics.auc_judd(probability, human.fixations)
        scores["auc_borji"] = metrics.auc_borji(probability, human.fixations, seed=borji_seed)
        if shuffled_negatives is not None and shuffled_negatives.size:
            scores["auc_shuffled"] = metrics.auc_shuffled(
                probability, human.fixations, shuffled_negatives
            )
    if human.heat_map is not None:
        scores["cc"] = metrics.cc(probability, human.heat_map)
        scores["sim"] = metrics.sim(probability, human.heat_map)
        scores["kl"] = metrics.kl_divergence(human.heat_map, probability)
        if with_emd:
            scores["emd"] = metrics.emd(human.heat_map, probability)
    return scores
