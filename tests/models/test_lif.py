"""LIF and PLIF against SpikingJelly and against the update equations written out by hand."""

import itertools
import math

import pytest
import torch

from models.neurons import LIF, PLIF, atan_grad, spike_atan

sj_neuron = pytest.importorskip("spikingjelly.activation_based.neuron")
sj_surrogate = pytest.importorskip("spikingjelly.activation_based.surrogate")

COMBINATIONS = list(itertools.product([None, 0.0, 0.5], [True, False], [True, False]))


def _inputs(seed: int, shape=(8, 3, 17)) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=generator) * 1.5 + 0.4


@pytest.mark.parametrize(("v_reset", "decay_input", "detach_reset"), COMBINATIONS)
def test_lif_matches_spikingjelly(v_reset, decay_input, detach_reset):
    x_ours = _inputs(0).requires_grad_()
    x_peer = x_ours.detach().clone().requires_grad_()
    ours = LIF(tau=2.0, v_reset=v_reset, decay_input=decay_input, detach_reset=detach_reset)
    ours.record = True
    peer = sj_neuron.LIFNode(
        tau=2.0,
        v_reset=v_reset,
        decay_input=decay_input,
        detach_reset=detach_reset,
        surrogate_function=sj_surrogate.ATan(),
        step_mode="m",
        store_v_seq=True,
    )
    spk_ours = ours(x_ours)
    spk_peer = peer(x_peer)
    weights = torch.randn(spk_ours.shape, generator=torch.Generator().manual_seed(1))
    (spk_ours * weights).sum().backward()
    (spk_peer * weights).sum().backward()

    assert torch.equal(spk_ours, spk_peer)
    assert spk_ours.sum() > 0, "the input should make some neurons fire"
    torch.testing.assert_close(ours.records["v"], peer.v_seq, atol=1e-6, rtol=0)
    torch.testing.assert_close(x_ours.grad, x_peer.grad, atol=1e-6, rtol=1e-5)


def test_lif_hand_computed_steps():
    # tau = 2, decay_input, hard reset to 0: H = V + (X - V) / 2
    lif = LIF(tau=2.0, v_reset=0.0, decay_input=True)
    lif.record = True
    x = torch.tensor([1.5, 0.5, 2.5, 0.4]).view(4, 1, 1)
    spk = lif(x).flatten()
    mem = lif.records["mem"].flatten()
    expected_h = [0.75, 0.625, 1.5625, 0.2]  # the reset after step 2 brings V back to 0
    torch.testing.assert_close(mem, torch.tensor(expected_h))
    assert spk.tolist() == [0.0, 0.0, 1.0, 0.0]


def test_lif_soft_reset_subtracts_threshold():
    lif = LIF(tau=2.0, v_reset=None, decay_input=False, v_threshold=1.0)
    lif.record = True
    x = torch.tensor([1.6, 0.0]).view(2, 1, 1)
    lif(x)
    # H0 = 1.6 fires, V0 = 0.6; H1 = 0.6 - 0.6 / 2 + 0 = 0.3
    torch.testing.assert_close(lif.records["v"].flatten(), torch.tensor([0.6, 0.3]))


def test_lif_gradient_finite_near_threshold():
    x = torch.full((1, 4, 1), 2.0, requires_grad=True)  # H = 1.0, exactly at the threshold
    spk = LIF(tau=2.0)(x)
    spk.sum().backward()
    assert torch.isfinite(x.grad).all()
    # dS/dH = alpha / 2 = 1 at the threshold, and dH/dX = 1 / tau
    torch.testing.assert_close(x.grad, torch.full_like(x, 0.5))


def test_lif_rejects_tau_at_most_one():
    with pytest.raises(ValueError, match="tau must be greater than 1"):
        LIF(tau=1.0)


def test_atan_surrogate_shape():
    x = torch.linspace(-3, 3, 61, requires_grad=True)
    spike_atan(x).sum().backward()
    expected = 1.0 / (1 + (math.pi / 2 * 2.0 * x.detach()) ** 2)
    torch.testing.assert_close(x.grad, expected)
    assert (x.grad > 0).all()
    assert x.grad.max() == pytest.approx(1.0)
    torch.testing.assert_close(atan_grad(torch.tensor(0.0), alpha=4.0), torch.tensor(2.0))


def test_plif_matches_spikingjelly_and_learns_tau():
    x_ours = _inputs(2).requires_grad_()
    x_peer = x_ours.detach().clone().requires_grad_()
    ours = PLIF(init_tau=2.0, v_reset=0.0, detach_reset=True)
    peer = sj_neuron.ParametricLIFNode(
        init_tau=2.0,
        v_reset=0.0,
        detach_reset=True,
        surrogate_function=sj_surrogate.ATan(),
        step_mode="m",
    )
    spk_ours = ours(x_ours)
    spk_peer = peer(x_peer)
    weights = torch.randn(spk_ours.shape, generator=torch.Generator().manual_seed(3))
    (spk_ours * weights).sum().backward()
    (spk_peer * weights).sum().backward()

    assert torch.equal(spk_ours, spk_peer)
    torch.testing.assert_close(x_ours.grad, x_peer.grad, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(ours.w.grad, peer.w.grad, atol=1e-5, rtol=1e-4)
    assert ours.tau == pytest.approx(2.0)


def test_plif_equals_lif_at_initial_tau():
    x = _inputs(4)
    assert torch.equal(PLIF(init_tau=3.0)(x), LIF(tau=3.0)(x))
