"""A byte-level BPE tokenizer for the language models, and the checks applied to user text.

The tokenizer is the ``tokenizers`` library's byte-level BPE (GPT-2's byte-to-unicode
pre-tokenizer) trained on the training split only. Byte-level BPE encodes every UTF-8 string,
so no character is unknown; characters that never occur in the training text (emoji, most
non-Latin scripts) fall back to single-byte tokens the model has rarely or never seen, and
:func:`inspect_text` reports them.

Special tokens: ``[PAD]`` (id 0), ``[EOS]`` (id 1, between documents) and ``[MASK]`` (id 2,
the masked-language-model placeholder). Users type ``[MASK]`` literally in their text.
"""

from __future__ import annotations

import json
import os
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from data.atomic import atomic_path, write_json

PAD, EOS, MASK = "[PAD]", "[EOS]", "[MASK]"
SPECIAL_TOKENS = (PAD, EOS, MASK)
PAD_ID, EOS_ID, MASK_ID = 0, 1, 2
DEFAULT_VOCAB_SIZE = 1024
TOKENIZER_FILE = "tokenizer.json"
CARD_FILE = "card.json"


class TokenizerError(ValueError):
    """Raised for a missing or malformed tokenizer file; the message names the fix."""


@dataclass(frozen=True)
class TextReport:
    """What :func:`inspect_text` found in a user's text.

    Attributes:
        text: the text after removing control characters (newlines and tabs are kept as a
            newline and a space).
        removed_controls: the control characters removed, as ``U+XXXX`` codes.
        unseen: characters that never occur in the tokenizer's training text, in first-seen order.
        mask_count: ``[MASK]`` placeholders in the text.
        only_masks: the text contains masks and nothing else but whitespace.
    """

    text: str
    removed_controls: tuple[str, ...] = ()
    unseen: tuple[str, ...] = ()
    mask_count: int = 0
    only_masks: bool = False


@dataclass
class BPETokenizer:
    """A trained byte-level BPE tokenizer with the alphabet of its training text.

    Attributes:
        tokenizer: the ``tokenizers`` object.
        alphabet: every character of the training text.
        card: provenance (training data, command, vocabulary size).
    """

    tokenizer: Tokenizer
    alphabet: frozenset[str]
    card: dict = field(default_factory=dict)

    @property
    def vocab_size(self) -> int:
        """Number of token ids, special tokens included."""
        return self.tokenizer.get_vocab_size()

    def encode(self, text: str) -> list[int]:
        """Return the token ids of ``text``, with each ``[MASK]`` as ``MASK_ID``.

        The byte-level vocabulary attaches the space before a word to the word's token, so a
        masked word in training replaces that space too. One space before ``[MASK]`` is
        therefore dropped, which keeps ``"the [MASK] was"`` at three tokens as in training.
        No other special tokens are added.
        """
        pieces = text.split(MASK)
        ids: list[int] = []
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            if not last and piece.endswith(" "):
                piece = piece[:-1]
            if piece:
                ids += self.tokenizer.encode(piece).ids
            if not last:
                ids.append(MASK_ID)
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """Return the text of ``ids``, special tokens written out (``[MASK]``)."""
        return self.tokenizer.decode(list(ids), skip_special_tokens=False)

    def token_strings(self, ids: Iterable[int]) -> list[str]:
        """Return a readable label per token: the decoded bytes, with a space shown as ``·``.

        A token that is only part of a multi-byte character decodes to U+FFFD and is shown as
        its byte-level symbol instead.
        """
        labels = []
        for token_id in ids:
            text = self.tokenizer.decode([int(token_id)], skip_special_tokens=False)
            if "\ufffd" in text:
                text = self.tokenizer.id_to_token(int(token_id)) or "?"
            labels.append(text.replace(" ", "·").replace("\n", "⏎"))
        return labels

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write ``tokenizer.json`` and ``card.json`` (with the alphabet) into ``folder``."""
        folder = Path(folder)
        with atomic_path(folder / TOKENIZER_FILE) as tmp:
            self.tokenizer.save(str(tmp))
        card = dict(self.card)
        card["alphabet"] = "".join(sorted(self.alphabet))
        write_json(folder / CARD_FILE, card)
        return folder


def train_tokenizer(
    texts: Iterable[str], vocab_size: int = DEFAULT_VOCAB_SIZE, card: dict | None = None
) -> BPETokenizer:
    """Train a byte-level BPE tokenizer on ``texts``.

    Args:
        texts: training documents.
        vocab_size: total ids, the 256 byte symbols and three special tokens included.
        card: provenance stored beside the tokenizer.

    Raises:
        ValueError: ``vocab_size`` leaves no room for merges (below 260).
    """
    if vocab_size < 260:
        raise ValueError(
            "vocab_size must be at least 260 (256 bytes, 3 special tokens, 1 merge), "
            f"got {vocab_size}"
        )
    texts = list(texts)
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    for token, expected in zip(SPECIAL_TOKENS, (PAD_ID, EOS_ID, MASK_ID), strict=True):
        assert tokenizer.token_to_id(token) == expected, (
            "special tokens come first in the vocabulary"
        )
    alphabet = frozenset("".join(texts))
    full_card = {"vocab_size": tokenizer.get_vocab_size(), **(card or {})}
    return BPETokenizer(tokenizer=tokenizer, alphabet=alphabet, card=full_card)


def load_tokenizer(folder: str | os.PathLike[str]) -> BPETokenizer:
    """Load a tokenizer saved by :meth:`BPETokenizer.save`.

    Raises:
        TokenizerError: a file is missing or unreadable, or the special tokens are not where
            the models expect them.
    """
    folder = Path(folder)
    path, card_path = folder / TOKENIZER_FILE, folder / CARD_FILE
    for required in (path, card_path):
        if not required.exists():
            raise TokenizerError(
                f"{required} not found; train the tokenizer with "
                "`glimpse train language --model tokenizer`"
            )
    try:
        tokenizer = Tokenizer.from_file(str(path))
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except Exception as error:  # tokenizers raises plain Exception for malformed files
        raise TokenizerError(f"{folder} does not hold a readable tokenizer ({error})") from error
    for token, expected in zip(SPECIAL_TOKENS, (PAD_ID, EOS_ID, MASK_ID), strict=True):
        if tokenizer.token_to_id(token) != expected:
            raise TokenizerError(
                f"{path}: special token {token} has id {tokenizer.token_to_id(token)}, expected "
                f"{expected}; retrain the tokenizer with `glimpse train language --model tokenizer`"
            )
    return BPETokenizer(
        tokenizer=tokenizer, alphabet=frozenset(card.get("alphabet", "")), card=card
    )


def inspect_text(text: str, alphabet: frozenset[str]) -> TextReport:
    """Clean user text for the models and report what the tokenizer never saw.

    Control characters other than newline and tab are removed; ``\\r\\n`` and ``\\r`` become
    newlines and tabs spaces. ``[MASK]`` placeholders are counted and left in place.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    removed = []
    kept = []
    for ch in text:
        if ch != "\n" and unicodedata.category(ch) == "Cc":
            removed.append(f"U+{ord(ch):04X}")
        else:
            kept.append(ch)
    cleaned = "".join(kept)
    without_masks = cleaned.replace(MASK, "")
    unseen: list[str] = []
    for ch in without_masks:
        if ch not in alphabet and not ch.isspace() and ch not in unseen:
            unseen.append(ch)
    mask_count = cleaned.count(MASK)
    return TextReport(
        text=cleaned,
        removed_controls=tuple(dict.fromkeys(removed)),
        unseen=tuple(unseen),
        mask_count=mask_count,
        only_masks=mask_count > 0 and not without_masks.strip(),
    )
