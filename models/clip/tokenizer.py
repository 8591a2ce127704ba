"""A word-level tokenizer with a small vocabulary for caption templates.

Captions are lower-cased and split into words (runs of letters and digits) and single
punctuation marks, for example ``"a photo of a t-shirt."`` becomes
``["a", "photo", "of", "a", "t", "-", "shirt", "."]``. Each piece maps to its id in the
vocabulary, or to ``<unk>`` when it is not there. A token sequence is
``[<start_of_text>, pieces..., <end_of_text>]`` padded with ``<pad>`` (id 0) to the context
length. ``<end_of_text>`` has the highest id, as in OpenAI's CLIP tokenizer, so open_clip's
``argmax`` text pooling picks the end-of-text position. A caption longer than the context is
truncated and keeps its end-of-text token, as open_clip's tokenizer does.

The vocabulary of the shipped models is built from the caption templates and class names in
``models.clip.captions``; a standard 49,408-token BPE vocabulary would make the text tower
larger than the whole model.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence

import torch

log = logging.getLogger(__name__)

PAD = "<pad>"
UNK = "<unk>"
START = "<start_of_text>"
END = "<end_of_text>"
_PIECE = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")


def split_words(text: str) -> list[str]:
    """Split ``text`` into lower-case words and single punctuation marks."""
    return _PIECE.findall(text.lower())


class WordTokenizer:
    """Turn captions into ``[N, context_length]`` token ids over a fixed word vocabulary.

    Ids: ``<pad>`` 0, ``<unk>`` 1, the words in the given order, then ``<start_of_text>`` and
    ``<end_of_text>`` (the highest id).
    """

    def __init__(self, words: Sequence[str], context_length: int) -> None:
        if context_length < 3:
            raise ValueError(
                f"context_length must be at least 3 (start, a word, end), got {context_length}"
            )
        clean = list(dict.fromkeys(words))
        reserved = {PAD, UNK, START, END} & set(clean)
        if reserved:
            raise ValueError(f"vocabulary words {sorted(reserved)} clash with special tokens")
        self.vocabulary: list[str] = [PAD, UNK, *clean, START, END]
        self.context_length = context_length
        self._ids = {word: i for i, word in enumerate(self.vocabulary)}
        self.pad_id = 0
        self.unk_id = 1
        self.start_id = len(self.vocabulary) - 2
        self.end_id = len(self.vocabulary) - 1

    @classmethod
    def from_texts(cls, texts: Iterable[str], context_length: int) -> WordTokenizer:
        """Build a tokenizer whose vocabulary is every piece of ``texts``, in first-seen order."""
        words: dict[str, None] = {}
        for text in texts:
            for piece in split_words(text):
                words.setdefault(piece, None)
        return cls(list(words), context_length)

    @classmethod
    def from_vocabulary(cls, vocabulary: Sequence[str], context_length: int) -> WordTokenizer:
        """Rebuild a tokenizer from the full ``vocabulary`` list that ``self.vocabulary`` stores."""
        vocabulary = list(vocabulary)
        if vocabulary[:2] != [PAD, UNK] or vocabulary[-2:] != [START, END]:
            raise ValueError(
                "vocabulary must start with <pad>, <unk> and end with <start_of_text>, "
                f"<end_of_text>; got {vocabulary[:2]} ... {vocabulary[-2:]}"
            )
        return cls(vocabulary[2:-2], context_length)

    @property
    def vocab_size(self) -> int:
        """Number of token ids, special tokens included."""
        return len(self.vocabulary)

    def unknown_words(self, texts: Iterable[str]) -> list[str]:
        """Return the pieces of ``texts`` that are not in the vocabulary, in first-seen order."""
        unknown: dict[str, None] = {}
        for text in texts:
            for piece in split_words(text):
                if piece not in self._ids:
                    unknown.setdefault(piece, None)
        return list(unknown)

    def encode(self, text: str) -> list[int]:
        """Return the ids of ``text`` without start, end or padding."""
        return [self._ids.get(piece, self.unk_id) for piece in split_words(text)]

    def __call__(
        self, texts: str | Sequence[str], context_length: int | None = None
    ) -> torch.Tensor:
        """Tokenize captions into a ``[N, context_length]`` int64 tensor."""
        if isinstance(texts, str):
            texts = [texts]
        length = context_length or self.context_length
        out = torch.full((len(texts), length), self.pad_id, dtype=torch.long)
        for row, text in enumerate(texts):
            ids = [self.start_id, *self.encode(text)][: length - 1]
            ids.append(self.end_id)
            out[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        return out
