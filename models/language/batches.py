"""Token streams, training windows and the masked-language-model corruption."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from data.bpe import EOS_ID, MASK_ID, SPECIAL_TOKENS, BPETokenizer

MASK_PROBABILITY = 0.15  # BERT's rate of corrupted positions
# Of the corrupted positions, BERT replaces 80 % with [MASK], 10 % with a random token and
# leaves 10 % unchanged.
MASK_REPLACE, RANDOM_REPLACE = 0.8, 0.1
IGNORE_INDEX = -100  # targets that the loss skips (torch's cross-entropy default)


def token_stream(tokenizer: BPETokenizer, documents: Sequence[str]) -> torch.Tensor:
    """Encode documents into one int64 stream with ``[EOS]`` after each document."""
    ids: list[int] = []
    for document in documents:
        ids += tokenizer.encode(document)
        ids.append(EOS_ID)
    return torch.tensor(ids, dtype=torch.long)


def random_windows(
    stream: torch.Tensor, count: int, length: int, generator: torch.Generator
) -> torch.Tensor:
    """Return ``count`` windows ``[count, length]`` starting at uniform random offsets.

    Raises:
        ValueError: the stream is shorter than one window.
    """
    if stream.numel() < length:
        raise ValueError(
            f"token stream of {stream.numel()} tokens is shorter than one window of {length}"
        )
    starts = torch.randint(0, stream.numel() - length + 1, (count,), generator=generator)
    return torch.stack([stream[start : start + length] for start in starts.tolist()])


def tiled_windows(stream: torch.Tensor, length: int) -> torch.Tensor:
    """Cut the stream into non-overlapping windows ``[N, length]``, dropping the remainder."""
    count = stream.numel() // length
    return stream[: count * length].view(count, length)


def mask_tokens(
    tokens: torch.Tensor,
    vocab_size: int,
    generator: torch.Generator,
    probability: float = MASK_PROBABILITY,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Corrupt ``tokens`` ``[B, L]`` for masked-language modelling.

    Each position is chosen with ``probability`` (at least one per row); chosen positions get
    ``[MASK]`` (80 %), a random non-special token (10 %) or stay (10 %).

    Returns:
        ``(inputs, targets)``: the corrupted ids, and the original ids at chosen positions with
        ``IGNORE_INDEX`` elsewhere.
    """
    batch, length = tokens.shape
    chosen = torch.rand(batch, length, generator=generator) < probability
    forced = torch.randint(0, length, (batch,), generator=generator)
    chosen[torch.arange(batch), forced] |= ~chosen.any(dim=1)
    action = torch.rand(batch, length, generator=generator)
    inputs = tokens.clone()
    inputs[chosen & (action < MASK_REPLACE)] = MASK_ID
    random_slots = chosen & (action >= MASK_REPLACE) & (action < MASK_REPLACE + RANDOM_REPLACE)
    random_ids = torch.randint(
        len(SPECIAL_TOKENS), vocab_size, (batch, length), generator=generator
    )
    inputs[random_slots] = random_ids[random_slots]
    targets = torch.where(chosen, tokens, torch.full_like(tokens, IGNORE_INDEX))
    return inputs, targets


def causal_pair(windows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Split windows ``[B, L + 1]`` into inputs ``[B, L]`` and next-token targets ``[B, L]``."""
    return windows[:, :-1], windows[:, 1:]
