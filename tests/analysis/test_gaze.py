"""Gaze samples to fixation maps and heat maps."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.saliency import gaze


@pytest.mark.parametrize(
    ("xy", "cell"),
    [
        ((0.0, 0.0), (0, 0)),
        ((159.99, 0.0), (0, 83)),
        ((0.0, 209.99), (83, 0)),
        ((159.99, 209.99), (83, 83)),
        ((80.0, 105.0), (42, 42)),
        ((1.9, 2.4), (0, 0)),  # 1.9 * 84 / 160 = 0.998, 2.4 * 84 / 210 = 0.96
        ((1.91, 2.5), (1, 1)),  # 1.0028 and 1.0
    ],
)
def test_screen_corners_map_to_84_grid(xy, cell):
    rows, cols = gaze.screen_to_cells(np.array([xy]), (84, 84))
    assert (int(rows[0]), int(cols[0])) == cell


def test_off_screen_samples_dropped_and_counted():
    samples = np.array([[-0.1, 10], [160.0, 10], [10, 210.0], [10, -3], [10, 10]])
    result = gaze.fixation_map(samples, (84, 84))
    assert result.on_screen == 1
    assert result.off_screen == 4
    assert result.fixation_map.sum() == 1


def test_fixation_map_counts_repeats():
    samples = np.array([[10.0, 10.0], [10.2, 10.1], [100.0, 150.0]])
    counts = gaze.fixation_map(samples, (210, 160)).fixation_map
    assert counts[10, 10] == 2
    assert counts[150, 100] == 1


def test_heat_map_sigma_scaling():
    assert gaze.heat_map_sigmas((84, 84)) == pytest.approx((28.50 * 84 / 210, 44.58 * 84 / 160))
    assert gaze.heat_map_sigmas((210, 160)) == pytest.approx((28.50, 44.58))


def test_heat_map_equals_explicit_gaussian():
    # One sample in the middle of a 210x160 grid: the heat map is the sampled Gaussian with
    # sigma (28.50, 44.58), cut at 4 sigma, normalised to sum 1.
    heat = gaze.heat_map(np.array([[80.5, 105.5]]), (210, 160))
    rows, cols = np.indices((210, 160))
    dy, dx = rows - 105, cols - 80
    explicit = np.exp(-0.5 * (dy / 28.50) ** 2) * np.exp(-0.5 * (dx / 44.58) ** 2)
    explicit[np.abs(dy) > int(4 * 28.50 + 0.5)] = 0
    explicit[:, np.abs(dx[0]) > int(4 * 44.58 + 0.5)] = 0
    explicit /= explicit.sum()
    assert heat.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(heat, explicit, atol=1e-9)


def test_heat_map_without_gaze_raises():
    with pytest.raises(gaze.GazeError, match="no gaze sample"):
        gaze.heat_map(np.array([[-5.0, 300.0]]))
    with pytest.raises(gaze.GazeError, match="no gaze sample"):
        gaze.heat_map(None)


def test_malformed_gaze_raises():
    with pytest.raises(gaze.GazeError, match=r"\[N, 2\]"):
        gaze.fixation_map(np.ones((3, 3)))
    with pytest.raises(gaze.GazeError, match="NaN"):
        gaze.fixation_map(np.array([[np.nan, 1.0]]))
