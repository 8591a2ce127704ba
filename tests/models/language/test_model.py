"""The language models: causality, bidirectionality, gradients, checkpoints, the recorder and
the synaptic-operation counter."""

from __future__ import annotations

import pytest
import torch

from analysis.energy import count_ops
from analysis.recording import record
from models.language.config import LanguageModelConfig
from models.language.model import LanguageModel, build_model, count_parameters
from models.registry import load_checkpoint, save_checkpoint
from tests.models.language.tiny import KINDS, VOCAB, tiny


@pytest.mark.parametrize(("attention", "objective"), KINDS)
def test_logits_shape(attention, objective):
    model = tiny(attention, objective)
    logits = model(torch.randint(0, VOCAB, (3, 10)))
    assert logits.shape == (3, 10, VOCAB)
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("attention", ["wssa", "ssa", "softmax"])
def test_causal_models_ignore_later_tokens(attention):
    model = tiny(attention, "causal")
    tokens = torch.randint(0, VOCAB, (4, 12))
    changed = tokens.clone()
    changed[:, 7:] = (changed[:, 7:] + 5) % VOCAB
    with torch.no_grad():
        before, after = model(tokens), model(changed)
    assert torch.equal(before[:, :7], after[:, :7])
    assert not torch.equal(before[:, 7:], after[:, 7:])


@pytest.mark.parametrize("attention", ["ssa", "softmax"])
def test_masked_model_sees_later_tokens(attention):
    model = tiny(attention, "masked")
    tokens = torch.randint(0, VOCAB, (4, 12))
    changed = tokens.clone()
    changed[:, 6:] = (changed[:, 6:] + 5) % VOCAB
    with torch.no_grad():
        before, after = model(tokens), model(changed)
    assert not torch.equal(before[:, :6], after[:, :6])


def test_masked_wssa_selects_later_keys():
    model = tiny("wssa", "masked")
    selections = []
    handle = model.blocks[0].attn.av.register_forward_hook(
        lambda m, args, out: selections.append(args[0])
    )
    with torch.no_grad():
        model(torch.randint(0, VOCAB, (4, 12)))
    handle.remove()
    future = torch.ones(12, 12, dtype=torch.bool).triu(diagonal=1)
    assert selections[0][..., future].sum() > 0


def test_too_long_input_raises():
    model = tiny()
    with pytest.raises(ValueError, match="exceeds the context of 12"):
        model(torch.zeros(1, 13, dtype=torch.long))


@pytest.mark.parametrize(("attention", "objective"), KINDS)
def test_gradients_reach_every_block(attention, objective):
    model = tiny(attention, objective).train()
    tokens = torch.randint(0, VOCAB, (4, 12))
    loss = torch.nn.functional.cross_entropy(model(tokens).reshape(-1, VOCAB), tokens.reshape(-1))
    loss.backward()
    assert model.embed.weight.grad.abs().sum() > 0
    for index, block in enumerate(model.blocks):
        q_grad, k_grad = _query_key_grads(block.attn, attention)
        assert q_grad.abs().sum() > 0, f"no gradient at the queries of block {index}"
        assert k_grad.abs().sum() > 0, f"no gradient at the keys of block {index}"


def _query_key_grads(attn, attention):
    if attention == "softmax":
        grad = attn.qkv.weight.grad  # rows: queries, keys, values
        return grad[:16], grad[16:32]
    return attn.q.linear.weight.grad, attn.k.linear.weight.grad


def test_checkpoint_roundtrip(tmp_path):
    model = tiny("wssa", "causal")
    state = model.checkpoint_state()
    assert LanguageModel.TIED_KEY not in state
    card = {
        "name": "tiny",
        "area": "language",
        "architecture": "test",
        "config": model.config.to_dict(),
        "data": "random",
        "command": "test",
        "metrics": {},
        "seed": 0,
        "commit": "none",
    }
    save_checkpoint(tmp_path / "tiny", state, card)
    loaded_state, loaded_card = load_checkpoint(tmp_path / "tiny")
    clone = build_model(LanguageModelConfig.from_dict(loaded_card["config"]))
    clone.load_checkpoint_state(loaded_state, "tiny")
    clone.eval()
    tokens = torch.randint(0, VOCAB, (2, 12))
    with torch.no_grad():
        assert torch.equal(model(tokens), clone(tokens))
    assert clone.head.weight is clone.embed.weight


def test_parameter_count_by_hand():
    model = tiny("softmax", "causal")
    width, hidden, layers = 16, 32, 2
    per_block = (
        2 * 2 * width  # two layer norms
        + width * 3 * width
        + 3 * width  # qkv
        + width * width
        + width  # projection
        + width * hidden
        + hidden
        + hidden * width
        + width  # MLP
    )
    expected = VOCAB * width + 12 * width + layers * per_block + 2 * width + VOCAB
    assert count_parameters(model) == expected


def test_recorder_covers_every_neuron():
    model = tiny("wssa", "causal")
    tokens = torch.randint(0, VOCAB, (2, 12))
    _, records = record(model, tokens)
    # per block: 2 branch inputs, q, k, v, attention output, MLP hidden; plus the final neuron
    assert len(records) == 2 * 7 + 1
    q = records["blocks.0.attn.q.neuron"]
    assert q.spk.shape == (1, 2, 12, 16)
    assert q.binary.shape == (1, 4, 2, 12, 16)
    assert torch.allclose(q.scale * (q.binary.sum(1) + q.constant), q.spk)


def test_count_ops_sees_attention_products():
    model = tiny("wssa", "causal")
    tokens = torch.randint(0, VOCAB, (2, 12))
    ops = {op.name: op for op in count_ops(model, tokens)}
    _, records = record(model, tokens)
    qk = ops["blocks.0.attn.qk"]
    av = ops["blocks.0.attn.av"]
    assert qk.spike_input and av.spike_input
    assert qk.macs == 0 and av.macs == 0
    # second route: every binary spike of Q reaches the L keys of its head
    q_spikes = float(records["blocks.0.attn.q.neuron"].binary.sum()) / 2
    assert qk.acs == pytest.approx(q_spikes * 12)
    # each query selects one key and copies its d = 8 values, for 2 heads
    assert av.acs == pytest.approx(12 * 2 * 8)


def test_count_ops_ann_is_all_macs():
    model = tiny("softmax", "causal")
    ops = count_ops(model, torch.randint(0, VOCAB, (2, 12)))
    assert all(not op.spike_input for op in ops)
    qk = next(op for op in ops if op.name == "blocks.0.attn.qk")
    assert qk.macs == 2 * 12 * 12 * 8  # heads * L * L * d per sample


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="divisible by heads"):
        LanguageModelConfig(vocab_size=10, width=10, heads=3)
    with pytest.raises(ValueError, match="attention must be one of"):
        LanguageModelConfig(vocab_size=10, attention="linear")
    with pytest.raises(ValueError, match="top_k must be at least 1"):
        LanguageModelConfig(vocab_size=10, top_k=0)


def test_nasn_model_learns_alpha():
    model = tiny("wssa", "causal", neuron="nasn").train()
    tokens = torch.randint(0, VOCAB, (4, 12))
    loss = torch.nn.functional.cross_entropy(model(tokens).reshape(-1, VOCAB), tokens.reshape(-1))
    loss.backward()
    alphas = [m.alpha for m in model.modules() if hasattr(m, "alpha") and m.alpha.requires_grad]
    assert len(alphas) == 2 * 7 + 1
    assert any(float(alpha.grad.abs()) > 0 for alpha in alphas)
