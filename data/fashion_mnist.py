"""Fashion-MNIST: read the published IDX files, download them with pinned checksums, and the
200-image test sample that ships with Glimpse.

Fashion-MNIST (Xiao, Rasul and Vollgraf 2017, Zalando Research, MIT licence) has 60,000
training and 10,000 test images, 28x28 grayscale, in 10 clothing classes. The loader reads the
four IDX files, gzip-compressed or not, from a folder the user gives.
"""

from __future__ import annotations

import gzip
import logging
import os
from pathlib import Path

import numpy as np

from data import sources
from data.download import fetch_file

log = logging.getLogger(__name__)

CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
IMAGE_SIZE = 28
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
SPLIT_SIZES = {"train": 60_000, "test": 10_000}
BASE_URL = "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"
# MD5 of each .gz file as published in the Fashion-MNIST README (the values torchvision pins).
PUBLISHED_MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
SAMPLE_PATH = Path(__file__).resolve().parent / "samples" / "fashion_mnist_test_sample.npz"
_IDX_MAGIC = {0x00000801: 1, 0x00000803: 3}  # unsigned-byte IDX: labels (1-D), images (3-D)


class DatasetError(ValueError):
    """Raised for a missing, truncated or malformed dataset file; the message names the fix."""


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an unsigned-byte IDX file (``.gz`` or plain) into a uint8 array.

    Raises:
        DatasetError: the file is missing, not IDX, not uint8, or shorter than its header says.
    """
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"{path} not found")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            payload = handle.read()
    except (OSError, EOFError) as error:
        raise DatasetError(f"{path} could not be read ({error}); download it again") from error
    if len(payload) < 4:
        raise DatasetError(f"{path} is {len(payload)} bytes long, too short for an IDX header")
    magic = int.from_bytes(payload[:4], "big")
    if magic not in _IDX_MAGIC:
        raise DatasetError(
            f"{path} is not an unsigned-byte IDX file (magic 0x{magic:08x}, expected 0x00000801 "
            "for labels or 0x00000803 for images)"
        )
    ndim = _IDX_MAGIC[magic]
    header = 4 + 4 * ndim
    if len(payload) < header:
        raise DatasetError(f"{path} ends inside its IDX header")
    shape = tuple(int.from_bytes(payload[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape))
    if len(payload) - header != expected:
        raise DatasetError(
            f"{path} holds {len(payload) - header} data bytes but its header declares shape "
            f"{shape} ({expected} bytes); the file is truncated or corrupted"
        )
    return np.frombuffer(payload, dtype=np.uint8, offset=header).reshape(shape)


def _find(root: Path, stem: str) -> Path:
    for candidate in (root / f"{stem}.gz", root / stem):
        if candidate.exists():
            return candidate
    raise DatasetError(
        f"{stem}(.gz) not found in {root}. Point to the folder holding the four Fashion-MNIST "
        "IDX files, or download them with `glimpse data fetch fashion-mnist`."
    )


def load_split(root: str | os.PathLike[str], split: str) -> tuple[np.ndarray, np.ndarray]:
    """Load one split as ``(images [N, 28, 28] uint8, labels [N] int64)``.

    Raises:
        ValueError: ``split`` is not ``"train"`` or ``"test"``.
        DatasetError: a file is missing or malformed, or images and labels disagree.
    """
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    root = Path(root)
    image_stem, label_stem = FILES[split]
    images = read_idx(_find(root, image_stem))
    labels = read_idx(_find(root, label_stem))
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise DatasetError(f"{image_stem} in {root} has shape {images.shape}, expected [N, 28, 28]")
    if labels.ndim != 1 or len(labels) != len(images):
        raise DatasetError(
            f"{root}: {len(images)} images but labels of shape {labels.shape}; the files do not belong together"
        )
    if labels.max(initial=0) >= len(CLASSES):
        raise DatasetError(f"{label_stem} in {root} holds label {labels.max()}, expected 0-9")
    return images, labels.astype(np.int64)


def default_root() -> Path | None:
    """Return the folder of a fetched copy, or None when none was fetched."""
    root = sources.data_dir() / "fashion-mnist"
    return root if (root / f"{FILES['test'][0]}.gz").exists() else None


def load_sample() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Load the shipped test sample: ``(images [200, 28, 28], labels [200], test_indices [200])``.

    The sample is the first 20 test images of each class, in test-set order; ``test_indices``
    are their positions in the 10,000-image test set.
    """
    with np.load(SAMPLE_PATH, allow_pickle=False) as archive:
        return archive["images"], archive["labels"].astype(np.int64), archive["indices"]


def fetch(
    dest: str | os.PathLike[str],
    base_url: str | None = None,
    checksums: dict[str, str] | None = None,
) -> Path:
    """Download the four ``.gz`` files into ``dest`` and verify their published MD5 sums.

    Args:
        dest: folder to fill.
        base_url: mirror ending in ``/``; defaults to the Zalando Research repository.
        checksums: MD5 per file name, replacing the published ones (tests serve fixtures).

    Returns:
        ``dest``, which ``load_split`` then reads.
    """
    dest = Path(dest)
    base = base_url or BASE_URL
    if not base.endswith("/"):
        base += "/"
    expected = checksums or PUBLISHED_MD5
    for name in PUBLISHED_MD5:
        fetch_file(base + name, dest / name, expected[name], algorithm="md5")
    for split in FILES:
        load_split(dest, split)  # a structural check on top of the checksum
    return dest


sources.register(
    sources.Source(
        name="fashion-mnist",
        description="Fashion-MNIST, 70,000 28x28 clothing images in 10 classes",
        licence="MIT, Zalando Research",
        fetch=fetch,
    )
)
