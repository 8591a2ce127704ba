"""Uploaded images: decoding errors and the size and mode checks."""

import io

import numpy as np
import pytest
from PIL import Image

from data.images import ImageInputError, as_grayscale, decode_image


def _png(mode: str, size: tuple[int, int], color) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def test_decode_rejects_empty_and_non_images():
    with pytest.raises(ImageInputError, match="is empty"):
        decode_image(b"", "empty.png")
    with pytest.raises(ImageInputError, match="not an image"):
        decode_image(b"%PDF-1.4 not an image", "paper.png")


def test_wrong_size_and_mode_name_the_values():
    image = decode_image(_png("RGB", (64, 48), (10, 20, 30)))
    with pytest.raises(ImageInputError, match=r"64x48 pixels, expected 28x28.*mode RGB"):
        as_grayscale(image, (28, 28), convert=False)


def test_convert_resizes_and_inverts():
    image = decode_image(_png("RGBA", (56, 56), (255, 255, 255, 255)))
    gray = as_grayscale(image, (28, 28), convert=True, invert=True)
    assert gray.shape == (28, 28) and gray.dtype == np.uint8
    assert int(gray.max()) == 0


def test_matching_image_passes_unchanged():
    pixels = np.arange(28 * 28, dtype=np.uint8).reshape(28, 28)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    np.testing.assert_array_equal(
        as_grayscale(decode_image(buffer.getvalue()), (28, 28), convert=False), pixels
    )
