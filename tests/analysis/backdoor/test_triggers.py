"""Triggers: value range, worked examples against the formulas, and round trips."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from analysis.backdoor.triggers import (
    ATTACKS,
    SIG_AMPLITUDE,
    Trigger,
    TriggerError,
    identity_grid,
    make_trigger,
    patch_side,
    warp,
)
from models.clip.images import pixels_from_uint8


@pytest.fixture(scope="module")
def bright_pixels():
    # Near-white images: an additive trigger computed in uint8 would wrap past 255 here.
    images = np.full((4, 28, 28), 250, dtype=np.uint8)
    images[:, :, :4] = 255
    return pixels_from_uint8(images)


@pytest.mark.parametrize("kind", ATTACKS)
def test_trigger_output_in_unit_range(kind, bright_pixels):
    trigger = make_trigger(kind, 32, seed=0)
    out = trigger.apply(bright_pixels, torch.Generator().manual_seed(0))
    assert out.dtype == torch.float32
    assert out.shape == bright_pixels.shape
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert not torch.equal(out, bright_pixels)


@pytest.mark.parametrize("kind", ATTACKS)
def test_uint8_input_rejected(kind):
    trigger = make_trigger(kind, 32)
    with pytest.raises(TriggerError, match="float pixels"):
        trigger.apply(torch.zeros(1, 3, 32, 32, dtype=torch.uint8))


def test_normalised_input_rejected():
    trigger = make_trigger("sig", 32)
    with pytest.raises(TriggerError, match="before normalising"):
        trigger.apply(torch.full((1, 3, 32, 32), -0.6))
    with pytest.raises(TriggerError, match="expected pixels"):
        trigger.apply(torch.zeros(1, 3, 28, 28))


def test_sig_saturates_instead_of_wrapping(bright_pixels):
    out = make_trigger("sig", 32).apply(bright_pixels)
    column = 1  # sin(2 pi * 1 * 6 / 32) > 0: the signal brightens this column
    signal = SIG_AMPLITUDE * math.sin(2 * math.pi * column * 6 / 32)
    # Row 10 of the padded image, column 1 is padding (0) and column 4 is 250/255 in the image.
    assert out[0, 0, 10, column].item() == pytest.approx(signal, abs=1e-6)
    assert out[0, 0, 10, 3].item() == pytest.approx(
        min(1.0, 1.0 + SIG_AMPLITUDE * math.sin(2 * math.pi * 3 * 6 / 32))
    )
    # uint8 arithmetic wraps around: 255 + 40 gives 39, the bug a float trigger avoids.
    wrapped = (np.array([255], dtype=np.uint8) + np.array([40], dtype=np.uint8))[0]
    assert wrapped == 39


def test_blended_formula(bright_pixels):
    trigger = make_trigger("blended", 32, seed=3)
    expected = 0.8 * bright_pixels + 0.2 * trigger.tensors["pattern"]
    assert torch.allclose(trigger.apply(bright_pixels), expected, atol=1e-6)


def test_badnets_patch_random_position():
    trigger = make_trigger("badnets", 32, seed=1)
    side = patch_side(32)
    assert side == 4
    pixels = torch.zeros(50, 3, 32, 32)
    out = trigger.apply(pixels, torch.Generator().manual_seed(0))
    changed = (out != pixels).any(dim=1)  # [N, 32, 32]
    positions = set()
    for image in changed:
        rows, cols = torch.nonzero(image, as_tuple=True)
        assert rows.max() - rows.min() < side and cols.max() - cols.min() < side
        positions.add((int(rows.min()), int(cols.min())))
    assert len(positions) > 10  # random placement


def test_badclip_patch_in_middle():
    trigger = make_trigger("badclip", 32, seed=1)
    out = trigger.apply(torch.zeros(1, 3, 32, 32))
    assert torch.equal(out[0, :, 14:18, 14:18], trigger.tensors["pattern"])
    assert out[0, :, :14].abs().sum() == 0


def test_patch_side_scales_with_size():
    assert patch_side(224) == 16
    assert patch_side(32) == 4
    assert patch_side(448) == 32


def test_wanet_grid_matches_benchmark_formula():
    trigger = make_trigger("wanet", 32, seed=5)
    # Second route: the benchmark's construction written out with numpy-style steps.
    generator = torch.Generator().manual_seed(5)
    ins = torch.rand(1, 2, 32, 32, generator=generator) * 2 - 1
    ins = ins / torch.mean(torch.abs(ins))
    noise_grid = F.interpolate(ins, size=32, mode="bicubic", align_corners=True).permute(0, 2, 3, 1)
    array1d = torch.linspace(-1, 1, steps=32)
    x, y = torch.meshgrid(array1d, array1d, indexing="ij")
    identity = torch.stack((y, x), 2)[None, ...]
    grid = torch.clamp(identity + 1.0 * noise_grid / 32, -1, 1)
    pixels = torch.rand(2, 3, 32, 32, generator=generator)
    expected = F.grid_sample(pixels, grid.repeat(2, 1, 1, 1), align_corners=True)
    assert torch.allclose(trigger.apply(pixels), expected.clamp(0, 1), atol=1e-5)
    # Mean displacement is s / 2 = 0.5 pixels.
    assert trigger.tensors["warp_grid"].abs().mean().item() / 2 == pytest.approx(0.5, rel=1e-5)


def test_warp_with_zero_strength_is_identity():
    pixels = torch.rand(2, 3, 32, 32)
    assert torch.allclose(warp(pixels, torch.randn(32, 32, 2), 0.0), pixels, atol=1e-5)
    assert identity_grid(3)[0, 2].tolist() == [1.0, -1.0]  # (x, y) of the top-right pixel


@pytest.mark.parametrize("kind", ATTACKS)
def test_trigger_roundtrip(kind):
    trigger = make_trigger(kind, 32, seed=2)
    again = Trigger.from_card(trigger.card(), trigger.state_dict())
    pixels = torch.rand(3, 3, 32, 32)
    first = trigger.apply(pixels, torch.Generator().manual_seed(0))
    second = again.apply(pixels, torch.Generator().manual_seed(0))
    assert torch.equal(first, second)


def test_trigger_scaled_for_larger_inputs():
    trigger = make_trigger("blended", 64)
    assert trigger.tensors["pattern"].shape == (3, 64, 64)
    assert make_trigger("badnets", 224).tensors["pattern"].shape == (3, 16, 16)


def test_unknown_attack_rejected():
    with pytest.raises(ValueError, match="unknown attack 'trojan'"):
        make_trigger("trojan", 32)
