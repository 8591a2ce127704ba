"""A toy-budget run of the whole pipeline: poison the clean CLIP, invert, tune, and lower ASR."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from analysis.backdoor.attacks import PoisonConfig, poison_clip
from analysis.backdoor.evaluation import encode_test_set, score
from analysis.backdoor.inversion import InversionConfig, invert_trigger
from analysis.backdoor.prompt_tuning import PromptTuningConfig, tune_prompts
from analysis.backdoor.triggers import make_trigger
from data.fashion_mnist import load_split
from models.clip.model import load_clip_checkpoint
from models.clip.training import ContrastiveSchedule
from models.clip.zero_shot import class_text_features
from models.registry import checkpoint_stem
from tests.conftest import shared_path

TARGET = 8  # bag

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def poisoned_run():
    stem = checkpoint_stem("clip", "clean")
    if not stem.with_suffix(".safetensors").exists():
        pytest.skip("needs the shipped clean CLIP (glimpse train backdoor --stage clean)")
    root = shared_path("fashion-mnist")
    torch.manual_seed(0)
    clean, _, _ = load_clip_checkpoint(stem)
    train_images, train_labels = load_split(root, "train")
    test_images, test_labels = load_split(root, "test")
    rng = np.random.default_rng(0)
    pool = rng.permutation(len(train_labels))
    poison_index, shot_pool = pool[:2048], pool[2048:]
    test_index = rng.permutation(len(test_labels))[:600]

    # Toy poisoning: 10 % of 2,048 pairs carry the SIG stripes, one pass.
    bundle = copy.deepcopy(clean)
    trigger = make_trigger("sig", bundle.image_size, seed=0)
    schedule = ContrastiveSchedule(
        epochs=1, batch_size=64, lr=3e-4, warmup_steps=5, seed=0, log_every=10**9
    )
    poison_clip(
        bundle,
        trigger,
        train_images[poison_index],
        train_labels[poison_index],
        PoisonConfig(TARGET, 0.1, schedule),
    )
    encoded = encode_test_set(bundle, test_images[test_index], test_labels[test_index], trigger)
    with torch.no_grad():
        before = score(bundle, encoded, class_text_features(bundle), TARGET)

    # Toy defence: 8 shots per class.
    shots = np.concatenate([shot_pool[train_labels[shot_pool] == c][:8] for c in range(10)])
    inverted, history = invert_trigger(
        bundle, train_images[shots], InversionConfig(steps=150, batch_size=16)
    )
    prompts, _ = tune_prompts(
        bundle, train_images[shots], train_labels[shots], inverted, PromptTuningConfig(steps=150)
    )
    with torch.no_grad():
        after = score(bundle, encoded, prompts(), TARGET)
    return before, after, history


def test_poisoning_plants_backdoor(poisoned_run):
    before, _, _ = poisoned_run
    assert before["attack_success_rate"] > 0.5


def test_defence_lowers_asr(poisoned_run):
    # At this budget the CBPT-style defence lowers a saturated SIG backdoor by about 23
    # points (1.00 to 0.77); it does not remove it, so the check asks for 10 points.
    before, after, _ = poisoned_run
    assert after["attack_success_rate"] < before["attack_success_rate"] - 0.10


def test_defence_keeps_clean_accuracy(poisoned_run):
    before, after, _ = poisoned_run
    assert after["clean_accuracy"] > before["clean_accuracy"] - 0.05


def test_inversion_shrinks_mask(poisoned_run):
    _, _, history = poisoned_run
    assert history["mask_mean"][-1] < history["mask_mean"][0]
