"""Class-name checks and caption filling."""

from __future__ import annotations

import pytest

from models.clip.captions import ClassNameError, captions_for, validate_class_names


def test_class_names_stripped():
    assert validate_class_names([" bag ", "coat"]) == ("bag", "coat")


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ([], "empty"),
        (["bag", "  "], "positions \\[1\\] are empty"),
        (["bag", "Coat", "coat"], "duplicate class names 'coat' \\(positions 1 and 2\\)"),
        (["bag"], "at least two"),
    ],
)
def test_bad_class_lists_rejected(names, message):
    with pytest.raises(ClassNameError, match=message):
        validate_class_names(names)


def test_captions_class_major():
    assert captions_for(["bag", "coat"], ["a {}.", "the {}"]) == [
        "a bag.",
        "the bag",
        "a coat.",
        "the coat",
    ]
