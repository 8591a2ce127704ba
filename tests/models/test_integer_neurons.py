"""ILIF, NILIF, ASN and NASN: equations by hand, straight-through gradients and spike inference."""

import math

import pytest
import torch
from torch import nn

from models.neurons import ASN, ILIF, NASN, NILIF, IntegerNeuron
from models.neurons.inference import spike_driven


def test_ilif_hand_computed_two_steps():
    neuron = ILIF(D=4, beta=0.5)
    neuron.record = True
    out = neuron(torch.tensor([2.6, 1.2]).view(2, 1, 1)).flatten()
    # U0 = 2.6 -> q0 = 3, H0 = 0.5 * (2.6 - 3) = -0.2; U1 = 1.0 -> q1 = 1
    assert out.tolist() == [3.0, 1.0]
    torch.testing.assert_close(neuron.records["mem"].flatten(), torch.tensor([2.6, 1.0]))


def test_ilif_clips_to_zero_and_d():
    out = ILIF(D=4)(torch.tensor([-3.0, 0.4, 0.6, 3.5, 9.0]).view(1, 1, 5))
    assert out.flatten().tolist() == [0.0, 0.0, 1.0, 4.0, 4.0]


def test_nilif_normalizes_output_and_residual():
    neuron = NILIF(D=4, beta=1.0)
    neuron.record = True
    out = neuron(torch.tensor([2.6, 0.0]).view(2, 1, 1)).flatten()
    # S0 = 3 / 4, H0 = U0 - 4 * S0 = -0.4, U1 = -0.4 -> q1 = 0
    torch.testing.assert_close(out, torch.tensor([0.75, 0.0]))
    torch.testing.assert_close(neuron.records["mem"].flatten(), torch.tensor([2.6, -0.4]))


def test_asn_window_shifts_with_alpha():
    neuron = ASN(D=4, alpha_init=-1.0)
    out = neuron(torch.tensor([-5.0, -1.2, 0.4, 2.6, 7.0]).view(1, 1, 5)).flatten()
    assert out.tolist() == [-1.0, -1.0, 0.0, 3.0, 3.0]
    assert neuron.clip_window == (-1.0, 3.0)


def test_nasn_output_is_asn_over_d():
    x = torch.randn(1, 2, 10, generator=torch.Generator().manual_seed(0)) * 3
    asn, nasn = ASN(D=4, alpha_init=0.5), NASN(D=4, alpha_init=0.5)
    torch.testing.assert_close(nasn(x), asn(x) / 4)


def test_straight_through_gradients():
    neuron = ASN(D=4, alpha_init=0.0, grad_scale=1.0)
    u = torch.tensor([-1.0, 0.2, 2.0, 3.9, 4.0, 5.5]).view(1, 1, 6).requires_grad_()
    neuron(u).sum().backward()
    # dq/dU = 1 inside [alpha, alpha + D] = [0, 4], else 0
    assert u.grad.flatten().tolist() == [0.0, 1.0, 1.0, 1.0, 1.0, 0.0]
    # dq/dalpha = 1 for each entry outside the window, summed, times the gradient scale
    assert neuron.alpha.grad.item() == pytest.approx(2.0)


def test_alpha_gradient_scale_and_normalization():
    u = torch.tensor([-2.0, 1.0, 9.0]).view(1, 1, 3).requires_grad_()
    neuron = NASN(D=4, alpha_init=0.0, grad_scale=0.1)
    (neuron(u) * torch.tensor([1.0, 2.0, 3.0]).view(1, 1, 3)).sum().backward()
    # dS/dU = 1 / N inside; dS/dalpha = (1 + 3) outside-entries weighted, / N, times 0.1
    torch.testing.assert_close(u.grad.flatten(), torch.tensor([0.0, 0.5, 0.0]))
    assert neuron.alpha.grad.item() == pytest.approx(0.1 * (1.0 + 3.0) / 4)


def test_default_gradient_scale_is_lsq():
    neuron = ASN(D=4)
    x = torch.full((1, 2, 25), 10.0)
    assert neuron._scale(x) == pytest.approx(1 / math.sqrt(25 * 4))


def test_gradients_finite_and_nonzero_near_rounding_edges():
    x = torch.tensor([0.49, 0.5, 0.51, 3.99]).view(1, 1, 4).requires_grad_()
    NASN(D=4)(x).sum().backward()
    assert torch.isfinite(x.grad).all()
    assert (x.grad != 0).all()


@pytest.mark.parametrize("kind", [ILIF, NILIF, ASN, NASN])
def test_unroll_sums_back_for_integer_alpha(kind):
    neuron = kind(D=4) if kind in (ILIF, NILIF) else kind(D=4, alpha_init=-1.0)
    x = torch.randn(2, 3, 20, generator=torch.Generator().manual_seed(5)) * 3
    spk = neuron(x)
    binary, constant, scale = neuron.unroll(spk)
    assert binary.shape == (2, 4, 3, 20)
    assert set(binary.unique().tolist()) <= {0.0, 1.0}
    torch.testing.assert_close(scale * (binary.sum(1) + constant), spk, atol=0, rtol=0)


@pytest.mark.parametrize("kind", [NILIF, NASN])
def test_next_layer_input_identical_both_ways_linear_and_conv(kind):
    torch.manual_seed(0)
    neuron = kind(D=4) if kind is NILIF else kind(D=4, alpha_init=1.0)
    spk = neuron(torch.randn(1, 2, 3, 6, 6) * 3)
    binary, constant, scale = neuron.unroll(spk)
    conv = nn.Conv2d(3, 5, 3, padding=1)
    linear = nn.Linear(3 * 36, 7)
    # the integer path, and the spike path that only ever feeds binary maps to the layer
    torch.testing.assert_close(
        spike_driven(conv, binary, constant, scale),
        conv(spk.flatten(0, 1)).unsqueeze(0),
        atol=1e-5,
        rtol=1e-5,
    )
    flat_binary = binary.flatten(3)
    torch.testing.assert_close(
        spike_driven(linear, flat_binary, constant, scale),
        linear(spk.flatten(2)),
        atol=1e-5,
        rtol=1e-5,
    )


def test_non_integer_alpha_literal_window_differs_only_on_clipped_entries():
    neuron = ASN(D=4, alpha_init=0.3)
    u = torch.tensor([-2.0, 0.6, 1.4, 2.5, 3.6, 9.0]).view(1, 1, 6)
    spk = neuron(u)  # literal Eq. 7: {0.3, 1, 1, 2 or 3, 4, 4.3}
    assert spk.flatten()[0].item() == pytest.approx(0.3)
    assert spk.flatten()[-1].item() == pytest.approx(4.3)
    binary, constant, scale = neuron.unroll(spk)
    assert constant == 1.0  # ceil(alpha)
    unrolled = scale * (binary.sum(1) + constant)
    difference = (unrolled - spk).flatten()
    clipped = torch.tensor([True, False, False, False, False, True])
    assert torch.all(difference[~clipped] == 0)
    torch.testing.assert_close(difference[clipped], torch.tensor([0.7, 0.7]))


def test_non_integer_alpha_shifted_window_is_exact():
    neuron = NASN(D=4, alpha_init=0.3, window="shifted")
    spk = neuron(torch.randn(1, 4, 50, generator=torch.Generator().manual_seed(1)) * 4)
    binary, constant, scale = neuron.unroll(spk)
    assert constant == pytest.approx(0.3)
    torch.testing.assert_close(scale * (binary.sum(1) + constant), spk, atol=1e-6, rtol=0)


def test_invalid_settings_are_rejected():
    with pytest.raises(ValueError, match="D must be a positive integer"):
        IntegerNeuron(D=0)
    with pytest.raises(ValueError, match="window must be"):
        IntegerNeuron(window="wide")
    with pytest.raises(ValueError, match="beta must lie"):
        IntegerNeuron(beta=1.5)
