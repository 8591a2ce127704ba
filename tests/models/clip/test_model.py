"""Small CLIP: logit scale, pixel preparation, zero-shot features and checkpoint round trips."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from models.clip.captions import TEMPLATES
from models.clip.images import normalize_pixels, pixels_from_uint8, pixels_to_uint8
from models.clip.model import (
    MAX_LOGIT_SCALE,
    clamp_logit_scale_,
    clip_card_config,
    load_clip_checkpoint,
    logit_scale_value,
    new_fashion_clip,
)
from models.clip.training import ContrastiveSchedule, contrastive_train
from models.clip.zero_shot import class_text_features, logits_from_features
from models.registry import CheckpointError, save_checkpoint


@pytest.fixture(scope="module")
def fresh():
    return new_fashion_clip(seed=0)


def test_parameter_count_under_budget(fresh):
    bundle, _ = fresh
    count = sum(p.numel() for p in bundle.model.parameters())
    # Six fp16 copies must fit 10 MB with room for the defence tensors.
    assert 300_000 < count < 700_000


def test_logit_scale_is_exp_of_parameter(fresh):
    bundle, _ = fresh
    model = bundle.model
    with torch.no_grad():
        model.logit_scale.fill_(math.log(20.0))
    assert logit_scale_value(model).item() == pytest.approx(20.0, rel=1e-6)
    with torch.no_grad():
        model.logit_scale.fill_(math.log(1 / 0.07))
    assert logit_scale_value(model).item() == pytest.approx(1 / 0.07, rel=1e-6)


def test_logit_scale_clamped_at_100(fresh):
    bundle, _ = fresh
    model = bundle.model
    original = model.logit_scale.detach().clone()
    try:
        with torch.no_grad():
            model.logit_scale.fill_(math.log(500.0))
        assert logit_scale_value(model).item() == pytest.approx(MAX_LOGIT_SCALE)
        clamp_logit_scale_(model)
        assert model.logit_scale.item() == pytest.approx(math.log(100.0))
        with torch.no_grad():
            model.logit_scale.fill_(-1.0)
        clamp_logit_scale_(model)
        assert model.logit_scale.item() == 0.0
    finally:
        with torch.no_grad():
            model.logit_scale.copy_(original)


def test_logit_scale_gradient(fresh):
    bundle, _ = fresh
    model = bundle.model
    original = model.logit_scale.detach().clone()
    try:
        # Below the clamp: d exp(p) / dp = exp(p).
        with torch.no_grad():
            model.logit_scale.fill_(math.log(30.0))
        model.logit_scale.grad = None
        logit_scale_value(model).backward()
        assert model.logit_scale.grad.item() == pytest.approx(30.0, rel=1e-5)
        # Above the clamp the multiplier is constant, so the gradient is zero.
        with torch.no_grad():
            model.logit_scale.fill_(math.log(200.0))
        model.logit_scale.grad = None
        logit_scale_value(model).backward()
        assert model.logit_scale.grad.item() == 0.0
    finally:
        model.logit_scale.grad = None
        with torch.no_grad():
            model.logit_scale.copy_(original)


def test_training_step_keeps_scale_in_range():
    bundle, _ = new_fashion_clip(seed=1)
    with torch.no_grad():
        bundle.model.logit_scale.fill_(math.log(100.0) - 1e-4)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(16, 28, 28), dtype=np.uint8)
    labels = np.arange(16) % 10
    schedule = ContrastiveSchedule(epochs=1, batch_size=8, lr=0.5, warmup_steps=1)
    losses = contrastive_train(bundle, images, labels, schedule)
    assert len(losses) == 2
    assert 0.0 <= bundle.model.logit_scale.item() <= math.log(100.0) + 1e-6


def test_pixels_padded_and_copied():
    images = np.arange(2 * 28 * 28, dtype=np.int64).reshape(2, 28, 28) % 256
    pixels = pixels_from_uint8(images.astype(np.uint8))
    assert pixels.shape == (2, 3, 32, 32)
    assert pixels[:, :, :2].abs().sum() == 0 and pixels[:, :, :, 30:].abs().sum() == 0
    expected = torch.full((3,), images[1, 5, 7] / 255.0)
    assert torch.allclose(pixels[1, :, 7, 9], expected)
    assert pixels.min() >= 0 and pixels.max() <= 1


def test_pixel_offsets_shift_image():
    images = np.zeros((1, 28, 28), dtype=np.uint8)
    images[0, 0, 0] = 255
    shifted = pixels_from_uint8(images, offsets=torch.tensor([[0, 4]]))
    assert shifted[0, 0, 0, 4] == 1.0
    with pytest.raises(ValueError, match="offsets"):
        pixels_from_uint8(images, offsets=torch.tensor([[0, 5]]))


def test_pixels_resized_for_larger_models():
    images = np.full((1, 28, 28), 255, dtype=np.uint8)
    pixels = pixels_from_uint8(images, image_size=64)
    assert pixels.shape == (1, 3, 64, 64)
    assert pixels[0, 0, 32, 32] == pytest.approx(1.0)
    assert pixels[0, 0, 0, 0] == pytest.approx(0.0)


def test_pixels_reject_wrong_input():
    with pytest.raises(ValueError, match="uint8"):
        pixels_from_uint8(np.zeros((1, 28, 28), dtype=np.float32))
    with pytest.raises(ValueError, match="28, 28"):
        pixels_from_uint8(np.zeros((1, 32, 32), dtype=np.uint8))


def test_normalize_and_back():
    pixels = torch.rand(2, 3, 4, 4)
    out = normalize_pixels(pixels, (0.5, 0.25, 0.0), (0.5, 0.5, 2.0))
    assert torch.allclose(out[:, 1], (pixels[:, 1] - 0.25) / 0.5)
    assert pixels_to_uint8(torch.ones(1, 3, 2, 2)).max() == 255


def test_zero_shot_features_average_templates(fresh):
    bundle, _ = fresh
    with torch.no_grad():
        features = class_text_features(bundle)
        # Second route: encode each caption, average per class, normalise.
        name = bundle.class_names[3]
        single = bundle.encode_captions([t.format(name) for t in TEMPLATES])
        expected = F.normalize(single.mean(0), dim=-1)
    assert features.shape == (10, bundle.embed_dim)
    assert torch.allclose(features[3], expected, atol=1e-6)


def test_logits_use_scale(fresh):
    bundle, _ = fresh
    image = F.normalize(torch.randn(2, bundle.embed_dim), dim=-1)
    text = F.normalize(torch.randn(3, bundle.embed_dim), dim=-1)
    logits = logits_from_features(bundle, image, text)
    assert torch.allclose(logits, bundle.model.logit_scale.exp() * image @ text.T)


def test_checkpoint_roundtrip(tmp_path, fresh):
    bundle, config = fresh
    card = {
        "name": "roundtrip",
        "area": "clip",
        "architecture": "test",
        "config": clip_card_config(bundle, config),
        "data": "none",
        "command": "test",
        "metrics": {},
        "seed": 0,
        "commit": "test",
    }
    extra = {"trigger.pattern": torch.rand(3, 4, 4)}
    save_checkpoint(tmp_path / "roundtrip", {**bundle.model.state_dict(), **extra}, card)
    loaded, loaded_card, loaded_extra = load_clip_checkpoint(tmp_path / "roundtrip")
    assert set(loaded_extra) == {"trigger.pattern"}
    assert loaded_card["name"] == "roundtrip"
    pixels = torch.rand(3, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(loaded.encode_pixels(pixels), bundle.encode_pixels(pixels), atol=1e-6)
        assert torch.allclose(class_text_features(loaded), class_text_features(bundle), atol=1e-6)


def test_checkpoint_shape_mismatch_named(tmp_path, fresh):
    bundle, config = fresh
    card_config = clip_card_config(bundle, config)
    card_config["model"]["vision_width"] = 64  # the weights were made with width 96
    card = {
        "name": "mismatch",
        "area": "clip",
        "architecture": "test",
        "config": card_config,
        "data": "none",
        "command": "glimpse train backdoor --stage clean",
        "metrics": {},
        "seed": 0,
        "commit": "test",
    }
    save_checkpoint(tmp_path / "mismatch", bundle.model.state_dict(), card)
    with pytest.raises(CheckpointError, match="shape mismatch"):
        load_clip_checkpoint(tmp_path / "mismatch")


def test_checkpoint_unknown_config_key(tmp_path, fresh):
    bundle, config = fresh
    card_config = clip_card_config(bundle, config)
    card_config["model"]["depth"] = 3
    card = {
        "name": "unknown",
        "area": "clip",
        "architecture": "test",
        "config": card_config,
        "data": "none",
        "command": "test",
        "metrics": {},
        "seed": 0,
        "commit": "test",
    }
    save_checkpoint(tmp_path / "unknown", bundle.model.state_dict(), card)
    with pytest.raises(CheckpointError, match="unknown CLIP config keys \\['depth'\\]"):
        load_clip_checkpoint(tmp_path / "unknown")
