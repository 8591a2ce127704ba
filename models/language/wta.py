"""Winner-take-all selection over attention scores, with a softmax straight-through gradient.

This is our reconstruction of WSSA and CWSSA (Zhou et al. 2026, "Winner-Take-All Spiking
Transformer for Language Modeling"): the paper's exact equations were not available, only its
abstract and third-party descriptions. Per head and time step, for scores ``A = s * Q K^T`` of
shape ``[..., L, L]`` (query rows, key columns):

- WTA: ``A_w[i, j] = 1`` for the key ``j`` with the largest ``A[i, j]`` and 0 elsewhere; with
  ``k > 1``, ones on the ``k`` largest entries of the row (a k-hot row).
- causal (CWSSA): keys ``j > i`` are removed *before* the winner is chosen, so no query ever
  selects a later position, ties included. Row ``i`` then has ``i + 1`` candidates, so a
  top-k row with ``i + 1 < k`` selects all ``i + 1`` of them.
- ties: among keys with equal scores the one nearest to the query wins (``|i - j|`` smallest),
  and of two equally near keys the earlier one. In the causal case this is the most recent
  allowed token, and a row of equal scores selects the query's own position.
- gradient: forward ``A_w``; backward through ``softmax(A / tau)`` over the allowed keys,
  ``A_ste = A_w + k * (P - stop_grad(P))`` with ``P = softmax(A / tau)``, so ``A_ste / k``
  has the value ``A_w / k`` and the gradient of ``P``. This follows the description of the
  paper's temperature softmax that tends to hard WTA as ``tau -> 0``.
"""

from __future__ import annotations

import torch


def allowed_keys(length: int, causal: bool, device: torch.device | None = None) -> torch.Tensor:
    """Return a bool ``[L, L]`` matrix, true where query ``i`` may select key ``j``."""
    if causal:
        return torch.ones(length, length, dtype=torch.bool, device=device).tril()
    return torch.ones(length, length, dtype=torch.bool, device=device)


def tie_priority(length: int, device: torch.device | None = None) -> torch.Tensor:
    """Return ``[L, L]`` priorities of the tie rule: larger wins, ``-(2 * |i - j| + (j > i))``.

    Keys nearer to the query rank higher, and of two keys at the same distance the earlier one
    (``j < i``) ranks higher. All priorities in a row differ, so the rule is deterministic.
    """
    index = torch.arange(length, device=device)
    offset = index.view(1, -1) - index.view(-1, 1)  # j - i
    return -(2 * offset.abs() + (offset > 0).long()).to(torch.float32)


def winner_take_all(scores: torch.Tensor, k: int = 1, causal: bool = False) -> torch.Tensor:
    """Return the 0/1 selection ``A_w`` with ``k`` ones per query row (fewer where a causal row
    has fewer than ``k`` keys), following the tie rule in the module docstring.

    Args:
        scores: ``[..., L, L]`` attention scores, query rows and key columns.
        k: keys selected per query.
        causal: remove keys after the query before selecting.

    Returns:
        A tensor of ``scores``'s shape and dtype holding 0 and 1; no gradient.

    Raises:
        ValueError: ``k < 1`` or ``scores`` is not square in its last two dimensions.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    length = scores.shape[-1]
    if scores.dim() < 2 or scores.shape[-2] != length:
        raise ValueError(f"scores must be [..., L, L], got shape {tuple(scores.shape)}")
    scores = scores.detach()
    allowed = allowed_keys(length, causal, scores.device)
    priority = tie_priority(length, scores.device)
    masked = scores.masked_fill(~allowed, float("-inf"))  # [..., L, L]

    if k == 1:
        # Candidates are the allowed keys that reach the row maximum; the highest priority wins.
        best = masked.amax(dim=-1, keepdim=True)
        tied = masked == best
        choice = torch.where(tied, priority, torch.finfo(torch.float32).min).argmax(dim=-1)
        selection = torch.zeros_like(scores)
        return selection.scatter_(-1, choice.unsqueeze(-1), 1.0)

    # Visit keys from the highest priority to the lowest, then sort by score with a stable sort:
    # equal scores keep their priority order.
    order = priority.argsort(dim=-1, descending=True)  # [L, L], key indices per query row
    order = order.expand(*scores.shape[:-2], length, length)
    by_priority = masked.gather(-1, order)
    ranked = by_priority.sort(dim=-1, descending=True, stable=True)
    top = ranked.indices[..., :k]  # positions inside ``order``
    keys = order.gather(-1, top)
    valid = ranked.values[..., :k] > float("-inf")
    selection = torch.zeros_like(scores)
    return selection.scatter_(-1, keys, valid.to(scores.dtype))


def masked_softmax(scores: torch.Tensor, tau: float, causal: bool) -> torch.Tensor:
    """Return ``softmax(A / tau)`` over the allowed keys of each row, ``[..., L, L]``."""
    allowed = allowed_keys(scores.shape[-1], causal, scores.device)
    return torch.softmax((scores / tau).masked_fill(~allowed, float("-inf")), dim=-1)


def wta_select(
    scores: torch.Tensor, k: int = 1, causal: bool = False, tau: float = 1.0
) -> torch.Tensor:
    """Return the k-hot selection with the softmax straight-through gradient.

    The value is exactly :func:`winner_take_all`'s 0/1 matrix. When gradients are recorded the
    backward pass is that of ``k * softmax(A / tau)`` over the allowed keys, so dividing the
    product ``A_ste @ V`` by ``k`` afterwards gives the value of the mean of the selected rows
    of ``V`` and the gradient of ``softmax(A / tau) @ V``.

    Args:
        scores: ``[..., L, L]`` scores ``A``.
        k: keys per query.
        causal: mask later keys before selecting.
        tau: temperature of the surrogate softmax.
    """
    hard = winner_take_all(scores, k, causal)
    if not (torch.is_grad_enabled() and scores.requires_grad):
        return hard
    soft = masked_softmax(scores, tau, causal)
    # soft - soft.detach() is exactly zero in the forward pass, so the value stays 0/1.
    return hard + k * (soft - soft.detach())
