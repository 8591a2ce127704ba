"""A tiny language model with settled batch-norm statistics, shared by the language tests."""

from __future__ import annotations

import copy
from functools import cache

import torch

from models.language.config import LanguageModelConfig
from models.language.model import LanguageModel, build_model

VOCAB = 64
KINDS = [("wssa", "causal"), ("ssa", "causal"), ("softmax", "causal"), ("wssa", "masked")]


def tiny(attention: str = "wssa", objective: str = "causal", **overrides) -> LanguageModel:
    """Return a fresh copy of a tiny model (width 16, 2 layers, 2 heads, context 12) in
    evaluation mode; copies are cheap, so tests may train or modify them."""
    return copy.deepcopy(_build(attention, objective, tuple(sorted(overrides.items()))))


@cache
def _build(attention: str, objective: str, overrides: tuple) -> LanguageModel:
    torch.manual_seed(0)
    config = LanguageModelConfig(
        vocab_size=VOCAB,
        width=16,
        layers=2,
        heads=2,
        context=12,
        mlp_ratio=2,
        attention=attention,
        objective=objective,
        **dict(overrides),
    )
    model = build_model(config)
    # running statistics averaged over forward passes in training mode (momentum None is a
    # cumulative average), so that evaluation mode sees the batch statistics and neurons fire
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm1d):
            module.momentum = None
    tokens = torch.randint(0, VOCAB, (8, 12))
    model.train()
    with torch.no_grad():
        for _ in range(4):
            model(tokens)
    return model.eval()
