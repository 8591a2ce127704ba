"""Class-wise prompts: they reproduce encode_text and train only their context."""

from __future__ import annotations

import pytest
import torch

from models.clip.model import new_fashion_clip
from models.clip.prompts import ClassWisePrompts, encode_text_embeddings


@pytest.fixture(scope="module")
def bundle():
    return new_fashion_clip(seed=3)[0]


def test_initial_prompts_equal_hand_prompt(bundle):
    prompts = ClassWisePrompts(
        bundle.model, bundle.tokenizer, bundle.class_names, 4, "a photo of a"
    )
    with torch.no_grad():
        expected = bundle.encode_captions([f"a photo of a {name}." for name in bundle.class_names])
        assert torch.allclose(prompts(), expected, atol=1e-6)


def test_embeddings_path_equals_encode_text(bundle):
    tokens = bundle.tokenizer(["a blurry photo of a coat.", "an image of a bag."])
    with torch.no_grad():
        direct = bundle.model.encode_text(tokens, normalize=True)
        via_embeddings = encode_text_embeddings(
            bundle.model, bundle.model.token_embedding(tokens), tokens
        )
    assert torch.allclose(direct, via_embeddings, atol=1e-6)


def test_only_context_receives_gradient(bundle):
    model = bundle.model
    model.requires_grad_(False)
    try:
        prompts = ClassWisePrompts(
            model, bundle.tokenizer, bundle.class_names, 4, None, torch.Generator().manual_seed(0)
        )
        assert [name for name, _ in prompts.named_parameters()] == ["context"]
        loss = prompts()[2].sum()
        loss.backward()
        grad = prompts.context.grad
        assert grad is not None
        # Each class's prompt is encoded alone, so only class 2's context gets a gradient.
        assert grad[2].abs().sum() > 0
        assert grad[[0, 1, 3]].abs().sum() == 0
        assert all(p.grad is None for p in model.parameters())
    finally:
        model.requires_grad_(True)


def test_gradient_matches_finite_difference(bundle):
    prompts = ClassWisePrompts(
        bundle.model,
        bundle.tokenizer,
        bundle.class_names,
        2,
        None,
        torch.Generator().manual_seed(1),
    )
    prompts.double()
    bundle_model = bundle.model.double()
    try:
        direction = torch.randn_like(prompts.context)
        target = torch.randn(prompts().shape, dtype=torch.float64)

        def objective() -> torch.Tensor:
            return (prompts() * target).sum()

        prompts.context.grad = None
        objective().backward()
        analytic = (prompts.context.grad * direction).sum().item()
        eps = 1e-6
        with torch.no_grad():
            prompts.context += eps * direction
            plus = objective().item()
            prompts.context -= 2 * eps * direction
            minus = objective().item()
            prompts.context += eps * direction
        assert analytic == pytest.approx((plus - minus) / (2 * eps), rel=1e-4, abs=1e-8)
    finally:
        bundle_model.float()


def test_state_dict_holds_only_context(bundle):
    prompts = ClassWisePrompts(
        bundle.model, bundle.tokenizer, bundle.class_names, 4, "a photo of a"
    )
    assert list(prompts.state_dict()) == ["context"]
    assert prompts.context.shape == (10, 4, bundle.model.token_embedding.embedding_dim)


def test_init_text_must_match_context_length(bundle):
    with pytest.raises(ValueError, match="has 4 tokens but n_context is 3"):
        ClassWisePrompts(bundle.model, bundle.tokenizer, bundle.class_names, 3, "a photo of a")


def test_prompt_longer_than_context_rejected(bundle):
    with pytest.raises(ValueError, match="context length is 24"):
        ClassWisePrompts(bundle.model, bundle.tokenizer, bundle.class_names, 22, None)
