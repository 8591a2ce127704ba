"""Saliency maps placed on the screen, shrunk to the comparison grid and normalised."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.saliency.maps import (
    FULL_SCREEN_84,
    InputView,
    SaliencyError,
    build_maps,
    input_to_screen,
)


def test_full_screen_view_round_trip():
    values = np.zeros((84, 84))
    values[40:44, 40:44] = 1.0
    maps = build_maps(values, FULL_SCREEN_84)
    assert maps.screen.shape == (210, 160)
    assert maps.probability.sum() == pytest.approx(1.0)
    peak = np.unravel_index(maps.compare.argmax(), maps.compare.shape)
    assert abs(peak[0] - 41.5) <= 2 and abs(peak[1] - 41.5) <= 2


def test_cropped_view_leaves_rows_outside_zero():
    view = InputView(80, 80, top=35, bottom=195)  # baby-a3c's crop
    screen = input_to_screen(np.ones((80, 80)), view)
    assert screen[:35].sum() == 0
    assert screen[195:].sum() == 0
    assert screen[35:195].min() == pytest.approx(1.0)


def test_all_zero_map_is_uniform_and_flagged():
    maps = build_maps(np.zeros((84, 84)), FULL_SCREEN_84)
    assert maps.degenerate == "all zero"
    np.testing.assert_allclose(maps.probability, 1 / 84**2)


def test_signed_map_uses_absolute_value():
    values = np.zeros((84, 84))
    values[10, 10] = -5.0
    values[70, 70] = 5.0
    maps = build_maps(values, FULL_SCREEN_84, signed=True)
    assert maps.probability[10, 10] == pytest.approx(maps.probability[70, 70], rel=0.05)


def test_nan_map_raises():
    values = np.ones((84, 84))
    values[3, 3] = np.nan
    with pytest.raises(SaliencyError, match="NaN"):
        build_maps(values, FULL_SCREEN_84)


def test_wrong_shape_raises():
    with pytest.raises(SaliencyError, match="agent input"):
        input_to_screen(np.ones((80, 80)), FULL_SCREEN_84)
