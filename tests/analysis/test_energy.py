"""Synaptic operations counted by hand for linear, convolution and matmul layers."""

import pytest
import torch
from torch import nn

from analysis.energy import EnergyCosts, count_ops, merge_calls, total_energy_pj
from models.layers import SpikeMatmul
from models.neurons import LIF, NILIF


class _Chain(nn.Module):
    def __init__(self, first: nn.Module, neuron: nn.Module, second: nn.Module) -> None:
        super().__init__()
        self.first, self.neuron, self.second = first, neuron, second

    def forward(self, x):
        current = self.first(x)  # [T, B, ...] real-valued input: MACs
        return self.second(self.neuron(current))


def test_linear_spikes_times_fanout():
    first = nn.Linear(4, 6, bias=False)
    with torch.no_grad():
        first.weight.copy_(torch.eye(6, 4) * 5.0)  # neuron j receives 5 * x_j
    model = _Chain(first, LIF(tau=2.0, decay_input=False), nn.Linear(6, 3))
    x = torch.tensor([[[1.0, 0.0, 0.3, 0.0]], [[0.5, 0.0, 0.0, 0.1]]])  # [T=2, B=1, 4]
    ops = count_ops(model, x, batch_size=1)
    # currents 5x: neuron 0 fires at both steps, neuron 2 at step 0 only (1.5, then 0)
    second = ops[1]
    assert second.spike_input
    assert second.input_spikes == 3.0
    assert second.acs == 3.0 * 3
    assert second.macs == 0
    assert ops[0].macs == 2 * 4 * 6 and not ops[0].spike_input


def test_conv_fanout_counts_borders_exactly():
    conv = nn.Conv2d(1, 2, 3, padding=1, bias=False)
    spikes = torch.zeros(1, 1, 1, 4, 4)
    spikes[..., 0, 0] = 1.0  # a corner spike reaches 2 x 2 output positions
    spikes[..., 1, 1] = 1.0  # an inner spike reaches 3 x 3
    ops = count_ops(nn.Sequential(nn.Flatten(0, 1), conv), spikes)
    assert ops[0].spike_input
    assert ops[0].acs == (4 + 9) * 2
    assert ops[0].dense_macs == 2 * 16 * 9


def test_integer_neuron_counts_unrolled_spikes():
    neuron = NILIF(D=4)
    model = _Chain(nn.Identity(), neuron, nn.Linear(3, 2, bias=False))
    x = torch.tensor([[[3.2, 0.0, 9.0]]])  # q = 3, 0, 4 -> 7 binary spikes
    ops = count_ops(model, x, batch_size=1)
    linear = next(op for op in ops if op.name == "second")
    assert linear.input_spikes == 7
    assert linear.acs == 7 * 2


def test_spike_matmul_counts_attention_product():
    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.neuron = LIF(tau=2.0, decay_input=False)
            self.product = SpikeMatmul()

        def forward(self, x, v):
            q = self.neuron(x)  # [T, B, L, d] spikes
            return self.product(q, v)

    x = torch.zeros(1, 1, 3, 4)
    x[0, 0, 0, :2] = 2.0
    x[0, 0, 2, 3] = 2.0  # 3 spikes
    v = torch.rand(1, 1, 4, 5)
    ops = count_ops(Attention(), x, v, batch_size=1)
    assert ops[0].layer_type == "SpikeMatmul"
    assert ops[0].acs == 3 * 5
    assert ops[0].dense_macs == 3 * 5 * 4


def test_energy_uses_cost_table_and_merges_calls():
    model = _Chain(nn.Linear(2, 2), LIF(), nn.Linear(2, 2))
    ops = merge_calls(count_ops(model, torch.ones(3, 1, 2), batch_size=1))
    costs = EnergyCosts(ac_pj=1.0, mac_pj=10.0)
    expected = sum(op.acs * 1.0 + op.macs * 10.0 for op in ops)
    assert total_energy_pj(ops, costs) == pytest.approx(expected)
    with pytest.raises(ValueError, match="non-negative"):
        EnergyCosts(ac_pj=-1.0)
