"""SpikCommander: its LIF against SpikingJelly, each MSTASA view against its equation written
out by hand, the loss, gradients, the ablation switches and the recorder."""

from __future__ import annotations

import math

import pytest
import torch

from analysis.energy import count_ops, merge_calls
from analysis.recording import record
from models.speech.ablation import variant_configs
from models.speech.config import SpikCommanderConfig
from models.speech.layers import WindowSum, along_time, spikcommander_lif
from models.speech.spikcommander import (
    MSTASA,
    SpikCommander,
    count_parameters,
    spikcommander_loss,
    summed_probabilities,
)

SMALL = SpikCommanderConfig(
    in_features=12, n_classes=4, dim=16, heads=4, steps=20, window=3, mlp_ratio=2
)


def test_lif_matches_spikingjelly():
    neuron = pytest.importorskip("spikingjelly.activation_based.neuron")
    surrogate = pytest.importorskip("spikingjelly.activation_based.surrogate")
    peer = neuron.LIFNode(
        tau=2.0,
        decay_input=False,
        v_threshold=1.0,
        v_reset=0.5,
        surrogate_function=surrogate.ATan(alpha=5.0),
        detach_reset=True,
        step_mode="m",
    )
    x = torch.randn(30, 3, 8, generator=torch.Generator().manual_seed(0)) * 1.5
    ours_in = x.clone().requires_grad_(True)
    peer_in = x.clone().requires_grad_(True)
    ours = spikcommander_lif()(ours_in)
    theirs = peer(peer_in)
    torch.testing.assert_close(ours, theirs)
    weights = torch.randn_like(x)
    (ours * weights).sum().backward()
    (theirs * weights).sum().backward()
    torch.testing.assert_close(ours_in.grad, peer_in.grad, atol=1e-5, rtol=1e-5)


def test_lif_first_steps_by_hand():
    # H = V - (V - 0.5) / 2 + X with V[-1] = 0.5, spike at H >= 1, reset to 0.5.
    x = torch.tensor([0.3, 0.4, 0.2, 0.9]).view(4, 1)
    spikes = spikcommander_lif()(x).view(-1).tolist()
    # step 0: H = 0.8; step 1: 0.8 - 0.15 + 0.4 = 1.05 fires; step 2: 0.5 + 0.2 = 0.7;
    # step 3: 0.7 - 0.1 + 0.9 = 1.5 fires.
    assert spikes == [0.0, 1.0, 0.0, 1.0]


def test_window_sum_by_hand():
    x = torch.randint(0, 2, (15, 2, 3)).float()
    out = along_time(WindowSum(3, 2), x)
    expected = torch.stack([x[max(t - 2, 0) : t + 3].sum(0) for t in range(15)])
    torch.testing.assert_close(out, expected)
    assert not WindowSum(3, 2).weight.requires_grad


def test_window_sum_energy_counts_border():
    # One spike at step 0 reaches window positions 0..w only: w + 1 accumulates.
    layer = WindowSum(1, 4)
    x = torch.zeros(1, 1, 10)
    x[0, 0, 0] = 1.0
    ops = count_ops(layer, x, batch_size=1)
    assert ops[0].acs == 5.0


def _attn_records(config: SpikCommanderConfig):
    torch.manual_seed(0)
    attn = MSTASA(config).eval()
    x = (torch.rand(config.steps, 2, config.dim) < 0.3).float() * 2.0
    _, records = record(attn, x)
    return attn, records


def test_local_gate_equation():
    _, records = _attn_records(SMALL)
    q = records["q.2"].spk.reshape(SMALL.steps, 2, SMALL.dim)
    k = records["k.2"].spk.reshape(SMALL.steps, 2, SMALL.dim)
    w = SMALL.window
    sums = torch.stack(
        [
            (q[max(t - w, 0) : t + w + 1] + k[max(t - w, 0) : t + w + 1]).sum(0)
            for t in range(SMALL.steps)
        ]
    )
    current = sums / math.sqrt(SMALL.head_dim * (2 * w + 1))
    expected = spikcommander_lif()(current).view(SMALL.steps, 2, SMALL.heads, SMALL.head_dim)
    torch.testing.assert_close(records["gate_local"].spk, expected)


def test_global_gate_equation():
    _, records = _attn_records(SMALL)
    q = records["q.2"].spk
    k = records["k.2"].spk
    current = (q.sum(0) + k.sum(0)) / math.sqrt(SMALL.head_dim * SMALL.steps)
    # One LIF step from V = 0.5: H = 0.5 + X, so the gate opens where X >= 0.5.
    expected = (current >= 0.5).float().view(1, 2, SMALL.heads, SMALL.head_dim)
    torch.testing.assert_close(records["gate_global"].spk, expected)


def test_views_switch_off():
    local_only = MSTASA(SpikCommanderConfig(global_view=False, v_branch=False))
    assert not hasattr(local_only, "gate_global")
    assert not hasattr(local_only, "v_lif")
    global_only = MSTASA(SpikCommanderConfig(local_view=False))
    assert not hasattr(global_only, "gate_local")
    with pytest.raises(ValueError, match="at least one of local_view and global_view"):
        SpikCommanderConfig(local_view=False, global_view=False)


def test_loss_is_ce_of_summed_softmax():
    logits = torch.randn(5, 3, 4)
    labels = torch.tensor([0, 3, 1])
    summed = torch.softmax(logits, -1).sum(0)
    manual = -(torch.log_softmax(summed, -1)[torch.arange(3), labels]).mean()
    torch.testing.assert_close(spikcommander_loss(logits, labels), manual)
    torch.testing.assert_close(summed_probabilities(logits).sum(-1), torch.full((3,), 5.0))


def test_gradients_reach_every_trainable_parameter():
    torch.manual_seed(1)
    model = SpikCommander(SMALL).train()
    x = torch.rand(SMALL.steps, 6, SMALL.in_features) * 3
    loss = spikcommander_loss(model(x), torch.tensor([0, 1, 2, 3, 0, 1]))
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert missing == []
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    assert float(model.embed.pointwise.weight.grad.abs().sum()) > 0


def test_forward_shape_and_input_check():
    model = SpikCommander(SMALL).eval()
    assert model(torch.rand(SMALL.steps, 2, SMALL.in_features)).shape == (SMALL.steps, 2, 4)
    with pytest.raises(ValueError, match=r"expected input \[T, B, 12\]"):
        model(torch.rand(2, SMALL.steps, 13))


def test_ablation_variants_differ_as_documented():
    configs = variant_configs(SMALL)
    assert [c.variant for _, c in configs] == [
        "local/plain",
        "local+global/plain",
        "local+global+V/plain",
        "local+global+V/scr",
    ]
    counts = [count_parameters(SpikCommander(c)) for _, c in configs]
    assert counts[0] == counts[1]  # the global view adds a gate but no weights
    heads = SMALL.heads
    v_weights = heads * heads + heads * SMALL.v_kernel[0] * SMALL.v_kernel[1]
    assert counts[2] - counts[1] == v_weights
    assert counts[3] > counts[2]


def test_recorder_and_energy_on_full_model():
    model = SpikCommander(SMALL).eval()
    x = torch.rand(SMALL.steps, 1, SMALL.in_features)
    logits, records = record(model, x)
    torch.testing.assert_close(logits, model(x))
    assert records["blocks.0.attn.gate_global"].spk.shape == (1, 1, SMALL.heads, SMALL.head_dim)
    assert records["blocks.0.attn.v_lif"].spk.shape == (SMALL.steps, 1, SMALL.heads, SMALL.head_dim)
    ops = {op.name: op for op in merge_calls(count_ops(model, x, batch_size=1))}
    assert not ops["embed.pointwise"].spike_input  # the spectrogram is real-valued: MACs
    assert ops["blocks.0.attn.q.0"].spike_input
    # The SEE output (values 0-2) drives the Q projection: one accumulate per spike per output.
    q_projection = ops["blocks.0.attn.q.0"]
    assert q_projection.acs == q_projection.input_spikes * SMALL.dim
