"""Decode uploaded images and check them against what a model expects."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, UnidentifiedImageError

MAX_UPLOAD_PIXELS = 40_000_000  # refuse decompression bombs well before PIL's own limit


class ImageInputError(ValueError):
    """Raised for an upload that is not an image or does not fit; the message names the fix."""


def decode_image(payload: bytes, name: str = "upload") -> Image.Image:
    """Decode image bytes (PNG, JPEG, BMP, GIF, WebP, PGM, ...) into a loaded PIL image.

    Raises:
        ImageInputError: the bytes are empty, not an image format PIL reads, or too large.
    """
    if not payload:
        raise ImageInputError(f"{name} is empty; choose an image file (PNG or JPEG)")
    try:
        image = Image.open(io.BytesIO(payload))
        if image.width * image.height > MAX_UPLOAD_PIXELS:
            raise ImageInputError(
                f"{name} is {image.width}x{image.height} pixels, more than {MAX_UPLOAD_PIXELS:,}; "
                "resize it first"
            )
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ImageInputError(
            f"{name} is not an image that can be read ({type(error).__name__}); upload a PNG or JPEG file"
        ) from error
    return image


def as_grayscale(
    image: Image.Image, size: tuple[int, int], *, convert: bool, invert: bool = False
) -> np.ndarray:
    """Return the image as uint8 ``[H, W]`` grayscale of ``size`` (width, height).

    Args:
        image: decoded image.
        size: the (width, height) the model expects.
        convert: resize (Lanczos) and convert to grayscale when the image does not already
            match; when False a mismatch raises.
        invert: invert the gray levels (for dark objects on a light background).

    Raises:
        ImageInputError: the image is not ``size`` grayscale and ``convert`` is False; the
            message names the actual size and mode.
    """
    problems = []
    if image.size != size:
        problems.append(f"is {image.width}x{image.height} pixels, expected {size[0]}x{size[1]}")
    if image.mode not in ("L", "1", "I;16", "I"):
        problems.append(f"has mode {image.mode}, expected 8-bit grayscale (L)")
    if problems and not convert:
        raise ImageInputError(
            f"the image {' and '.join(problems)}. Convert it to {size[0]}x{size[1]} grayscale, "
            "or let the page convert it."
        )
    if image.mode in ("RGBA", "LA", "P"):
        background = Image.new("RGBA", image.size, (0, 0, 0, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    gray = image.convert("L")
    if gray.size != size:
        gray = gray.resize(size, Image.Resampling.LANCZOS)
    array = np.asarray(gray, dtype=np.uint8)
    return 255 - array if invert else array
