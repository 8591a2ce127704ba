"""User text to model input, predictions, generation, spike rates and energy."""

from __future__ import annotations

import math

import pytest
import torch

from analysis.energy import EnergyCosts
from analysis.language.activity import operations, spike_rates
from analysis.language.text import InputError, generate, predict_masks, prepare_text, token_surprise
from data.austen import load_sample
from data.bpe import MASK_ID, train_tokenizer
from models.language.config import LanguageModelConfig
from models.language.model import build_model
from tests.models.language.tiny import tiny


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer(load_sample().split("\n"), vocab_size=300)


@pytest.fixture(scope="module")
def models(tokenizer):
    built = {}
    for objective in ("causal", "masked"):
        torch.manual_seed(0)
        config = LanguageModelConfig(
            vocab_size=tokenizer.vocab_size,
            width=16,
            layers=1,
            heads=2,
            context=16,
            mlp_ratio=2,
            objective=objective,
        )
        built[objective] = build_model(config).eval()
    return built


def test_prepare_truncates_to_context(tokenizer):
    prepared = prepare_text(tokenizer, "word " * 40, context=16)
    assert len(prepared.ids) == 16
    assert prepared.truncated == len(tokenizer.encode("word " * 40)) - 16
    assert len(prepared.labels) == 16


@pytest.mark.parametrize("text", ["", "   \n ", "\x00\x07"])
def test_prepare_rejects_empty(tokenizer, text):
    with pytest.raises(InputError, match="empty"):
        prepare_text(tokenizer, text, context=16)


def test_prepare_reports_emoji_and_controls(tokenizer):
    prepared = prepare_text(tokenizer, "She smiled 😀\x1b.", context=16)
    assert prepared.report.unseen == ("😀",)
    assert prepared.report.removed_controls == ("U+001B",)
    assert tokenizer.decode(prepared.ids) == "She smiled 😀."


def test_mask_predictions(models, tokenizer):
    ids = tokenizer.encode("She was [MASK] to see him [MASK]")
    predictions = predict_masks(models["masked"], tokenizer, ids, top=3)
    assert [p.position for p in predictions] == [i for i, t in enumerate(ids) if t == MASK_ID]
    for prediction in predictions:
        assert len(prediction.tokens) == 3
        assert prediction.probabilities == sorted(prediction.probabilities, reverse=True)
        assert 0 < sum(prediction.probabilities) <= 1 + 1e-6


def test_only_masks_is_predicted(models, tokenizer):
    ids = tokenizer.encode("[MASK] [MASK] [MASK]")
    assert len(predict_masks(models["masked"], tokenizer, ids)) == 3


def test_mask_predictions_need_masked_model(models, tokenizer):
    with pytest.raises(ValueError, match="masked"):
        predict_masks(models["causal"], tokenizer, [MASK_ID])


def test_greedy_generation_matches_argmax(models, tokenizer):
    model = models["causal"]
    ids = tokenizer.encode("It was a fine day")
    result = generate(model, tokenizer, ids, new_tokens=4)
    # second route: one forward pass per step, arg-max by hand
    sequence = list(ids)
    for token, probability in zip(result.ids, result.probabilities, strict=True):
        with torch.no_grad():
            probs = torch.softmax(model(torch.tensor([sequence[-16:]]))[0, -1], dim=-1)
        assert token == int(probs.argmax())
        assert probability == pytest.approx(float(probs.max()))
        sequence.append(token)
    assert result.text == tokenizer.decode(result.ids)


def test_sampling_is_seeded(models, tokenizer):
    ids = tokenizer.encode("It was")
    first = generate(models["causal"], tokenizer, ids, new_tokens=20, temperature=1.0, seed=5)
    second = generate(models["causal"], tokenizer, ids, new_tokens=20, temperature=1.0, seed=5)
    assert first.ids == second.ids
    assert len(first.ids) == 20


def test_generation_rejects_bad_arguments(models, tokenizer):
    with pytest.raises(ValueError, match="temperature"):
        generate(models["causal"], tokenizer, [5], temperature=-1)
    with pytest.raises(ValueError, match="causal"):
        generate(models["masked"], tokenizer, [5])


def test_surprise_by_hand(models, tokenizer):
    model = models["causal"]
    ids = tokenizer.encode("Mr. Darcy bowed")
    nats, perplexity = token_surprise(model, ids)
    with torch.no_grad():
        log_probs = torch.log_softmax(model(torch.tensor([ids]))[0], dim=-1)
    expected = [-float(log_probs[i, ids[i + 1]]) for i in range(len(ids) - 1)]
    assert nats == pytest.approx(expected, rel=1e-5)
    assert perplexity == pytest.approx(math.exp(sum(expected) / len(expected)))
    assert token_surprise(model, ids[:1]) == ([], pytest.approx(math.nan, nan_ok=True))


def test_spike_rates_match_records():
    model = tiny("wssa", "causal")
    tokens = torch.randint(0, 64, (1, 12))
    rates = {rate.name: rate for rate in spike_rates(model, tokens)}
    assert len(rates) == 15
    final = rates["final"]
    assert final.block == -1
    assert final.role == "output"
    query = rates["blocks.1.attn.q.neuron"]
    assert query.role == "query"
    assert 0 <= query.rate <= 1
    # NILIF(1x4): the mean integer count is 4 times the share of filled sub-steps
    assert query.mean_count == pytest.approx(4 * query.rate)


def test_operations_spiking_vs_ann():
    tokens = torch.randint(0, 64, (1, 12))
    spiking = operations(tiny("wssa", "causal"), tokens)
    ann = operations(tiny("softmax", "causal"), tokens)
    costs = EnergyCosts()
    assert spiking.energy_pj == pytest.approx(
        spiking.acs * costs.ac_pj + spiking.macs * costs.mac_pj
    )
    assert spiking.attention_macs == 0
    assert spiking.attention_acs > 0
    # the ANN attention products, by hand: Q K^T and A V are each L * L * d per head, in two
    # layers of two heads
    assert ann.attention_macs == 2 * 2 * (2 * 12 * 12 * 8)
    assert ann.acs == 0
    assert spiking.tokens == 12
