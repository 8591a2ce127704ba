"""Winner-take-all selection: one-hot and k-hot rows, the causal mask under ties, the tie rule
against a loop written from its definition, a four-token example by hand, and the
straight-through gradient against softmax attention."""

from __future__ import annotations

import pytest
import torch

from models.language.wta import masked_softmax, tie_priority, winner_take_all, wta_select


def _reference_wta(scores: torch.Tensor, k: int, causal: bool) -> torch.Tensor:
    """The documented rule, one row at a time: sort allowed keys by (score desc, |i - j| asc,
    j asc) and take the first k."""
    length = scores.shape[-1]
    out = torch.zeros_like(scores)
    for i in range(length):
        keys = [j for j in range(length) if not causal or j <= i]
        keys.sort(key=lambda j: (-float(scores[i, j]), abs(i - j), j))
        for j in keys[:k]:
            out[i, j] = 1.0
    return out


# Q, K with spike values; Q K^T = [[1, 1, 0, 1], [0, 0, 1, 1], [1, 1, 0, 1], [1, 1, 1, 2]]
Q4 = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
K4 = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])


def test_four_tokens_by_hand_bidirectional():
    selection = winner_take_all(Q4 @ K4.T, k=1, causal=False)
    # row 0: max 1 at keys 0, 1, 3 -> the query itself (distance 0)
    # row 1: max 1 at keys 2, 3 -> key 2 (distance 1)
    # row 2: max 1 at keys 0, 1, 3 -> keys 1 and 3 are both at distance 1 -> the earlier, 1
    # row 3: max 2 at key 3
    expected = torch.tensor(
        [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=torch.float32
    )
    assert torch.equal(selection, expected)


def test_four_tokens_by_hand_causal():
    selection = winner_take_all(Q4 @ K4.T, k=1, causal=True)
    # row 0: only key 0
    # row 1: keys 0, 1 both score 0 -> the most recent, 1 (key 2's score 1 is in the future)
    # row 2: keys 0, 1 score 1 -> the most recent, 1
    # row 3: key 3 scores 2
    expected = torch.tensor(
        [[1, 0, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=torch.float32
    )
    assert torch.equal(selection, expected)


def test_four_tokens_by_hand_top2():
    bidirectional = winner_take_all(Q4 @ K4.T, k=2, causal=False)
    causal = winner_take_all(Q4 @ K4.T, k=2, causal=True)
    assert bidirectional[1].tolist() == [0, 0, 1, 1]
    assert bidirectional[0].tolist() == [1, 1, 0, 0]  # three tied at 1: nearest are 0, then 1
    assert causal[0].tolist() == [1, 0, 0, 0]  # one key only, so one selection
    assert causal[1].tolist() == [1, 1, 0, 0]


def test_selection_times_v_copies_rows():
    v = torch.arange(8.0).view(4, 2)
    selection = winner_take_all(Q4 @ K4.T, k=1, causal=True)
    out = selection @ v
    assert torch.equal(out, v[[0, 1, 1, 3]])


@pytest.mark.parametrize("causal", [False, True])
def test_rows_one_hot(causal):
    scores = torch.randn(3, 2, 9, 9)
    selection = winner_take_all(scores, k=1, causal=causal)
    assert torch.equal(selection.sum(-1), torch.ones(3, 2, 9))
    assert set(selection.unique().tolist()) <= {0.0, 1.0}


@pytest.mark.parametrize("k", [2, 3, 5])
def test_rows_k_hot(k):
    scores = torch.randn(2, 7, 7)
    bidirectional = winner_take_all(scores, k=k, causal=False)
    causal = winner_take_all(scores, k=k, causal=True)
    assert torch.equal(bidirectional.sum(-1), torch.full((2, 7), float(k)))
    expected_causal = torch.tensor([min(k, i + 1) for i in range(7)], dtype=torch.float32)
    assert torch.equal(causal.sum(-1), expected_causal.expand(2, 7))


@pytest.mark.parametrize("k", [1, 2, 4])
def test_causal_never_future_under_ties(k):
    generator = torch.Generator().manual_seed(0)
    # scores from {0, 1}: most rows have many ties
    scores = torch.randint(0, 2, (50, 12, 12), generator=generator).float()
    selection = winner_take_all(scores, k=k, causal=True)
    future = torch.ones(12, 12, dtype=torch.bool).triu(diagonal=1)
    assert selection[:, future].sum() == 0


def test_causal_all_equal_picks_self():
    selection = winner_take_all(torch.zeros(6, 6), k=1, causal=True)
    assert torch.equal(selection, torch.eye(6))
    # a future key with a larger score is still never chosen
    scores = torch.zeros(6, 6)
    scores[:, 5] = 10.0
    selection = winner_take_all(scores, k=1, causal=True)
    assert torch.equal(selection[:5], torch.eye(6)[:5])


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("causal", [False, True])
def test_tie_rule_matches_reference(k, causal):
    generator = torch.Generator().manual_seed(k)
    scores = torch.randint(0, 3, (20, 8, 8), generator=generator).float()
    selection = winner_take_all(scores, k=k, causal=causal)
    for batch in range(scores.shape[0]):
        assert torch.equal(selection[batch], _reference_wta(scores[batch], k, causal)), batch


def test_tie_priority_values():
    priority = tie_priority(3)
    # row 1: key 0 (distance 1, earlier) -2, key 1 (self) 0, key 2 (distance 1, later) -3
    assert priority[1].tolist() == [-2.0, 0.0, -3.0]


def test_wrong_shape_and_k_raise():
    with pytest.raises(ValueError, match="k must be at least 1"):
        winner_take_all(torch.zeros(3, 3), k=0)
    with pytest.raises(ValueError, match=r"\[\.\.\., L, L\]"):
        winner_take_all(torch.zeros(3, 4))


def test_masked_softmax_by_hand():
    scores = torch.tensor([[0.0, 1.0], [2.0, 0.0]])
    probs = masked_softmax(scores, tau=0.5, causal=True)
    e = torch.exp(torch.tensor([4.0, 0.0]))
    assert torch.allclose(probs[0], torch.tensor([1.0, 0.0]))
    assert torch.allclose(probs[1], e / e.sum())


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("k", [1, 2])
def test_straight_through_value_and_gradient(causal, k):
    torch.manual_seed(0)
    scores = torch.randn(2, 5, 5, requires_grad=True)
    weights = torch.randn(2, 5, 5)
    tau = 0.7
    selection = wta_select(scores, k=k, causal=causal, tau=tau)
    assert torch.equal(selection.detach(), winner_take_all(scores, k=k, causal=causal))
    (selection * weights).sum().backward()

    # second route: the gradient of k * softmax(A / tau) over the allowed keys, written out
    reference = scores.detach().clone().requires_grad_(True)
    allowed = torch.ones(5, 5, dtype=torch.bool)
    if causal:
        allowed = allowed.tril()
    exp = torch.exp(reference / tau) * allowed
    probs = exp / exp.sum(-1, keepdim=True)
    (k * probs * weights).sum().backward()
    assert torch.allclose(scores.grad, reference.grad, atol=1e-6)


def test_gradients_reach_q_and_k():
    torch.manual_seed(1)
    q = torch.rand(2, 6, 4, requires_grad=True)
    k = torch.rand(2, 6, 4, requires_grad=True)
    v = torch.rand(2, 6, 4)
    scale, tau = 0.5, 1.0
    out = wta_select(scale * q @ k.transpose(-2, -1), k=1, causal=True, tau=tau) @ v
    grad_out = torch.randn_like(out)
    (out * grad_out).sum().backward()

    # second route: softmax attention with the same scale and temperature, written out
    q2 = q.detach().clone().requires_grad_(True)
    k2 = k.detach().clone().requires_grad_(True)
    scores = scale * q2 @ k2.transpose(-2, -1) / tau
    scores = scores.masked_fill(~torch.ones(6, 6, dtype=torch.bool).tril(), float("-inf"))
    soft = torch.softmax(scores, dim=-1) @ v
    (soft * grad_out).sum().backward()
    assert q.grad.abs().sum() > 0
    assert k.grad.abs().sum() > 0
    assert torch.allclose(q.grad, q2.grad, atol=1e-6)
    assert torch.allclose(k.grad, k2.grad, atol=1e-6)


def test_no_grad_returns_plain_selection():
    scores = torch.randn(4, 4, requires_grad=True)
    with torch.no_grad():
        selection = wta_select(scores)
    assert not selection.requires_grad
