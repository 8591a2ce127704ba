"""Attention extraction: the full maps match the model's own selection, sub-step maps follow
their equation, and the softmax twin's maps are its probabilities."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from analysis.language.attention import extract_attention
from analysis.recording import record
from models.language.wta import winner_take_all
from tests.models.language.tiny import VOCAB, tiny


@pytest.fixture(scope="module")
def causal_model():
    return tiny("wssa", "causal")


@pytest.fixture(scope="module")
def tokens():
    return torch.randint(0, VOCAB, (1, 12), generator=torch.Generator().manual_seed(3))


def test_shapes(causal_model, tokens):
    maps = extract_attention(causal_model, tokens)
    assert maps.scores.shape == (2, 1, 2, 12, 12)
    assert maps.partial_scores.shape == (2, 1, 4, 2, 12, 12)
    assert maps.steps == (1, 4)
    assert maps.layers == 2
    assert maps.heads == 2


def test_last_sub_step_is_the_model_map(causal_model, tokens):
    maps = extract_attention(causal_model, tokens)
    np.testing.assert_allclose(maps.partial_scores[:, :, -1], maps.scores, atol=1e-6)
    # the selection the model multiplied with V, captured at its av product
    np.testing.assert_array_equal(maps.partial_selection[:, :, -1], maps.weights)


def test_selection_is_causal_one_hot(causal_model, tokens):
    maps = extract_attention(causal_model, tokens)
    assert np.all(maps.partial_selection.sum(-1) == 1)
    future = np.triu(np.ones((12, 12), dtype=bool), k=1)
    assert maps.partial_selection[..., future].sum() == 0
    assert np.all(maps.winners(0, 0) <= np.arange(12))


def test_sub_step_equation(causal_model, tokens):
    # second route: rebuild A^(d) for block 1, head 0 from the recorded integer outputs, using
    # the unrolled count min(q_count, d) of each NILIF value q = count / 4
    maps = extract_attention(causal_model, tokens)
    _, records = record(causal_model, tokens)
    q = records["blocks.1.attn.q.neuron"].spk[0, 0]  # [L, C]
    k = records["blocks.1.attn.k.neuron"].spk[0, 0]
    q_head, k_head = q[:, :8] * 4, k[:, :8] * 4  # integer counts of head 0
    scale = causal_model.config.scale
    for d in range(1, 5):
        expected = scale * (q_head.clamp(max=d) / 4) @ (k_head.clamp(max=d) / 4).T
        np.testing.assert_allclose(maps.partial_scores[1, 0, d - 1, 0], expected.numpy(), atol=1e-6)
        selection = winner_take_all(expected, 1, causal=True)
        np.testing.assert_array_equal(maps.partial_selection[1, 0, d - 1, 0], selection.numpy())


def test_surrogate_rows_sum_to_one(causal_model, tokens):
    maps = extract_attention(causal_model, tokens)
    np.testing.assert_allclose(maps.surrogate.sum(-1), 1.0, atol=1e-5)
    future = np.triu(np.ones((12, 12), dtype=bool), k=1)
    assert np.all(maps.surrogate[..., future] == 0)


def test_softmax_twin_maps(tokens):
    model = tiny("softmax", "causal")
    maps = extract_attention(model, tokens)
    assert maps.kind == "softmax"
    np.testing.assert_allclose(maps.weights.sum(-1), 1.0, atol=1e-5)
    # the probabilities are the softmax of the returned scores
    scores = torch.from_numpy(maps.scores)
    np.testing.assert_allclose(torch.softmax(scores, dim=-1).numpy(), maps.weights, atol=1e-6)


def test_ssa_weights_are_masked_scores(tokens):
    model = tiny("ssa", "causal")
    maps = extract_attention(model, tokens)
    future = np.triu(np.ones((12, 12), dtype=bool), k=1)
    np.testing.assert_allclose(maps.weights, np.where(future, 0.0, maps.scores), atol=1e-6)


def test_rejects_batches(causal_model):
    with pytest.raises(ValueError, match=r"one sequence \[1, L\]"):
        extract_attention(causal_model, torch.zeros(2, 5, dtype=torch.long))
