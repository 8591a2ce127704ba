"""SHD/SSC in their published HDF5 layout, binning, and the fetch against a local server."""

from __future__ import annotations

import gzip
import hashlib
import logging

import h5py
import numpy as np
import pytest

from data import spiking_speech as ss
from data.download import ChecksumError
from tests.data.local_server import serve_folder


def write_published_layout(path, samples, labels):
    """Write samples [(times, units), ...] as the Zenke lab files do (vlen datasets)."""
    with h5py.File(path, "w") as handle:
        times = handle.create_dataset(
            "spikes/times", (len(samples),), dtype=h5py.vlen_dtype(np.float32)
        )
        units = handle.create_dataset(
            "spikes/units", (len(samples),), dtype=h5py.vlen_dtype(np.uint16)
        )
        for i, (t, u) in enumerate(samples):
            times[i] = np.asarray(t, dtype=np.float32)
            units[i] = np.asarray(u, dtype=np.uint16)
        handle.create_dataset("labels", data=np.asarray(labels, dtype=np.uint16))


def test_bin_events_by_hand():
    times = [0.0, 0.0049, 0.0101, 0.995, 1.2]
    units = [0, 4, 5, 699, 3]
    frames = ss.bin_events(times, units)
    expected = np.zeros((100, 140), dtype=np.float32)
    expected[0, 0] = 2  # units 0 and 4 share channel group 0 in the first 10 ms
    expected[1, 1] = 1  # unit 5 at 10.1 ms
    expected[99, 139] = 1  # unit 699 at 995 ms; the spike at 1.2 s is past T = 100
    np.testing.assert_array_equal(frames, expected)


def test_bin_events_rejects_bad_units():
    with pytest.raises(ss.SpikingDatasetError, match="units must lie in"):
        ss.bin_events([0.1], [700])
    with pytest.raises(ss.SpikingDatasetError, match="spike times but"):
        ss.bin_events([0.1, 0.2], [1])


def test_reads_published_layout(tmp_path):
    path = tmp_path / "shd_test.h5"
    rng = np.random.default_rng(0)
    samples = [(np.sort(rng.uniform(0, 1.3, 50)), rng.integers(0, 700, 50)) for _ in range(3)]
    write_published_layout(path, samples, [3, 19, 0])
    with ss.SpikingSpeechFile(path) as dataset:
        assert len(dataset) == 3
        frames, label = dataset[1]
    assert label == 19
    np.testing.assert_array_equal(frames, ss.bin_events(*samples[1]))
    assert frames.sum() == np.sum(samples[1][0] < 1.0)


def test_wrong_layout_message(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as handle:
        handle.create_dataset("labels", data=np.zeros(2))
    with pytest.raises(ss.SpikingDatasetError, match="published SHD/SSC layout"):
        ss.SpikingSpeechFile(path)


def test_parse_checksums():
    text = "0123456789abcdef0123456789abcdef  shd_train.h5.gz\nnot a line\n"
    assert ss.parse_checksums(text) == {"shd_train.h5.gz": "0123456789abcdef0123456789abcdef"}


def _publish(site, listed_names):
    lines = []
    for name in ss.FILES["shd"]:
        write_published_layout(site / name[:-3], [([0.1], [7])], [4])
        payload = gzip.compress((site / name[:-3]).read_bytes())
        (site / name).write_bytes(payload)
        if name in listed_names:
            lines.append(f"{hashlib.md5(payload).hexdigest()}  {name}")
    (site / "md5sums.txt").write_text("\n".join(lines) + "\n")


def test_fetch_verifies_against_published_list(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    _publish(site, ss.FILES["shd"])
    with serve_folder(site) as url:
        dest = ss.fetch_dataset("shd", tmp_path / "shd", base_url=url)
    with ss.SpikingSpeechFile(dest / "shd_test.h5") as dataset:
        frames, label = dataset[0]
    assert label == 4
    assert frames[10, 1] == 1


def test_fetch_rejects_wrong_md5(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    _publish(site, ss.FILES["shd"])
    (site / "shd_test.h5.gz").write_bytes(gzip.compress(b"changed"))
    with serve_folder(site) as url, pytest.raises(ChecksumError, match=r"shd_test\.h5\.gz"):
        ss.fetch_dataset("shd", tmp_path / "shd", base_url=url)


def test_fetch_says_unverified(tmp_path, caplog):
    site = tmp_path / "site"
    site.mkdir()
    _publish(site, ["shd_train.h5.gz"])  # the list leaves out the test file
    with serve_folder(site) as url, caplog.at_level(logging.WARNING):
        ss.fetch_dataset("shd", tmp_path / "shd", base_url=url)
    unverified = [r.getMessage() for r in caplog.records if "could not verify" in r.getMessage()]
    assert unverified == [
        "could not verify shd_test.h5.gz: the publisher's md5sums.txt does not list it; the file "
        "is kept unverified"
    ]
