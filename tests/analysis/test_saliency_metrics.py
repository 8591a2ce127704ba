"""Saliency metrics against pysaliency, hand-computed values and the documented edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis.saliency import metrics

# pysaliency 0.2.22 calls np.trapz, which NumPy 2.4 removed; np.trapezoid is the same rule.
if not hasattr(np, "trapz"):
    np.trapz = np.trapezoid

pysaliency_metrics = pytest.importorskip("pysaliency.metrics")
pysaliency_roc = pytest.importorskip("pysaliency.roc")


@pytest.fixture(scope="module")
def maps():
    rng = np.random.default_rng(7)
    saliency = rng.random((84, 84))
    human = rng.random((84, 84)) ** 3
    fixations = np.zeros((84, 84), dtype=bool)
    fixations[rng.integers(0, 84, 30), rng.integers(0, 84, 30)] = True
    return saliency, human, fixations


def test_nss_matches_pysaliency(maps):
    saliency, _, fixations = maps
    rows, cols = np.nonzero(fixations)
    expected = pysaliency_metrics.NSS(saliency, cols, rows).mean()
    assert metrics.nss(saliency, fixations) == pytest.approx(expected, rel=1e-12)


def test_nss_hand_example():
    saliency = np.array([[0.0, 1.0], [2.0, 3.0]])
    fixations = np.array([[False, False], [False, True]])
    # mean 1.5, population std sqrt(1.25): (3 - 1.5) / sqrt(1.25)
    assert metrics.nss(saliency, fixations) == pytest.approx(1.5 / np.sqrt(1.25))


def test_cc_matches_pysaliency(maps):
    saliency, human, _ = maps
    assert metrics.cc(saliency, human) == pytest.approx(pysaliency_metrics.CC(saliency, human))


def test_kl_matches_mit_kldiv(maps):
    saliency, human, _ = maps
    expected = pysaliency_metrics.MIT_KLDiv(saliency, human)
    assert metrics.kl_divergence(human, saliency) == pytest.approx(expected, rel=1e-10)


def test_kl_hand_example():
    human = np.array([[0.5, 0.5], [0.0, 0.0]])
    model = np.array([[0.25, 0.25], [0.25, 0.25]])
    assert metrics.kl_divergence(human, model) == pytest.approx(np.log(2), rel=1e-9)
    assert metrics.kl_divergence(human, human) == pytest.approx(0.0, abs=1e-12)


def test_sim_matches_pysaliency_on_min_max_maps(maps):
    saliency, human, _ = maps

    def min_max(values):
        return (values - values.min()) / (values.max() - values.min())

    expected = pysaliency_metrics.SIM(min_max(saliency), min_max(human))
    assert metrics.sim(saliency, human) == pytest.approx(expected, rel=1e-12)


def test_sim_uses_min_max_normalisation():
    # pysaliency keeps a positive offset; the MIT convention removes it first.
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    b = np.array([[0.0, 1.0], [2.0, 3.0]])
    assert metrics.sim(a, b) == pytest.approx(1.0)


def test_auc_judd_matches_pysaliency_roc(maps):
    saliency, _, fixations = maps
    expected, _, _ = pysaliency_roc.general_roc(saliency[fixations], saliency[~fixations])
    assert metrics.auc_judd(saliency, fixations) == pytest.approx(expected, rel=1e-12)


def test_auc_judd_counts_ties_half():
    saliency = np.round(np.random.default_rng(1).random((20, 20)) * 3)  # many ties
    fixations = np.zeros((20, 20), dtype=bool)
    fixations[::4, ::3] = True
    expected, _, _ = pysaliency_roc.general_roc(saliency[fixations], saliency[~fixations])
    u = stats.mannwhitneyu(saliency[fixations], saliency[~fixations]).statistic
    assert metrics.auc_judd(saliency, fixations) == pytest.approx(expected, rel=1e-12)
    assert metrics.auc_judd(saliency, fixations) == pytest.approx(
        u / fixations.sum() / (~fixations).sum()
    )


def test_auc_shuffled_matches_pysaliency_roc(maps):
    saliency, _, fixations = maps
    others = np.random.default_rng(3).integers(0, saliency.size, 500)
    expected, _, _ = pysaliency_roc.general_roc(saliency[fixations], saliency.ravel()[others])
    assert metrics.auc_shuffled(saliency, fixations, others) == pytest.approx(expected, rel=1e-12)


def test_auc_shuffled_accepts_fixation_map(maps):
    saliency, _, fixations = maps
    other = np.zeros_like(fixations)
    other[10:14, 20:30] = True
    by_map = metrics.auc_shuffled(saliency, fixations, other)
    by_index = metrics.auc_shuffled(saliency, fixations, np.flatnonzero(other.ravel()))
    assert by_map == pytest.approx(by_index)


def test_auc_shuffled_row_major_indices():
    saliency = np.zeros((3, 4))
    saliency[1, 2] = 1.0  # flat row-major index 1 * 4 + 2 = 6
    fixations = np.zeros((3, 4), dtype=bool)
    fixations[2, 3] = True
    assert metrics.auc_shuffled(saliency, fixations, np.array([6])) == 0.0
    assert metrics.auc_shuffled(saliency, fixations, np.array([0])) == 0.5


def test_auc_borji_converges_to_uniform_auc(maps):
    saliency, _, fixations = maps
    expected, _, _ = pysaliency_roc.general_roc(saliency[fixations], saliency.ravel())
    assert metrics.auc_borji(saliency, fixations, splits=3000, seed=0) == pytest.approx(
        expected, abs=0.01
    )


def test_auc_borji_reproducible_by_seed(maps):
    saliency, _, fixations = maps
    first = metrics.auc_borji(saliency, fixations, splits=5, seed=11)
    again = metrics.auc_borji(saliency, fixations, splits=5, seed=11)
    other = metrics.auc_borji(saliency, fixations, splits=5, seed=12)
    assert first == again
    assert first != other


def test_emd_moves_point_mass():
    a = np.zeros((10, 10))
    b = np.zeros((10, 10))
    a[2, 3] = 1.0
    b[6, 6] = 1.0
    assert metrics.emd(a, b, max_side=10) == pytest.approx(5.0)


def test_emd_one_row_matches_scipy_wasserstein():
    rng = np.random.default_rng(5)
    a = rng.random((1, 12))
    b = rng.random((1, 12))
    expected = stats.wasserstein_distance(np.arange(12), np.arange(12), a[0], b[0])
    assert metrics.emd(a, b, max_side=12) == pytest.approx(expected, rel=1e-6)


def test_emd_identical_maps_zero(maps):
    saliency, _, _ = maps
    assert metrics.emd(saliency, saliency) == pytest.approx(0.0, abs=1e-9)


def test_constant_map_values():
    flat = np.full((8, 8), 0.3)
    fixations = np.zeros((8, 8), dtype=bool)
    fixations[2, 2] = True
    other = np.random.default_rng(0).random((8, 8))
    assert metrics.nss(flat, fixations) == 0.0
    assert metrics.auc_judd(flat, fixations) == 0.5
    assert metrics.auc_borji(flat, fixations) == 0.5
    assert metrics.auc_shuffled(flat, fixations, np.array([1, 2, 3])) == 0.5
    assert metrics.cc(flat, other) == 0.0
    uniform = np.full((8, 8), 1 / 64)
    assert metrics.sim(flat, other) == pytest.approx(metrics.sim(uniform, other))
    assert metrics.kl_divergence(other, flat) == pytest.approx(
        metrics.kl_divergence(other, uniform)
    )


def test_all_zero_map_is_uniform():
    zero = np.zeros((6, 6))
    human = np.random.default_rng(2).random((6, 6))
    assert np.isfinite(metrics.kl_divergence(human, zero))
    assert metrics.to_distribution(zero).sum() == pytest.approx(1.0)


@pytest.mark.parametrize("metric", [metrics.nss, metrics.auc_judd, metrics.auc_borji])
def test_empty_fixations_raise(metric):
    with pytest.raises(metrics.EmptyFixationsError, match="no fixated pixel"):
        metric(np.ones((4, 4)), np.zeros((4, 4), dtype=bool))


def test_shuffled_without_negatives_raises():
    fixations = np.eye(4, dtype=bool)
    with pytest.raises(metrics.EmptyFixationsError, match="no negatives"):
        metrics.auc_shuffled(np.ones((4, 4)), fixations, np.zeros(0, dtype=np.int64))


@pytest.mark.parametrize(
    "call",
    [
        lambda bad: metrics.nss(bad, np.eye(4, dtype=bool)),
        lambda bad: metrics.cc(bad, np.ones((4, 4))),
        lambda bad: metrics.kl_divergence(np.ones((4, 4)), bad),
        lambda bad: metrics.sim(bad, np.ones((4, 4))),
        lambda bad: metrics.emd(bad, np.ones((4, 4))),
    ],
)
def test_nan_maps_raise(call):
    bad = np.ones((4, 4))
    bad[1, 1] = np.nan
    with pytest.raises(metrics.MetricInputError, match="NaN"):
        call(bad)


def test_shape_mismatch_raises():
    with pytest.raises(metrics.MetricInputError, match="shape"):
        metrics.cc(np.ones((4, 4)), np.ones((4, 5)))


def test_binarize_rules():
    image = np.array([[0, 127], [128, 255]], dtype=np.uint8)
    counts = np.array([[0, 1], [2, 0]], dtype=np.int32)
    assert metrics.binarize_fixations(image).tolist() == [[False, False], [True, True]]
    assert metrics.binarize_fixations(counts).tolist() == [[False, True], [True, False]]
    assert metrics.binarize_fixations(counts > 1).tolist() == [[False, False], [True, False]]


def test_out_of_range_shuffled_indices_raise():
    with pytest.raises(metrics.MetricInputError, match="outside"):
        metrics.auc_shuffled(np.ones((2, 2)), np.eye(2, dtype=bool), np.array([4]))
