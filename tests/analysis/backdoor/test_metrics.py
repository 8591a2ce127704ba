"""CA and ASR, with a worked example of excluding target-class images."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.backdoor.metrics import attack_success_rate, clean_accuracy


def test_clean_accuracy_worked_example():
    assert clean_accuracy(np.array([0, 1, 2, 2]), np.array([0, 1, 1, 2])) == 0.75


def test_asr_excludes_target_class():
    # Six triggered images, target class 8. Two are bags (class 8) and predicted "bag": they
    # would count as successes if included. Of the four others, one is predicted "bag".
    labels = np.array([8, 8, 0, 1, 2, 3])
    triggered_predictions = np.array([8, 8, 8, 1, 2, 3])
    assert attack_success_rate(triggered_predictions, labels, target=8) == 0.25
    # Counting every image would give 3/6: the definition behind inflated ASR reports.
    assert (triggered_predictions == 8).mean() == 0.5


def test_asr_ignores_target_class_predictions_entirely():
    labels = np.array([8, 0, 0])
    assert attack_success_rate(np.array([0, 8, 8]), labels, target=8) == 1.0
    assert attack_success_rate(np.array([8, 0, 0]), labels, target=8) == 0.0


def test_asr_all_target_class_undefined():
    with pytest.raises(ValueError, match="all 2 images belong to the target class 8"):
        attack_success_rate(np.array([8, 8]), np.array([8, 8]), target=8)


def test_shape_mismatch_rejected():
    with pytest.raises(ValueError, match="differ in shape"):
        clean_accuracy(np.array([0, 1]), np.array([0]))
    with pytest.raises(ValueError, match="differ in shape"):
        attack_success_rate(np.array([0, 1]), np.array([0]), 1)
    with pytest.raises(ValueError, match="zero images"):
        clean_accuracy(np.array([]), np.array([]))
