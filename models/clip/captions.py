"""Caption templates and the class names written into them.

Training captions pick one template per image at random; zero-shot classification averages
the normalised text features of all templates per class, as CLIP's zero-shot evaluation does.
The hand-written prompt that class-wise prompt tuning is regularised toward is
``HAND_PROMPT``.
"""

from __future__ import annotations

from collections.abc import Sequence

# Fashion-MNIST's class names as they read in a caption. "T-shirt/top" is written "t-shirt"
# because a slash reads poorly in a sentence; the others are lower-cased.
FASHION_CAPTION_NAMES = (
    "t-shirt",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
)

TEMPLATES = (
    "a photo of a {}.",
    "a photo of the {}.",
    "a black and white photo of a {}.",
    "a grayscale photo of a {}.",
    "a low resolution photo of a {}.",
    "a small photo of a {}.",
    "a blurry photo of a {}.",
    "a centered photo of a {}.",
    "a product photo of a {}.",
    "a picture of a {}.",
    "an image of a {}.",
    "a photo of one {}.",
)
HAND_PROMPT = "a photo of a {}."


class ClassNameError(ValueError):
    """Raised for a class list that cannot be written into prompts; the message names the fix."""


def validate_class_names(names: Sequence[str]) -> tuple[str, ...]:
    """Strip and check class names for prompts.

    Raises:
        ClassNameError: the list is empty, a name is empty after stripping, or two names are the
            same after lower-casing (the prompts would then be identical).
    """
    stripped = tuple(str(name).strip() for name in names)
    if not stripped:
        raise ClassNameError("the class list is empty; give at least two class names")
    empty = [i for i, name in enumerate(stripped) if not name]
    if empty:
        raise ClassNameError(f"class names at positions {empty} are empty; give every class a name")
    seen: dict[str, int] = {}
    duplicates = []
    for i, name in enumerate(stripped):
        key = name.lower()
        if key in seen:
            duplicates.append(f"{name!r} (positions {seen[key]} and {i})")
        else:
            seen[key] = i
    if duplicates:
        raise ClassNameError(
            f"duplicate class names {', '.join(duplicates)}; every class needs its own name"
        )
    if len(stripped) < 2:
        raise ClassNameError(
            f"got one class name {stripped[0]!r}; classification needs at least two"
        )
    return stripped


def captions_for(names: Sequence[str], templates: Sequence[str] = TEMPLATES) -> list[str]:
    """Return every template filled with every name, class-major: ``[c0t0, c0t1, ..., c1t0]``."""
    return [template.format(name) for name in names for template in templates]
