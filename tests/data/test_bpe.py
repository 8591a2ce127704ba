"""The byte-level BPE tokenizer: training, round trips, the mask placeholder and input checks."""

from __future__ import annotations

import pytest

from data.austen import load_sample
from data.bpe import (
    EOS_ID,
    MASK,
    MASK_ID,
    PAD_ID,
    TokenizerError,
    inspect_text,
    load_tokenizer,
    train_tokenizer,
)
from models.language.checkpoints import load_shipped_tokenizer


@pytest.fixture(scope="module")
def small_tokenizer():
    return train_tokenizer(load_sample().split("\n"), vocab_size=320, card={"data": "sample"})


def test_special_token_ids(small_tokenizer):
    vocab = small_tokenizer.tokenizer
    assert (vocab.token_to_id("[PAD]"), vocab.token_to_id("[EOS]"), vocab.token_to_id(MASK)) == (
        PAD_ID,
        EOS_ID,
        MASK_ID,
    )
    assert small_tokenizer.vocab_size == 320


@pytest.mark.parametrize(
    "text",
    ["It is a truth universally acknowledged.", "Emoji 😀 and ünïcödé", "tabs\tand\nnewlines"],
)
def test_round_trip(small_tokenizer, text):
    assert small_tokenizer.decode(small_tokenizer.encode(text)) == text


def test_mask_takes_the_space_before_it(small_tokenizer):
    with_mask = small_tokenizer.encode("the [MASK] was")
    assert with_mask.count(MASK_ID) == 1
    # the masked word carries its leading space, so no lone space token is left before it
    expected = [*small_tokenizer.encode("the"), MASK_ID, *small_tokenizer.encode(" was")]
    assert expected == with_mask


def test_only_masks(small_tokenizer):
    assert small_tokenizer.encode("[MASK] [MASK]") == [MASK_ID, MASK_ID]


def test_token_strings_show_spaces(small_tokenizer):
    labels = small_tokenizer.token_strings(small_tokenizer.encode("a b"))
    assert "".join(labels) == "a·b"


def test_save_and_load(tmp_path, small_tokenizer):
    small_tokenizer.save(tmp_path)
    loaded = load_tokenizer(tmp_path)
    text = "Mr. Darcy walked in."
    assert loaded.encode(text) == small_tokenizer.encode(text)
    assert loaded.alphabet == small_tokenizer.alphabet


def test_load_missing_names_the_command(tmp_path):
    with pytest.raises(TokenizerError, match="glimpse train language --model tokenizer"):
        load_tokenizer(tmp_path)


def test_vocab_too_small_raises():
    with pytest.raises(ValueError, match="at least 260"):
        train_tokenizer(["abc"], vocab_size=100)


def test_inspect_text_reports_controls_and_unseen():
    report = inspect_text("Hello\x07 world\r\nnew 😀 é", frozenset("Helowrdn "))
    assert report.text == "Hello world\nnew 😀 é"
    assert report.removed_controls == ("U+0007",)
    assert report.unseen == ("😀", "é")
    assert report.mask_count == 0


def test_inspect_text_masks():
    report = inspect_text(" [MASK]  [MASK] ", frozenset("abc"))
    assert report.mask_count == 2
    assert report.only_masks
    assert report.unseen == ()


def test_shipped_tokenizer_covers_austen():
    tokenizer = load_shipped_tokenizer()
    assert tokenizer.vocab_size == 1024
    text = load_sample()[:2000]
    assert tokenizer.decode(tokenizer.encode(text)) == text
    assert inspect_text(text, tokenizer.alphabet).unseen == ()
