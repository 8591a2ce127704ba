"""The Fashion-MNIST loader on the real files, on malformed files, and its download."""

import gzip
import hashlib
import shutil

import numpy as np
import pytest

from data import fashion_mnist
from data.download import ChecksumError
from tests.conftest import shared_path
from tests.data.local_server import serve_folder


def _idx(magic: int, shape: tuple[int, ...], payload: bytes) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in shape)
    return header + payload


def test_read_idx_round_trip(tmp_path):
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    path = tmp_path / "x-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(_idx(0x803, (2, 28, 28), images.tobytes())))
    np.testing.assert_array_equal(fashion_mnist.read_idx(path), images)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "too short"),
        (_idx(0x0D03, (1, 2, 2), b"\0" * 4), "not an unsigned-byte IDX"),
        (_idx(0x803, (2, 28, 28), b"\0" * 100), "truncated or corrupted"),
    ],
    ids=["empty", "float-idx", "truncated"],
)
def test_read_idx_rejects_malformed(tmp_path, payload, message):
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(payload)
    with pytest.raises(fashion_mnist.DatasetError, match=message):
        fashion_mnist.read_idx(path)


def test_load_split_names_missing_folder(tmp_path):
    with pytest.raises(fashion_mnist.DatasetError, match="glimpse data fetch fashion-mnist"):
        fashion_mnist.load_split(tmp_path, "test")
    with pytest.raises(ValueError, match="split must be"):
        fashion_mnist.load_split(tmp_path, "validation")


def test_real_files_have_published_sizes():
    root = shared_path("fashion-mnist")
    train_images, train_labels = fashion_mnist.load_split(root, "train")
    test_images, test_labels = fashion_mnist.load_split(root, "test")
    assert train_images.shape == (60_000, 28, 28)
    assert test_images.shape == (10_000, 28, 28)
    # the dataset is balanced: 6,000 training and 1,000 test images per class
    assert np.bincount(train_labels).tolist() == [6_000] * 10
    assert np.bincount(test_labels).tolist() == [1_000] * 10


def test_shipped_sample_is_a_subset_of_the_test_set():
    root = shared_path("fashion-mnist")
    test_images, test_labels = fashion_mnist.load_split(root, "test")
    images, labels, indices = fashion_mnist.load_sample()
    assert images.shape == (200, 28, 28)
    np.testing.assert_array_equal(images, test_images[indices])
    np.testing.assert_array_equal(labels, test_labels[indices])
    assert np.bincount(labels).tolist() == [20] * 10


def test_fetch_from_local_server(tmp_path):
    root = shared_path("fashion-mnist")
    served = tmp_path / "served"
    shutil.copytree(root, served)
    checksums = {
        name: hashlib.md5((served / name).read_bytes()).hexdigest()
        for name in fashion_mnist.PUBLISHED_MD5
    }
    with serve_folder(served) as base:
        dest = fashion_mnist.fetch(tmp_path / "fetched", base_url=base, checksums=checksums)
        images, _labels = fashion_mnist.load_split(dest, "test")
        assert images.shape == (10_000, 28, 28)
        # this copy was recompressed, so the MD5 sums published upstream must reject it
        with pytest.raises(ChecksumError, match="md5"):
            fashion_mnist.fetch(tmp_path / "pinned", base_url=base)
    assert not (tmp_path / "pinned" / "train-images-idx3-ubyte.gz").exists()
