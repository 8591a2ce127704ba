"""From user text to model inputs, and what the models predict on it.

Behaviour on awkward input (the dashboard shows each case as a message):

- empty or whitespace-only text raises :class:`InputError`;
- text longer than the context keeps its first ``context`` tokens (``truncated`` is set);
- control characters are removed, and characters never seen in the tokenizer's training text
  are encoded as raw byte tokens and listed in ``report.unseen``;
- ``[MASK]`` placeholders become the mask token. The masked model predicts each of them; text
  made only of masks is accepted and predicted from the positions alone. The causal model never
  saw the mask token in training, and the page notes this when a mask is present.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from data.bpe import MASK_ID, BPETokenizer, TextReport, inspect_text
from models.language.model import LanguageModel


class InputError(ValueError):
    """Raised for text the models cannot run on. The message names what to change."""


@dataclass(frozen=True)
class PreparedText:
    """Token ids and labels of user text, after cleaning and truncation.

    Attributes:
        ids: token ids, at most ``context`` of them.
        labels: a readable label per token.
        truncated: tokens dropped from the end to fit the context (0 when none).
        report: what cleaning found (removed control characters, unseen characters, masks).
    """

    ids: list[int]
    labels: list[str]
    truncated: int
    report: TextReport

    def tensor(self) -> torch.Tensor:
        """Return the ids as a ``[1, L]`` int64 tensor."""
        return torch.tensor([self.ids], dtype=torch.long)


def prepare_text(tokenizer: BPETokenizer, text: str, context: int) -> PreparedText:
    """Clean, tokenise and truncate ``text`` for a model with ``context`` positions.

    Raises:
        InputError: the text is empty or holds only whitespace and control characters.
    """
    report = inspect_text(text, tokenizer.alphabet)
    if not report.text.strip():
        raise InputError("the text is empty; type a sentence or pick a sample passage")
    ids = tokenizer.encode(report.text)
    if not ids:
        raise InputError("the text produced no tokens; type a sentence or pick a sample passage")
    truncated = max(len(ids) - context, 0)
    ids = ids[:context]
    return PreparedText(
        ids=ids, labels=tokenizer.token_strings(ids), truncated=truncated, report=report
    )


@dataclass(frozen=True)
class MaskPrediction:
    """The masked model's top tokens at one ``[MASK]`` position.

    Attributes:
        position: token index in the sequence.
        tokens: decoded candidate tokens, most probable first.
        probabilities: their softmax probabilities.
    """

    position: int
    tokens: list[str]
    probabilities: list[float]


@torch.no_grad()
def predict_masks(
    model: LanguageModel, tokenizer: BPETokenizer, ids: list[int], top: int = 5
) -> list[MaskPrediction]:
    """Return the ``top`` predictions at every ``[MASK]`` in ``ids`` (empty when there is none).

    Raises:
        ValueError: the model is not a masked language model.
    """
    if model.config.causal:
        raise ValueError("mask predictions need a masked (encoder) model; this one is causal")
    positions = [index for index, token in enumerate(ids) if token == MASK_ID]
    if not positions:
        return []
    probs = torch.softmax(model.eval()(torch.tensor([ids]))[0], dim=-1)  # [L, V]
    predictions = []
    for position in positions:
        values, indices = probs[position].topk(top)
        predictions.append(
            MaskPrediction(
                position=position,
                tokens=[tokenizer.decode([int(i)]) for i in indices],
                probabilities=[float(v) for v in values],
            )
        )
    return predictions


@dataclass(frozen=True)
class Continuation:
    """Tokens that the causal model generated after a prompt.

    Attributes:
        tokens: decoded generated tokens.
        ids: their ids.
        probabilities: the probability the model gave each chosen token.
        text: the whole continuation as text.
    """

    tokens: list[str]
    ids: list[int]
    probabilities: list[float]
    text: str


@torch.no_grad()
def generate(
    model: LanguageModel,
    tokenizer: BPETokenizer,
    ids: list[int],
    new_tokens: int = 30,
    temperature: float = 0.0,
    seed: int = 0,
) -> Continuation:
    """Continue ``ids`` by ``new_tokens`` tokens, greedily (``temperature`` 0) or by sampling.

    The model reads the last ``context`` tokens at each step. The probability reported for a
    token is that of the untempered softmax.

    Raises:
        ValueError: the model is not causal, ``ids`` is empty, or ``temperature`` is negative.
    """
    if not model.config.causal:
        raise ValueError("generation needs a causal (decoder) model; this one is masked")
    if not ids:
        raise ValueError("generation needs at least one prompt token")
    if temperature < 0:
        raise ValueError(f"temperature must be 0 (greedy) or positive, got {temperature}")
    generator = torch.Generator().manual_seed(seed)
    sequence = list(ids)
    chosen, probabilities = [], []
    model.eval()
    for _ in range(new_tokens):
        window = torch.tensor([sequence[-model.config.context :]])
        logits = model(window)[0, -1]
        probs = torch.softmax(logits, dim=-1)
        if temperature == 0:
            token = int(probs.argmax())
        else:
            tempered = torch.softmax(logits / temperature, dim=-1)
            token = int(torch.multinomial(tempered, 1, generator=generator))
        sequence.append(token)
        chosen.append(token)
        probabilities.append(float(probs[token]))
    return Continuation(
        tokens=[tokenizer.decode([token]) for token in chosen],
        ids=chosen,
        probabilities=probabilities,
        text=tokenizer.decode(chosen),
    )


@torch.no_grad()
def token_surprise(model: LanguageModel, ids: list[int]) -> tuple[list[float], float]:
    """Return the causal model's ``-log p(token_i | tokens_<i)`` in nats for ``i >= 1`` and the
    text's perplexity ``exp(mean)``; one token gives ``([], nan)``.

    Raises:
        ValueError: the model is not causal.
    """
    if not model.config.causal:
        raise ValueError("token surprise needs a causal (decoder) model")
    if len(ids) < 2:
        return [], math.nan
    tokens = torch.tensor([ids])
    log_probs = torch.log_softmax(model.eval()(tokens[:, :-1])[0], dim=-1)  # [L - 1, V]
    nats = -log_probs.gather(1, tokens[0, 1:].unsqueeze(1)).squeeze(1)
    values = [float(v) for v in nats]
    return values, math.exp(sum(values) / len(values))
