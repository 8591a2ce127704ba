"""Word-level tokenizer: a worked example, special ids and truncation."""

from __future__ import annotations

import pytest
import torch

from models.clip.tokenizer import END, PAD, START, UNK, WordTokenizer, split_words


def test_split_words_keeps_punctuation():
    assert split_words("A photo of a T-shirt.") == ["a", "photo", "of", "a", "t", "-", "shirt", "."]


def test_tokenize_worked_example():
    tokenizer = WordTokenizer(["a", "photo", "of", "bag", "."], context_length=8)
    # ids: <pad> 0, <unk> 1, a 2, photo 3, of 4, bag 5, . 6, <start_of_text> 7, <end_of_text> 8
    tokens = tokenizer(["a photo of a bag.", "a shoe"])
    assert tokens.tolist() == [[7, 2, 3, 4, 2, 5, 6, 8], [7, 2, 1, 8, 0, 0, 0, 0]]
    assert tokens.dtype == torch.long


def test_end_token_has_highest_id():
    tokenizer = WordTokenizer(["a", "b"], context_length=6)
    assert tokenizer.end_id == tokenizer.vocab_size - 1
    assert tokenizer("a b a")[0].argmax().item() == 4  # the end-of-text position


def test_truncation_keeps_end_token():
    tokenizer = WordTokenizer(["a"], context_length=4)
    tokens = tokenizer("a a a a a a")[0].tolist()
    assert tokens == [tokenizer.start_id, 2, 2, tokenizer.end_id]


def test_vocabulary_roundtrip():
    tokenizer = WordTokenizer.from_texts(["a photo of a coat.", "a bag"], context_length=10)
    again = WordTokenizer.from_vocabulary(tokenizer.vocabulary, 10)
    assert again.vocabulary == tokenizer.vocabulary
    assert torch.equal(again("a coat bag"), tokenizer("a coat bag"))
    assert tokenizer.vocabulary[:2] == [PAD, UNK]
    assert tokenizer.vocabulary[-2:] == [START, END]


def test_unknown_words_listed():
    tokenizer = WordTokenizer(["a", "bag"], context_length=6)
    assert tokenizer.unknown_words(["a red bag", "a blue hat"]) == ["red", "blue", "hat"]


def test_bad_vocabulary_rejected():
    with pytest.raises(ValueError, match="must start with"):
        WordTokenizer.from_vocabulary(["a", "b"], 8)
    with pytest.raises(ValueError, match="clash"):
        WordTokenizer(["a", PAD], 8)
    with pytest.raises(ValueError, match="at least 3"):
        WordTokenizer(["a"], 2)
