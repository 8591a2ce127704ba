"""Saliency maps at the agent's input size, the 160x210 screen, and 84x84 for comparison.

An agent sees a crop and resize of the 210x160 screen. :class:`InputView` records which
screen rows and columns its input covers, so a map on the input grid can be placed back on
the screen: bilinear resize into the covered region and zero outside it. The comparison grid
is the whole screen area-resized to 84x84, the grid of the human heat maps, so agents with
different inputs are compared on the same pixels.

The probability map is the comparison map made non-negative and normalised to sum 1
(Greydanus et al. 2018 subtract the minimum; signed attributions use the absolute value, so a
strongly negative pixel counts as attended). A map that is all zero (or constant) carries no
information and becomes uniform, with :attr:`SaliencyMaps.degenerate` saying so.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SCREEN_SHAPE = (210, 160)  # rows, columns of the Atari screen
COMPARE_SHAPE = (84, 84)  # grid of the human heat maps and of every comparison


class SaliencyError(ValueError):
    """Raised for a saliency map that cannot be used: wrong shape, NaN or infinite values."""


@dataclass(frozen=True)
class InputView:
    """Where an agent's ``height`` x ``width`` input sits on the 210x160 screen.

    Attributes:
        height, width: input grid size.
        top, bottom: first and one-past-last screen row the input covers.
        left, right: first and one-past-last screen column.
    """

    height: int
    width: int
    top: int = 0
    bottom: int = SCREEN_SHAPE[0]
    left: int = 0
    right: int = SCREEN_SHAPE[1]


FULL_SCREEN_84 = InputView(84, 84)  # the 84x84 resize of the whole screen (data.atari)


def resize_map(values: np.ndarray, shape: tuple[int, int], *, area: bool = False) -> np.ndarray:
    """Resize a 2-D map to ``shape`` (rows, cols): bilinear, or area averaging to shrink."""
    rows, cols = shape
    interpolation = cv2.INTER_AREA if area else cv2.INTER_LINEAR
    return cv2.resize(
        np.asarray(values, dtype=np.float64), (cols, rows), interpolation=interpolation
    )


def check_map(values: np.ndarray, name: str = "saliency_map") -> np.ndarray:
    """Return ``values`` as ``float64`` 2-D, or raise :class:`SaliencyError` naming the problem."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2:
        raise SaliencyError(f"{name} must be 2-D, got shape {array.shape}")
    bad = int(np.count_nonzero(~np.isfinite(array)))
    if bad:
        raise SaliencyError(
            f"{name} has {bad} NaN or infinite values of {array.size}; the model output or the "
            "attribution diverged, so try another method or checkpoint"
        )
    return array


def input_to_screen(values: np.ndarray, view: InputView) -> np.ndarray:
    """Place a map on the agent's input grid onto the 210x160 screen (zero outside the view).

    Raises:
        SaliencyError: the map's shape differs from the view's input size, or has NaN.
    """
    array = check_map(values)
    if array.shape != (view.height, view.width):
        raise SaliencyError(
            f"saliency map has shape {array.shape} but the agent input is "
            f"{view.height}x{view.width}"
        )
    screen = np.zeros(SCREEN_SHAPE)
    screen[view.top : view.bottom, view.left : view.right] = resize_map(
        array, (view.bottom - view.top, view.right - view.left)
    )
    return screen


def to_probability(values: np.ndarray, *, signed: bool = False) -> tuple[np.ndarray, str | None]:
    """Normalise a map to a distribution over its pixels.

    ``signed`` maps use ``|values|``; others subtract their minimum. Returns the distribution
    and ``None``, or the uniform distribution and the reason (``"all zero"``, ``"constant"``).
    """
    array = check_map(values)
    positive = np.abs(array) if signed else array - array.min()
    total = positive.sum()
    if total > 0 and np.isfinite(total):
        return positive / total, None
    reason = "all zero" if not np.any(array) else "constant"
    return np.full(array.shape, 1.0 / array.size), reason


@dataclass(frozen=True)
class SaliencyMaps:
    """One saliency result at every size the analyses use.

    Attributes:
        input_map: the method's map on the agent's input grid (signed for gradients).
        screen: ``input_map`` placed on the 210x160 screen.
        compare: ``screen`` area-resized to 84x84, the grid of the human heat maps.
        probability: ``compare`` as a distribution (sums to 1).
        signed: whether the method's values can be negative.
        degenerate: ``None``, or why ``probability`` is uniform (``"all zero"``, ``"constant"``).
    """

    input_map: np.ndarray
    screen: np.ndarray
    compare: np.ndarray
    probability: np.ndarray
    signed: bool
    degenerate: str | None


def build_maps(values: np.ndarray, view: InputView, *, signed: bool = False) -> SaliencyMaps:
    """Return :class:`SaliencyMaps` for a map on the agent's input grid.

    Raises:
        SaliencyError: the map has NaN or infinite values, or the wrong shape.
    """
    input_map = check_map(values)
    screen = input_to_screen(input_map, view)
    compare = resize_map(screen, COMPARE_SHAPE, area=True)
    probability, degenerate = to_probability(compare, signed=signed)
    if degenerate is None and not np.any(input_map):
        degenerate = "all zero"
    return SaliencyMaps(input_map, screen, compare, probability, signed, degenerate)
