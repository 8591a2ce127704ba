"""Spiking Heidelberg Digits (SHD) and Spiking Speech Commands (SSC): read, bin and fetch.

Both datasets (Cramer, Stradmann, Schemmel and Zenke, IEEE TNNLS 2022, CC BY 4.0) come as
gzip-compressed HDF5 files with one sample per row of three datasets:

- ``spikes/times``: variable-length float arrays, spike times in seconds;
- ``spikes/units``: variable-length integer arrays, the cochlea channel (0-699) of each spike;
- ``labels``: the class of each sample (20 for SHD, 35 for SSC).

:func:`bin_events` turns one sample into SpikCommander's input: spike counts in 10 ms bins
(``T = 100`` covers the first second; later spikes are dropped) with the 700 channels summed
in groups of 5 into 140.
"""

from __future__ import annotations

import gzip
import logging
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from data import sources
from data.atomic import atomic_path
from data.download import DEFAULT_TIMEOUT_S, fetch_file

log = logging.getLogger(__name__)

BASE_URL = "https://zenkelab.org/datasets/"
# The publisher lists the MD5 sum of every file in this file beside the data. No copy of the
# list could be read when this module was written, so no value is pinned here: the fetch reads
# the list from the publisher and reports a file that the list does not cover as unverified.
CHECKSUM_LIST = "md5sums.txt"
FILES = {
    "shd": ("shd_train.h5.gz", "shd_test.h5.gz"),
    "ssc": ("ssc_train.h5.gz", "ssc_valid.h5.gz", "ssc_test.h5.gz"),
}
N_CLASSES = {"shd": 20, "ssc": 35}
CHANNELS = 700  # cochlea model channels in both datasets
GROUP = 5  # SpikCommander sums 5 neighbouring channels: 700 -> 140
BIN_MS = 10.0
STEPS = 100


class SpikingDatasetError(ValueError):
    """Raised for a file that is not in the published SHD/SSC layout."""


def bin_events(
    times: np.ndarray,
    units: np.ndarray,
    *,
    steps: int = STEPS,
    bin_ms: float = BIN_MS,
    channels: int = CHANNELS,
    group: int = GROUP,
) -> np.ndarray:
    """Count spikes per ``bin_ms`` bin and per group of ``group`` channels.

    Spike ``i`` falls into step ``floor(times[i] * 1000 / bin_ms)`` and input
    ``units[i] // group``; steps at or after ``steps`` are dropped.

    Returns:
        ``[steps, channels // group]`` float32 spike counts.

    Raises:
        SpikingDatasetError: lengths differ, or a unit lies outside ``[0, channels)``.
    """
    times = np.asarray(times, dtype=np.float64)
    units = np.asarray(units, dtype=np.int64)
    if times.shape != units.shape:
        raise SpikingDatasetError(f"{len(times)} spike times but {len(units)} units in one sample")
    if len(units) and (units.min() < 0 or units.max() >= channels):
        raise SpikingDatasetError(
            f"spike units must lie in [0, {channels}), got {units.min()}-{units.max()}"
        )
    frames = np.zeros((steps, channels // group), dtype=np.float32)
    step = np.floor(times * 1000.0 / bin_ms).astype(np.int64)
    keep = (step >= 0) & (step < steps)
    np.add.at(frames, (step[keep], units[keep] // group), 1.0)
    return frames


class SpikingSpeechFile:
    """One SHD or SSC HDF5 file, read lazily: ``file[i]`` is ``(frames [T, 140], label)``.

    Raises:
        SpikingDatasetError: the file lacks ``spikes/times``, ``spikes/units`` or ``labels``,
            or their lengths differ.
    """

    def __init__(self, path: str | os.PathLike[str], **binning: float) -> None:
        import h5py

        self.path = Path(path)
        if not self.path.exists():
            raise SpikingDatasetError(
                f"{self.path} not found; fetch it with `glimpse data fetch shd` or `ssc`"
            )
        self.binning = binning
        try:
            self._file = h5py.File(self.path, "r")
        except OSError as error:
            raise SpikingDatasetError(
                f"{self.path} is not an HDF5 file ({error}); decompress the .gz first"
            ) from error
        missing = [
            key for key in ("spikes/times", "spikes/units", "labels") if key not in self._file
        ]
        if missing:
            self._file.close()
            raise SpikingDatasetError(
                f"{self.path} lacks {missing}; it is not in the published SHD/SSC layout"
            )
        self.times = self._file["spikes/times"]
        self.units = self._file["spikes/units"]
        self.labels = np.asarray(self._file["labels"], dtype=np.int64)
        if not len(self.times) == len(self.units) == len(self.labels):
            sizes = (len(self.times), len(self.units), len(self.labels))
            self._file.close()
            raise SpikingDatasetError(
                f"{self.path}: times, units and labels have {sizes} rows; they must agree"
            )

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[np.ndarray, int]:
        frames = bin_events(self.times[index], self.units[index], **self.binning)
        return frames, int(self.labels[index])

    def close(self) -> None:
        """Close the HDF5 file."""
        self._file.close()

    def __enter__(self) -> SpikingSpeechFile:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def parse_checksums(text: str) -> dict[str, str]:
    """Parse ``md5sum`` output (``<32 hex digits>  <name>`` per line) into ``{name: md5}``."""
    listed = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and len(parts[0]) == 32:
            listed[parts[1].lstrip("*")] = parts[0].lower()
    return listed


def published_checksums(base_url: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> dict[str, str]:
    """Read the publisher's MD5 list from ``base_url``; an empty dict when it cannot be read."""
    url = base_url + CHECKSUM_LIST
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return parse_checksums(response.read().decode("utf-8", errors="replace"))
    except (urllib.error.URLError, OSError) as error:
        log.warning("could not read the checksum list %s (%s)", url, error)
        return {}


def gunzip(archive: Path) -> Path:
    """Decompress ``NAME.h5.gz`` beside itself to ``NAME.h5``, atomically."""
    target = archive.with_suffix("")
    with gzip.open(archive, "rb") as source, atomic_path(target) as tmp, open(tmp, "wb") as out:
        shutil.copyfileobj(source, out, length=1 << 20)
    return target


def fetch_dataset(name: str, dest: str | os.PathLike[str], base_url: str | None = None) -> Path:
    """Download the files of ``name`` (``"shd"`` or ``"ssc"``), verify them and decompress them.

    Each ``.h5.gz`` is checked against the MD5 that the publisher's ``md5sums.txt`` lists for
    it. A file the list does not cover, or every file when the list cannot be read, is kept
    with a warning that it could not be verified.

    Returns:
        ``dest``, holding the ``.h5.gz`` files and their decompressed ``.h5``.
    """
    dest = Path(dest)
    base = base_url or BASE_URL
    if not base.endswith("/"):
        base += "/"
    listed = published_checksums(base)
    for filename in FILES[name]:
        expected = listed.get(filename)
        if expected is None:
            log.warning(
                "could not verify %s: the publisher's %s does not list it; the file is kept "
                "unverified",
                filename,
                CHECKSUM_LIST,
            )
        archive = fetch_file(base + filename, dest / filename, expected, algorithm="md5")
        gunzip(archive)
    return dest


def _fetch_shd(dest: str | os.PathLike[str], base_url: str | None = None) -> Path:
    return fetch_dataset("shd", dest, base_url)


def _fetch_ssc(dest: str | os.PathLike[str], base_url: str | None = None) -> Path:
    return fetch_dataset("ssc", dest, base_url)


sources.register(
    sources.Source(
        name="shd",
        description="Spiking Heidelberg Digits, 10,420 cochlea spike trains of 20 spoken digits",
        licence="CC BY 4.0, Cramer et al. 2022",
        fetch=_fetch_shd,
    )
)
sources.register(
    sources.Source(
        name="ssc",
        description="Spiking Speech Commands, 105,829 cochlea spike trains of 35 words",
        licence="CC BY 4.0, Cramer et al. 2022",
        fetch=_fetch_ssc,
    )
)
