"""Check and read an image a user uploads, as one 28x28 Fashion-MNIST-style grayscale image."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, UnidentifiedImageError

ACCEPTED_FORMATS = ("PNG", "JPEG", "BMP")
ACCEPTED_MODES = ("L", "RGB")
EXPECTED_SIZE = (28, 28)


class UploadError(ValueError):
    """Raised for an upload that is not a usable image; the message names the value and the fix."""


def read_grayscale_upload(payload: bytes, name: str = "upload") -> np.ndarray:
    """Decode an uploaded PNG, JPEG or BMP into a ``[28, 28]`` uint8 array.

    RGB images are converted to grayscale with PIL's ITU-R 601-2 luma transform
    (``L = 0.299 R + 0.587 G + 0.114 B``). Fashion-MNIST draws light clothing on a black
    background, so uploads should too.

    Raises:
        UploadError: the bytes are not an image in an accepted format, the mode is not 8-bit
            grayscale or RGB, or the size is not 28x28.
    """
    try:
        image = Image.open(io.BytesIO(payload))
    except (UnidentifiedImageError, OSError) as error:
        raise UploadError(
            f"{name} could not be read as an image ({error.__class__.__name__}); upload a PNG, "
            "JPEG or BMP file"
        ) from error
    if image.format not in ACCEPTED_FORMATS:
        raise UploadError(f"{name} is a {image.format} file; upload a PNG, JPEG or BMP file")
    if image.mode not in ACCEPTED_MODES:
        raise UploadError(
            f"{name} has image mode {image.mode!r}; save it as 8-bit grayscale ('L') or RGB "
            "without transparency"
        )
    if image.size != EXPECTED_SIZE:
        width, height = image.size
        raise UploadError(
            f"{name} is {width}x{height} pixels; Fashion-MNIST images are 28x28, so resize it to "
            "28x28 first"
        )
    try:
        gray = image.convert("L")
    except OSError as error:
        raise UploadError(f"{name} is truncated or damaged ({error}); export it again") from error
    return np.asarray(gray, dtype=np.uint8).copy()
