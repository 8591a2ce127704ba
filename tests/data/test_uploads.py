"""Uploaded images: accepted forms and clear messages for the wrong size, mode or type."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from data.uploads import UploadError, read_grayscale_upload


def _encode(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def test_grayscale_png_read_exactly():
    array = np.arange(28 * 28, dtype=np.uint32).reshape(28, 28).astype(np.uint8)
    out = read_grayscale_upload(_encode(Image.fromarray(array)))
    assert out.dtype == np.uint8
    assert np.array_equal(out, array)


def test_rgb_converted_with_luma_weights():
    rgb = np.zeros((28, 28, 3), dtype=np.uint8)
    rgb[..., 0] = 200
    rgb[..., 1] = 100
    out = read_grayscale_upload(_encode(Image.fromarray(rgb)))
    # L = 0.299 R + 0.587 G + 0.114 B = 59.8 + 58.7 = 118.5, which PIL rounds to 118 or 119.
    assert int(out[0, 0]) in (118, 119)


def test_wrong_size_rejected():
    with pytest.raises(UploadError, match=r"is 32x30 pixels.*resize it to 28x28"):
        read_grayscale_upload(_encode(Image.new("L", (32, 30))), "shirt.png")


@pytest.mark.parametrize("mode", ["RGBA", "P", "I;16", "1", "CMYK"])
def test_wrong_mode_rejected(mode):
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    with pytest.raises(UploadError, match=f"mode '{mode}'"):
        read_grayscale_upload(_encode(Image.new(mode, (28, 28)), fmt))


def test_not_an_image_rejected():
    with pytest.raises(UploadError, match="could not be read as an image"):
        read_grayscale_upload(b"%PDF-1.4 not an image", "notes.pdf")


def test_other_format_rejected():
    with pytest.raises(UploadError, match="is a GIF file"):
        read_grayscale_upload(_encode(Image.new("L", (28, 28)), "GIF"))


def test_truncated_file_rejected():
    payload = _encode(
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (28, 28), dtype=np.uint8))
    )
    with pytest.raises(UploadError):
        read_grayscale_upload(payload[: len(payload) // 2])
