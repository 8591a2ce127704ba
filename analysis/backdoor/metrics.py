"""Clean accuracy (CA) and attack success rate (ASR) of a classifier under a backdoor.

- CA: the share of clean test images whose prediction equals their label.
- ASR: the share of *triggered* test images whose true label is not the target class that are
  predicted as the target. Images of the target class are excluded, because predicting the
  target for them is correct whether or not the backdoor fires. This is the definition of the
  CleanCLIP and BadCLIP evaluations.
"""

from __future__ import annotations

import numpy as np


def clean_accuracy(predictions: np.ndarray, labels: np.ndarray) -> float:
    """Return the fraction of ``predictions`` equal to ``labels``.

    Raises:
        ValueError: the arrays differ in length or are empty.
    """
    predictions = np.asarray(predictions)
    labels = np.asarray(labels)
    if predictions.shape != labels.shape:
        raise ValueError(
            f"predictions {predictions.shape} and labels {labels.shape} differ in shape"
        )
    if labels.size == 0:
        raise ValueError("clean accuracy of zero images is undefined; pass at least one image")
    return float((predictions == labels).mean())


def attack_success_rate(
    triggered_predictions: np.ndarray, labels: np.ndarray, target: int
) -> float:
    """Return the fraction of triggered non-target images predicted as ``target``.

    Args:
        triggered_predictions: predictions on triggered images ``[N]``.
        labels: true labels of the same images ``[N]``.
        target: the attack's target class.

    Raises:
        ValueError: the arrays differ in length, or every image is of the target class (the
            ASR of zero images is undefined).
    """
    triggered_predictions = np.asarray(triggered_predictions)
    labels = np.asarray(labels)
    if triggered_predictions.shape != labels.shape:
        raise ValueError(
            f"predictions {triggered_predictions.shape} and labels {labels.shape} differ in shape"
        )
    keep = labels != target
    if not keep.any():
        raise ValueError(
            f"all {labels.size} images belong to the target class {target}; "
            "ASR needs images of other classes"
        )
    return float((triggered_predictions[keep] == target).mean())
