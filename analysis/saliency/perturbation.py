"""Perturbation saliency of Greydanus et al. 2018, "Visualizing and Understanding Atari Agents".

For a mask ``M`` centred on pixel ``(i, j)`` and the input ``I`` (every stacked frame):

    M(i, j)   = G_r * disc_1(i, j), scaled to a maximum of 1   # radius-1 disc blurred, sigma r
    I'(i, j)  = I * (1 - M) + G_3(I) * M                        # blur the region (sigma 3)
    S(i, j)   = 1/2 * || f(I) - f(I'(i, j)) ||^2

where ``f`` is the policy logits (``target="actor"``) or the state value (``"critic"``), and
``G_s`` a Gaussian blur of standard deviation ``s`` pixels (``scipy.ndimage.gaussian_filter``,
reflected borders, truncated at 4 sigma). Scores are taken on a stride-5 grid of centres and
interpolated bilinearly to every input pixel; Greydanus's defaults are ``r = 5``, stride 5.

:func:`perturbation_saliency` builds every perturbed input of a frame at once
(``I * (1 - M_k) + G_3(I) * M_k`` by broadcasting) and runs them through the network in batches.
:func:`perturbation_saliency_reference` builds and scores one mask at a time, following the
description above step by step; tests hold the two equal within 1e-5.

The grid interpolation aligns each score with its centre pixel and holds the edge values
beyond the last centre. Greydanus's code resized the score grid with ``scipy.misc.imresize``,
which shifts it by up to half a stride; this module does not reproduce that shift.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np
import torch
from scipy import ndimage

ForwardFn = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
DEFAULT_RADIUS = 5.0  # sigma of the blur that softens the radius-1 disc (Greydanus r)
DEFAULT_STRIDE = 5  # pixels between mask centres (Greydanus d)
BLUR_SIGMA = 3.0  # sigma of the blurred copy that the mask reveals
DEFAULT_BATCH = 64  # perturbed inputs per forward pass


def soft_mask(center: tuple[int, int], shape: tuple[int, int], radius: float) -> np.ndarray:
    """Return Greydanus's mask: a radius-1 disc at ``center`` blurred by ``radius``, max 1."""
    rows, cols = np.ogrid[: shape[0], : shape[1]]
    disc = ((rows - center[0]) ** 2 + (cols - center[1]) ** 2 <= 1).astype(np.float64)
    blurred = ndimage.gaussian_filter(disc, sigma=radius)
    return blurred / blurred.max()


def grid_centers(shape: tuple[int, int], stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the mask centre rows and columns: ``0, stride, 2*stride, ...`` below each side."""
    if stride < 1:
        raise ValueError(f"stride must be at least 1 pixel, got {stride}")
    return np.arange(0, shape[0], stride), np.arange(0, shape[1], stride)


@lru_cache(maxsize=8)
def _mask_stack(shape: tuple[int, int], stride: int, radius: float) -> torch.Tensor:
    centre_rows, centre_cols = grid_centers(shape, stride)
    masks = [soft_mask((int(r), int(c)), shape, radius) for r in centre_rows for c in centre_cols]
    return torch.from_numpy(np.stack(masks))  # [K, H, W] float64


def blur_input(x: torch.Tensor, sigma: float = BLUR_SIGMA) -> torch.Tensor:
    """Blur every channel of a ``[C, H, W]`` input by a Gaussian of ``sigma`` pixels."""
    array = x.detach().cpu().double().numpy()
    blurred = np.stack([ndimage.gaussian_filter(channel, sigma=sigma) for channel in array])
    return torch.from_numpy(blurred).to(x.dtype)


def interpolate_grid(scores: np.ndarray, shape: tuple[int, int], stride: int) -> np.ndarray:
    """Interpolate scores at grid centres bilinearly to every pixel of ``shape``.

    Centre ``(a, b)`` of the grid sits at pixel ``(a * stride, b * stride)``; pixels past the
    last centre take the value of the nearest edge centre.
    """
    centre_rows, centre_cols = grid_centers(shape, stride)
    rows = np.arange(shape[0])
    cols = np.arange(shape[1])
    # Interpolate along columns for every grid row, then along rows for every pixel column.
    along_cols = np.stack([np.interp(cols, centre_cols, line) for line in scores])  # [Kr, W]
    return np.stack([np.interp(rows, centre_rows, along_cols[:, c]) for c in cols], axis=1)


def _output(forward: ForwardFn, x: torch.Tensor, target: str) -> torch.Tensor:
    logits, value = forward(x)
    if target == "actor":
        return logits  # [B, A]
    if target == "critic":
        return value.reshape(-1, 1)  # [B, 1]
    raise ValueError(f"target must be 'actor' or 'critic', got {target!r}")


@torch.no_grad()
def perturbation_saliency(
    forward: ForwardFn,
    x: torch.Tensor,
    *,
    target: str = "actor",
    radius: float = DEFAULT_RADIUS,
    stride: int = DEFAULT_STRIDE,
    batch_size: int = DEFAULT_BATCH,
) -> np.ndarray:
    """Compute the Greydanus saliency of one input, all masks batched.

    Args:
        forward: maps ``[B, C, H, W]`` inputs to ``(logits [B, A], value [B])``.
        x: one input ``[C, H, W]``, as the network reads it.
        target: ``"actor"`` (policy logits) or ``"critic"`` (value).
        radius, stride: mask softness and grid spacing in input pixels.
        batch_size: perturbed inputs per forward pass.

    Returns:
        ``[H, W]`` saliency, ``float64``, non-negative.

    Raises:
        ValueError: ``x`` is not ``[C, H, W]``, or ``target``/``stride`` is invalid.
    """
    if x.ndim != 3:
        raise ValueError(f"x must be one input [C, H, W], got shape {tuple(x.shape)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    shape = (int(x.shape[1]), int(x.shape[2]))
    # The perturbed inputs are mixed in float64 and cast once, so they equal the reference's
    # inputs bit for bit whatever dtype the network runs in.
    masks = _mask_stack(shape, stride, float(radius)).double()  # [K, H, W]
    image = x.detach().double()
    delta = blur_input(image) - image  # [C, H, W], what a full mask adds
    reference = _output(forward, x[None], target)  # [1, A]

    scores = []
    for start in range(0, masks.shape[0], batch_size):
        chunk = masks[start : start + batch_size, None]  # [k, 1, H, W]
        perturbed = (image[None] * (1 - chunk) + (image + delta)[None] * chunk).to(x.dtype)
        out = _output(forward, perturbed, target)
        scores.append(0.5 * (reference - out).pow(2).sum(dim=1))  # [k]
    centre_rows, centre_cols = grid_centers(shape, stride)
    grid = torch.cat(scores).double().numpy().reshape(len(centre_rows), len(centre_cols))
    return interpolate_grid(grid, shape, stride)


@torch.no_grad()
def perturbation_saliency_reference(
    forward: ForwardFn,
    x: torch.Tensor,
    *,
    target: str = "actor",
    radius: float = DEFAULT_RADIUS,
    stride: int = DEFAULT_STRIDE,
) -> np.ndarray:
    """Compute the same map as :func:`perturbation_saliency`, one mask at a time.

    Each mask is built, each channel blurred and mixed, and the network run on one input, as
    in Greydanus's ``score_frame``. Slow; kept as the reference for tests and benchmarks.
    """
    if x.ndim != 3:
        raise ValueError(f"x must be one input [C, H, W], got shape {tuple(x.shape)}")
    shape = (int(x.shape[1]), int(x.shape[2]))
    image = x.detach().cpu().double().numpy()
    blurred = np.stack([ndimage.gaussian_filter(channel, sigma=BLUR_SIGMA) for channel in image])
    reference = _output(forward, x[None], target)
    centre_rows, centre_cols = grid_centers(shape, stride)
    grid = np.zeros((len(centre_rows), len(centre_cols)))
    for a, row in enumerate(centre_rows):
        for b, col in enumerate(centre_cols):
            mask = soft_mask((int(row), int(col)), shape, radius)
            perturbed = image * (1 - mask) + blurred * mask
            out = _output(forward, torch.from_numpy(perturbed).to(x.dtype)[None], target)
            grid[a, b] = 0.5 * float((reference - out).pow(2).sum())
    return interpolate_grid(grid, shape, stride)
