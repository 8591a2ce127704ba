"""Turn Fashion-MNIST's 28x28 uint8 images into the pixel tensors that triggers and CLIP use.

Every backdoor computation works on *pixels*: float32 ``[N, 3, H, W]`` in ``[0, 1]``, where
triggers are applied. A 28x28 grayscale image is zero-padded by 2 pixels on each side to 32x32
(the dataset's background is black, so padding adds background and changes no pixel), copied
into three channels so that colour triggers and RGB CLIP checkpoints apply, and resized with
bilinear interpolation when the model's input is not 32 pixels. Model inputs are pixels
normalised with the model's mean and standard deviation (``normalize_pixels``).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

SOURCE_SIZE = 28
PADDED_SIZE = 32
PAD = (PADDED_SIZE - SOURCE_SIZE) // 2


def pixels_from_uint8(
    images: np.ndarray | torch.Tensor,
    image_size: int = PADDED_SIZE,
    offsets: torch.Tensor | None = None,
) -> torch.Tensor:
    """Convert ``[N, 28, 28]`` uint8 images to ``[N, 3, image_size, image_size]`` pixels in [0, 1].

    Args:
        images: grayscale images, uint8.
        image_size: side of the output; 32 is the padded size, other sizes are resized from it.
        offsets: optional ``[N, 2]`` int tensor of (row, column) positions of the 28x28 image
            inside the 32x32 canvas, each in ``[0, 4]``; the default centres it (offset 2).
            Random offsets are the translation augmentation of training.

    Raises:
        ValueError: the images are not ``[N, 28, 28]`` uint8, or an offset is out of range.
    """
    tensor = torch.from_numpy(np.array(images)) if isinstance(images, np.ndarray) else images
    if tensor.dtype != torch.uint8 or tensor.ndim != 3 or tuple(tensor.shape[1:]) != (28, 28):
        raise ValueError(
            f"expected uint8 images of shape [N, 28, 28], got {tensor.dtype} {tuple(tensor.shape)}"
        )
    count = tensor.shape[0]
    gray = tensor.to(torch.float32) / 255.0
    canvas = torch.zeros(count, PADDED_SIZE, PADDED_SIZE)
    if offsets is None:
        canvas[:, PAD : PAD + SOURCE_SIZE, PAD : PAD + SOURCE_SIZE] = gray
    else:
        offsets = torch.as_tensor(offsets, dtype=torch.long)
        if offsets.shape != (count, 2) or offsets.min() < 0 or offsets.max() > 2 * PAD:
            raise ValueError(
                f"offsets must be [N, 2] integers in [0, {2 * PAD}], got {offsets.shape}"
            )
        for row, (top, left) in enumerate(offsets.tolist()):
            canvas[row, top : top + SOURCE_SIZE, left : left + SOURCE_SIZE] = gray[row]
    pixels = (
        canvas[:, None].expand(count, 3, PADDED_SIZE, PADDED_SIZE).contiguous()
    )  # [N, 3, 32, 32]
    if image_size != PADDED_SIZE:
        pixels = F.interpolate(
            pixels, size=(image_size, image_size), mode="bilinear", align_corners=False
        )
        pixels = pixels.clamp(0.0, 1.0)
    return pixels


def normalize_pixels(
    pixels: torch.Tensor, mean: tuple[float, float, float], std: tuple[float, float, float]
) -> torch.Tensor:
    """Return ``(pixels - mean) / std`` per channel for ``[N, 3, H, W]`` pixels."""
    mean_t = torch.tensor(mean, dtype=pixels.dtype, device=pixels.device).view(1, 3, 1, 1)
    std_t = torch.tensor(std, dtype=pixels.dtype, device=pixels.device).view(1, 3, 1, 1)
    return (pixels - mean_t) / std_t


def pixels_to_uint8(pixels: torch.Tensor) -> np.ndarray:
    """Return ``[N, H, W, 3]`` uint8 images from pixels in [0, 1], for display and PNG files."""
    array = pixels.detach().clamp(0.0, 1.0).permute(0, 2, 3, 1).cpu().numpy()
    return (array * 255.0).round().astype(np.uint8)
