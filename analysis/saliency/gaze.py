"""Human gaze samples to fixation maps and heat maps at any output size.

Gaze samples ``gaze_xy`` are ``[N, 2]`` arrays of screen pixels on the 160x210 Atari screen
(x right, y down, origin at the top-left corner of the top-left pixel), as Atari-HEAD stores
them. A sample maps to the output cell

    row = floor(y * height / 210),  col = floor(x * width / 160)

the mapping of Atari-HEAD's own preprocessing (Zhang et al. 2020), so screen corner (0, 0)
lands in cell (0, 0) and (159.99, 209.99) in cell (height - 1, width - 1). Samples with
``x`` outside ``[0, 160)`` or ``y`` outside ``[0, 210)`` are off the screen and dropped; the
functions report how many.

The heat map blurs the fixation counts by a Gaussian of one visual degree, which Atari-HEAD
measured as 44.58 px horizontally and 28.50 px vertically on the 160x210 screen; the sigmas are
scaled with the output size, ``sigma_rows = 28.50 * height / 210`` and
``sigma_cols = 44.58 * width / 160``, and the map is normalised to sum 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

SCREEN_WIDTH = 160  # Atari 2600 screen columns (x)
SCREEN_HEIGHT = 210  # Atari 2600 screen rows (y)
SIGMA_X_SCREEN = 44.58  # one visual degree in screen pixels, horizontal (Atari-HEAD)
SIGMA_Y_SCREEN = 28.50  # one visual degree in screen pixels, vertical (Atari-HEAD)


class GazeError(ValueError):
    """Raised for gaze arrays of the wrong shape, with NaN, or with no sample on the screen."""


@dataclass(frozen=True)
class FixationResult:
    """A fixation map with the count of samples dropped for falling off the screen."""

    fixation_map: np.ndarray
    on_screen: int
    off_screen: int


def _as_gaze(gaze_xy: np.ndarray | None) -> np.ndarray:
    if gaze_xy is None:
        return np.zeros((0, 2))
    gaze = np.asarray(gaze_xy, dtype=np.float64)
    if gaze.size == 0:
        return np.zeros((0, 2))
    if gaze.ndim != 2 or gaze.shape[1] != 2:
        raise GazeError(f"gaze_xy must have shape [N, 2] (x, y per sample), got {gaze.shape}")
    if np.isnan(gaze).any():
        raise GazeError(f"gaze_xy has {int(np.isnan(gaze).any(axis=1).sum())} samples with NaN")
    return gaze


def on_screen_mask(gaze_xy: np.ndarray | None) -> np.ndarray:
    """Return a ``bool`` per sample: inside ``[0, 160) x [0, 210)`` screen pixels."""
    gaze = _as_gaze(gaze_xy)
    x, y = gaze[:, 0], gaze[:, 1]
    return (x >= 0) & (x < SCREEN_WIDTH) & (y >= 0) & (y < SCREEN_HEIGHT)


def screen_to_cells(
    gaze_xy: np.ndarray | None, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Map on-screen samples to integer ``(rows, cols)`` of a ``shape`` grid; drop the rest.

    Raises:
        GazeError: ``gaze_xy`` is not ``[N, 2]`` or has NaN.
    """
    height, width = shape
    gaze = _as_gaze(gaze_xy)
    gaze = gaze[on_screen_mask(gaze)]
    rows = np.floor(gaze[:, 1] * height / SCREEN_HEIGHT).astype(np.int64)
    cols = np.floor(gaze[:, 0] * width / SCREEN_WIDTH).astype(np.int64)
    # Floating-point rounding can put y just below 210 into row `height`; clamp it back.
    return np.clip(rows, 0, height - 1), np.clip(cols, 0, width - 1)


def fixation_map(gaze_xy: np.ndarray | None, shape: tuple[int, int] = (84, 84)) -> FixationResult:
    """Count gaze samples per cell of a ``shape`` grid.

    Returns:
        A :class:`FixationResult` whose ``fixation_map`` is ``int32`` counts; a frame with no
        on-screen sample gives an all-zero map.

    Raises:
        GazeError: ``gaze_xy`` is not ``[N, 2]`` or has NaN, or ``shape`` is not positive.
    """
    if len(shape) != 2 or min(shape) < 1:
        raise GazeError(f"shape must be (height, width) with positive sides, got {shape}")
    gaze = _as_gaze(gaze_xy)
    rows, cols = screen_to_cells(gaze, shape)
    counts = np.zeros(shape, dtype=np.int32)
    np.add.at(counts, (rows, cols), 1)
    return FixationResult(counts, on_screen=int(rows.size), off_screen=int(len(gaze) - rows.size))


def heat_map_sigmas(shape: tuple[int, int]) -> tuple[float, float]:
    """Return ``(sigma_rows, sigma_cols)`` of one visual degree on a ``shape`` grid."""
    height, width = shape
    return SIGMA_Y_SCREEN * height / SCREEN_HEIGHT, SIGMA_X_SCREEN * width / SCREEN_WIDTH


def heat_map(gaze_xy: np.ndarray | None, shape: tuple[int, int] = (84, 84)) -> np.ndarray:
    """Blur the fixation counts by one visual degree and normalise to a distribution.

    The blur is ``scipy.ndimage.gaussian_filter`` with the sigmas of :func:`heat_map_sigmas`,
    zero padding outside the screen (``mode="constant"``) and a kernel truncated at 4 sigma.

    Returns:
        ``float64`` map of ``shape`` that sums to 1.

    Raises:
        GazeError: no sample lies on the screen (the heat map would be undefined), or the
            input is malformed.
    """
    result = fixation_map(gaze_xy, shape)
    if result.on_screen == 0:
        raise GazeError(
            f"no gaze sample lies on the 160x210 screen ({result.off_screen} off screen); this "
            "frame has no heat map, so skip it"
        )
    blurred = ndimage.gaussian_filter(
        result.fixation_map.astype(np.float64), sigma=heat_map_sigmas(shape), mode="constant"
    )
    return blurred / blurred.sum()
