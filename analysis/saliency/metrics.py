"""Saliency metrics: how well a map predicts human fixations or another map.

Every function takes numpy arrays and returns a float. Conventions follow the MIT/Tübingen
saliency benchmark (Bylinskii et al., "What do different evaluation metrics tell us about
saliency models?", TPAMI 2019) and are named in each docstring. Shared rules:

* Maps are 2-D arrays of the same shape; a saliency map is any real array (higher = more
  salient). NaN or infinite entries raise :class:`MetricInputError`.
* A fixation map marks fixated pixels. It is binarised by :func:`binarize_fixations`:
  ``bool`` arrays are used as they are, ``uint8`` arrays count as fixated where ``> 127``
  (a fixation image stores 255 at fixations, so anti-aliased or compression noise below the
  mid level is not a fixation), every other numeric array where ``> 0`` (fixation counts).
  Each fixated pixel counts once, however many gaze samples fell on it.
* A metric that needs fixations raises :class:`EmptyFixationsError` when there are none.
* A constant saliency map carries no information: NSS is 0, every AUC is 0.5, CC is 0, and
  SIM, KL and EMD treat it as the uniform distribution. No function returns NaN.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, sparse

KL_EPS = 2.2204e-16  # MATLAB's eps, as in the MIT benchmark's KLdiv
DEFAULT_BORJI_SPLITS = 100  # random negative sets per map (MIT benchmark AUC_Borji)
DEFAULT_EMD_SIDE = 12  # cells per side after block summing; an 84x84 map becomes 12x12


class MetricInputError(ValueError):
    """Raised for maps that a metric cannot score: wrong shape, NaN or infinite values."""


class EmptyFixationsError(MetricInputError):
    """Raised when a fixation-based metric receives a fixation map with no fixated pixel."""


def _check_map(saliency_map: np.ndarray, name: str = "saliency_map") -> np.ndarray:
    values = np.asarray(saliency_map, dtype=np.float64)
    if values.ndim != 2:
        raise MetricInputError(f"{name} must be 2-D, got shape {values.shape}")
    if values.size == 0:
        raise MetricInputError(f"{name} is empty (shape {values.shape})")
    bad = int(np.count_nonzero(~np.isfinite(values)))
    if bad:
        raise MetricInputError(
            f"{name} has {bad} NaN or infinite values of {values.size}; fix the map that "
            "produced them (for example a division by a zero sum) before scoring it"
        )
    return values


def _check_same_shape(a: np.ndarray, b: np.ndarray, names: tuple[str, str]) -> None:
    if a.shape != b.shape:
        raise MetricInputError(
            f"{names[0]} has shape {a.shape} but {names[1]} has shape {b.shape}; resize one "
            "to the other (analysis.saliency.maps.resize_map) first"
        )


def binarize_fixations(fixation_map: np.ndarray) -> np.ndarray:
    """Return the fixation map as ``bool``, by the rule in the module docstring.

    Raises:
        MetricInputError: the map is not 2-D or contains NaN.
    """
    fixations = np.asarray(fixation_map)
    if fixations.ndim != 2:
        raise MetricInputError(f"fixation_map must be 2-D, got shape {fixations.shape}")
    if fixations.dtype == np.bool_:
        return fixations
    if fixations.dtype == np.uint8:
        return fixations > 127
    if np.issubdtype(fixations.dtype, np.floating) and np.isnan(fixations).any():
        raise MetricInputError("fixation_map contains NaN; mark fixated pixels with counts or True")
    return fixations > 0


def _fixated(saliency_map: np.ndarray, fixation_map: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values = _check_map(saliency_map)
    fixations = binarize_fixations(fixation_map)
    _check_same_shape(values, fixations, ("saliency_map", "fixation_map"))
    if not fixations.any():
        raise EmptyFixationsError(
            "fixation_map has no fixated pixel, so fixation-based metrics are undefined; "
            "skip frames without on-screen gaze"
        )
    return values, fixations


def nss(saliency_map: np.ndarray, fixation_map: np.ndarray) -> float:
    """Compute the normalized scanpath saliency.

    ``NSS = mean over fixated pixels of (s - mean(s)) / std(s)``, with the population standard
    deviation (``ddof=0``) over all pixels. A constant map returns 0.

    Raises:
        EmptyFixationsError: no fixated pixel.
        MetricInputError: NaN values or mismatched shapes.
    """
    values, fixations = _fixated(saliency_map, fixation_map)
    std = values.std()
    if std == 0:
        return 0.0
    return float(((values[fixations] - values.mean()) / std).mean())


def _mann_whitney_auc(positives: np.ndarray, negatives: np.ndarray) -> float:
    # AUC = P(pos > neg) + 0.5 P(pos == neg), the Mann-Whitney U over n_pos * n_neg: for each
    # positive, count the negatives below it and half of those equal to it.
    ordered = np.sort(negatives)
    below = np.searchsorted(ordered, positives, side="left")
    not_above = np.searchsorted(ordered, positives, side="right")
    wins = below.sum() + 0.5 * (not_above - below).sum()
    return float(wins / (positives.size * negatives.size))


def auc_judd(saliency_map: np.ndarray, fixation_map: np.ndarray) -> float:
    """Compute AUC-Judd: fixated pixels against every other pixel.

    Positives are the saliency values at fixated pixels (each once), negatives the values at
    all non-fixated pixels. The area is the Mann-Whitney statistic, so a tie between a
    positive and a negative counts one half. No random jitter is added (the MIT code adds
    noise to break ties; counting them half is the deterministic equivalent). A map whose
    every pixel is fixated returns 0.5.

    Raises:
        EmptyFixationsError: no fixated pixel.
        MetricInputError: NaN values or mismatched shapes.
    """
    values, fixations = _fixated(saliency_map, fixation_map)
    negatives = values[~fixations]
    if negatives.size == 0:
        return 0.5
    return _mann_whitney_auc(values[fixations], negatives)


def auc_borji(
    saliency_map: np.ndarray,
    fixation_map: np.ndarray,
    *,
    splits: int = DEFAULT_BORJI_SPLITS,
    seed: int = 0,
) -> float:
    """Compute AUC-Borji: fixated pixels against uniformly drawn pixels, averaged over splits.

    For each of ``splits`` draws, as many pixels as there are fixated pixels are drawn
    uniformly with replacement from the whole map (fixated pixels included) as negatives; the
    area of each split is the Mann-Whitney statistic (ties count half) and the result is the
    mean. ``seed`` makes the draw reproducible.

    Raises:
        EmptyFixationsError: no fixated pixel.
        MetricInputError: NaN values, mismatched shapes or ``splits < 1``.
    """
    if splits < 1:
        raise MetricInputError(f"splits must be at least 1, got {splits}")
    values, fixations = _fixated(saliency_map, fixation_map)
    positives = values[fixations]
    flat = values.ravel()
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, flat.size, size=(splits, positives.size))
    return float(np.mean([_mann_whitney_auc(positives, flat[row]) for row in draws]))


def auc_shuffled(
    saliency_map: np.ndarray, fixation_map: np.ndarray, other_fixations: np.ndarray
) -> float:
    """Compute shuffled AUC: fixated pixels against fixations of other frames.

    Negatives are the saliency values at ``other_fixations``, the fixated pixels of other
    frames of the same trial. They are given either as a fixation map of this map's shape
    (binarised like ``fixation_map``; each pixel once) or as a 1-D integer array of flat
    row-major indices ``row * width + col`` (repeats count as often as they occur). Sampling
    negatives from the same observers' fixations cancels their centre bias. The area is the
    Mann-Whitney statistic with ties counted half.

    Raises:
        EmptyFixationsError: no fixated pixel, or no negative.
        MetricInputError: NaN values, mismatched shapes, or indices outside the map.
    """
    values, fixations = _fixated(saliency_map, fixation_map)
    others = np.asarray(other_fixations)
    if others.ndim == 2:
        _check_same_shape(values, others, ("saliency_map", "other_fixations"))
        negatives = values[binarize_fixations(others)]
    elif others.ndim == 1:
        if others.size and not np.issubdtype(others.dtype, np.integer):
            raise MetricInputError(
                f"other_fixations indices must be integers, got dtype {others.dtype}"
            )
        if others.size and (others.min() < 0 or others.max() >= values.size):
            raise MetricInputError(
                f"other_fixations contains indices outside 0..{values.size - 1}; use row-major "
                f"indices row * {values.shape[1]} + col"
            )
        negatives = values.ravel()[others]
    else:
        raise MetricInputError(
            "other_fixations must be a 2-D fixation map or 1-D flat indices, got shape "
            f"{others.shape}"
        )
    if negatives.size == 0:
        raise EmptyFixationsError(
            "other_fixations is empty, so shuffled AUC has no negatives; it needs fixations "
            "from at least one other frame of the trial"
        )
    return _mann_whitney_auc(values[fixations], negatives)


def cc(map_a: np.ndarray, map_b: np.ndarray) -> float:
    """Compute the Pearson correlation coefficient of two maps over all pixels.

    Symmetric, in ``[-1, 1]``. Returns 0 when either map is constant.

    Raises:
        MetricInputError: NaN values or mismatched shapes.
    """
    a = _check_map(map_a, "map_a")
    b = _check_map(map_b, "map_b")
    _check_same_shape(a, b, ("map_a", "map_b"))
    a = a - a.mean()
    b = b - b.mean()
    denominator = np.sqrt((a * a).sum() * (b * b).sum())
    if denominator == 0:
        return 0.0
    return float(np.clip((a * b).sum() / denominator, -1.0, 1.0))


def to_distribution(saliency_map: np.ndarray, *, min_max: bool = False) -> np.ndarray:
    """Turn a map into a probability distribution over its pixels.

    With ``min_max`` the map is first rescaled to ``[0, 1]`` by its minimum and maximum (the
    SIM convention); otherwise a negative minimum is subtracted. The result sums to 1; a map
    that is constant, or all zero after that step, becomes uniform.

    Raises:
        MetricInputError: NaN values.
    """
    values = _check_map(saliency_map)
    if min_max:
        span = values.max() - values.min()
        values = (values - values.min()) / span if span > 0 else np.zeros_like(values)
    elif values.min() < 0:
        values = values - values.min()
    total = values.sum()
    if total <= 0:
        return np.full(values.shape, 1.0 / values.size)
    return values / total


def sim(map_a: np.ndarray, map_b: np.ndarray) -> float:
    """Compute the similarity (histogram intersection) of two maps.

    Each map is min-max normalised to ``[0, 1]``, then normalised to sum 1, and SIM is the sum
    over pixels of the smaller of the two values: 1 for identical distributions, 0 for
    disjoint ones. A constant map counts as uniform.

    Raises:
        MetricInputError: NaN values or mismatched shapes.
    """
    a = to_distribution(map_a, min_max=True)
    b = to_distribution(map_b, min_max=True)
    _check_same_shape(a, b, ("map_a", "map_b"))
    return float(np.minimum(a, b).sum())


def kl_divergence(human_map: np.ndarray, model_map: np.ndarray, *, eps: float = KL_EPS) -> float:
    """Compute KL(human || model), the MIT benchmark's KLdiv.

    Both maps are normalised to sum 1 (:func:`to_distribution`, a negative minimum removed
    first), then ``KL = sum_i h_i * log(eps + h_i / (m_i + eps))`` with ``eps = 2.2204e-16``
    inside the logarithm and in the denominator. Not symmetric: the human map is the
    reference distribution. 0 for identical maps; larger is worse.

    Raises:
        MetricInputError: NaN values or mismatched shapes.
    """
    h = to_distribution(human_map)
    m = to_distribution(model_map)
    _check_same_shape(h, m, ("human_map", "model_map"))
    return float((h * np.log(eps + h / (m + eps))).sum())


_EMD_MIN_MASS = 1e-12


def _block_sum(values: np.ndarray, max_side: int) -> tuple[np.ndarray, int, int]:
    # Sum blocks of step_r x step_c pixels so that no side exceeds max_side; mass is kept.
    rows, cols = values.shape
    step_r = -(-rows // max_side)
    step_c = -(-cols // max_side)
    if step_r == 1 and step_c == 1:
        return values, 1, 1
    padded = np.zeros((-(-rows // step_r) * step_r, -(-cols // step_c) * step_c))
    padded[:rows, :cols] = values
    blocks = padded.reshape(padded.shape[0] // step_r, step_r, padded.shape[1] // step_c, step_c)
    return blocks.sum(axis=(1, 3)), step_r, step_c


def emd(map_a: np.ndarray, map_b: np.ndarray, *, max_side: int = DEFAULT_EMD_SIDE) -> float:
    """Compute the earth mover's distance between two maps on their pixel grid.

    Both maps are normalised to sum 1 (a negative minimum removed first), summed into blocks
    so that no side exceeds ``max_side`` cells (the MIT code likewise shrinks maps before its
    EMD), and the exact transport problem is solved as a linear program with the Euclidean
    distance between block origins, in original pixels, as ground distance. 0 for identical
    maps. Shrinking makes the result an approximation, exact to within the block size
    (``ceil(side / max_side)`` pixels); ``max_side`` at least the map side gives the exact
    EMD at a quadratic cost in the number of pixels.

    Raises:
        MetricInputError: NaN values, mismatched shapes, or ``max_side < 1``.
    """
    if max_side < 1:
        raise MetricInputError(f"max_side must be at least 1, got {max_side}")
    a = to_distribution(map_a)
    b = to_distribution(map_b)
    _check_same_shape(a, b, ("map_a", "map_b"))
    small_a, step_r, step_c = _block_sum(a, max_side)
    small_b, _, _ = _block_sum(b, max_side)

    # Only cells with mass take part; transport flows from supply cells to demand cells.
    # Cells below 1e-12 of the total are dropped: such specks change the distance by less
    # than 1e-12 times the map diagonal.
    src = np.flatnonzero(small_a.ravel() > _EMD_MIN_MASS)
    dst = np.flatnonzero(small_b.ravel() > _EMD_MIN_MASS)
    supply = small_a.ravel()[src]
    demand = small_b.ravel()[dst]
    supply = supply / supply.sum()
    demand = demand / demand.sum()
    width = small_a.shape[1]
    src_rc = np.stack([src // width * step_r, src % width * step_c], axis=1).astype(float)
    dst_rc = np.stack([dst // width * step_r, dst % width * step_c], axis=1).astype(float)
    cost = np.sqrt(((src_rc[:, None, :] - dst_rc[None, :, :]) ** 2).sum(-1))  # [n_src, n_dst]
    n_src, n_dst = cost.shape

    # Each source ships at most its mass and each sink receives exactly its mass. Both sum to 1,
    # so the sources ship everything, and rounding cannot make the program infeasible.
    var = np.arange(n_src * n_dst)
    rows_out = sparse.coo_matrix((np.ones(var.size), (var // n_dst, var)), shape=(n_src, var.size))
    rows_in = sparse.coo_matrix((np.ones(var.size), (var % n_dst, var)), shape=(n_dst, var.size))
    result = optimize.linprog(
        cost.ravel(),
        A_ub=rows_out.tocsr(),
        b_ub=supply * (1 + 1e-9),
        A_eq=rows_in.tocsr(),
        b_eq=demand,
        bounds=(0, None),
        method="highs",
        # HiGHS' presolve declares some feasible transport problems infeasible (seen with
        # scipy 1.17 on saliency maps whose cells span seven orders of magnitude).
        options={"presolve": False},
    )
    if not result.success:
        raise MetricInputError(f"EMD linear program failed: {result.message}")
    return float(result.fun)
