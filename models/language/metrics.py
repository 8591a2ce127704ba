"""Validation metrics: perplexity and bits per byte (causal), masked-token accuracy and
perplexity (masked).

Perplexity is ``exp`` of the mean cross-entropy in nats over the predicted tokens. Bits per
byte divide the summed cross-entropy, in bits, by the UTF-8 bytes of the predicted tokens, a
number that does not depend on the vocabulary.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from data.bpe import SPECIAL_TOKENS, BPETokenizer
from models.language.batches import IGNORE_INDEX, causal_pair, mask_tokens, tiled_windows
from models.language.model import LanguageModel

EVAL_BATCH = 32
MASK_SEED = 1234  # fixed corruption of the validation windows, the same for every model


def token_bytes(tokenizer: BPETokenizer) -> torch.Tensor:
    """Return the UTF-8 byte length of each token id ``[V]`` (0 for special tokens)."""
    lengths = torch.zeros(tokenizer.vocab_size, dtype=torch.long)
    for token_id in range(len(SPECIAL_TOKENS), tokenizer.vocab_size):
        token = tokenizer.tokenizer.id_to_token(token_id)
        lengths[token_id] = len(token or "")  # the byte-level alphabet has one symbol per byte
    return lengths


@torch.no_grad()
def evaluate_causal(
    model: LanguageModel,
    stream: torch.Tensor,
    byte_lengths: torch.Tensor | None = None,
    max_windows: int = 0,
) -> dict[str, float]:
    """Return ``loss``, ``perplexity``, ``tokens`` and (with ``byte_lengths``) ``bits_per_byte``
    over non-overlapping windows of ``context + 1`` tokens of ``stream``.

    Args:
        model: a causal model; it is put in eval mode.
        stream: validation token ids ``[N]``.
        byte_lengths: bytes per token id, from :func:`token_bytes`.
        max_windows: evaluate only the first windows (0 for all).
    """
    model.eval()
    windows = tiled_windows(stream, model.config.context + 1)
    if max_windows:
        windows = windows[:max_windows]
    total_nats, total_tokens, total_bytes = 0.0, 0, 0
    for batch in windows.split(EVAL_BATCH):
        inputs, targets = causal_pair(batch)
        logits = model(inputs)
        nats = F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="sum"
        )
        total_nats += float(nats)
        total_tokens += targets.numel()
        if byte_lengths is not None:
            total_bytes += int(byte_lengths[targets].sum())
    loss = total_nats / max(total_tokens, 1)
    metrics = {"loss": loss, "perplexity": math.exp(loss), "tokens": float(total_tokens)}
    if byte_lengths is not None and total_bytes:
        metrics["bits_per_byte"] = total_nats / math.log(2) / total_bytes
    return metrics


@torch.no_grad()
def evaluate_masked(
    model: LanguageModel, stream: torch.Tensor, max_windows: int = 0
) -> dict[str, float]:
    """Return ``loss``, ``perplexity``, ``accuracy`` and ``tokens`` over the corrupted positions
    of non-overlapping ``context``-token windows, corrupted with the fixed seed ``MASK_SEED``.

    Accuracy is the share of corrupted positions whose arg-max prediction is the original token.
    """
    model.eval()
    windows = tiled_windows(stream, model.config.context)
    if max_windows:
        windows = windows[:max_windows]
    generator = torch.Generator().manual_seed(MASK_SEED)
    total_nats, total_tokens, correct = 0.0, 0, 0
    for batch in windows.split(EVAL_BATCH):
        inputs, targets = mask_tokens(batch, model.config.vocab_size, generator)
        logits = model(inputs)
        chosen = targets != IGNORE_INDEX
        picked = logits[chosen]
        truth = targets[chosen]
        total_nats += float(F.cross_entropy(picked, truth, reduction="sum"))
        total_tokens += int(chosen.sum())
        correct += int((picked.argmax(dim=-1) == truth).sum())
    loss = total_nats / max(total_tokens, 1)
    return {
        "loss": loss,
        "perplexity": math.exp(loss),
        "accuracy": correct / max(total_tokens, 1),
        "tokens": float(total_tokens),
    }


def evaluate(
    model: LanguageModel,
    stream: torch.Tensor,
    byte_lengths: torch.Tensor | None = None,
    max_windows: int = 0,
) -> dict[str, float]:
    """Return the metrics of the model's objective (see the two functions above)."""
    if model.config.causal:
        return evaluate_causal(model, stream, byte_lengths, max_windows)
    return evaluate_masked(model, stream, max_windows)
