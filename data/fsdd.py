"""Free Spoken Digit Dataset (FSDD): read the recordings, split them, and fetch them.

FSDD (Jackson et al., github.com/Jakobovski/free-spoken-digit-dataset, CC BY-SA 4.0) holds
3,000 recordings of the digits 0-9, 50 of each digit by each of 6 speakers, as 8 kHz mono
16-bit WAV files named ``recordings/{digit}_{speaker}_{index}.wav``.

Splits (``split_recordings``):

- ``"recordings"``: the dataset's own test split, recordings with index 0-4 (300 files, every
  speaker and digit), against indices 5-49 for training (2,700 files). This holds out
  recordings but not speakers.
- ``"speaker"``: every recording of one held-out speaker (500 files) against all recordings
  of the other five (2,500 files), to measure accuracy on a voice the model never heard.

``fetch`` downloads the 3,000 files from the repository at a fixed commit and checks each one
against the SHA-256 values in ``manifests/fsdd-sha256.txt``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from data import sources
from data.audio import AudioError, read_audio, to_mono
from data.download import fetch_file

log = logging.getLogger(__name__)

# The upstream commit with 6 speakers and 3,000 recordings, the state the manifest pins.
# NOTE: the manifest was computed from a copy of the dataset in that state, not from a
# download at this commit; a recording that differs at the commit fails its checksum.
FSDD_COMMIT = "26eb9aaf76e81b692f806f9140c2d2777410d7a1"
BASE_URL = f"https://raw.githubusercontent.com/Jakobovski/free-spoken-digit-dataset/{FSDD_COMMIT}/"
MANIFEST = Path(__file__).resolve().parent / "manifests" / "fsdd-sha256.txt"
SPEAKERS = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")
DIGITS = tuple(str(d) for d in range(10))
TEST_INDICES = range(0, 5)  # the dataset README: recordings 0-4 form the test set
SPLITS = ("recordings", "speaker")
DEFAULT_HELD_OUT_SPEAKER = "theo"
_NAME = re.compile(r"^(?P<digit>[0-9])_(?P<speaker>[a-z]+)_(?P<index>[0-9]+)\.wav$")


class DatasetError(ValueError):
    """Raised for a missing or malformed FSDD folder; the message says how to get the data."""


@dataclass(frozen=True)
class Recording:
    """One FSDD file: its path, digit label, speaker and index (0-49)."""

    path: Path
    digit: int
    speaker: str
    index: int


def parse_name(path: str | os.PathLike[str]) -> Recording:
    """Parse ``{digit}_{speaker}_{index}.wav``.

    Raises:
        DatasetError: the file name does not follow that pattern.
    """
    path = Path(path)
    match = _NAME.match(path.name)
    if match is None:
        raise DatasetError(
            f"{path.name} is not an FSDD file name ({{digit}}_{{speaker}}_{{index}}.wav)"
        )
    return Recording(path, int(match["digit"]), match["speaker"], int(match["index"]))


def recordings_dir(root: str | os.PathLike[str]) -> Path:
    """Return the folder holding the WAV files: ``root/recordings`` or ``root`` itself.

    Raises:
        DatasetError: neither holds FSDD recordings.
    """
    root = Path(root)
    for candidate in (root / "recordings", root):
        if candidate.is_dir() and any(candidate.glob("[0-9]_*_*.wav")):
            return candidate
    raise DatasetError(
        f"no FSDD recordings ({{digit}}_{{speaker}}_{{index}}.wav) in {root} or "
        f"{root / 'recordings'}. "
        "Download them with `glimpse data fetch fsdd`, or point to a clone of the FSDD repository."
    )


def list_recordings(root: str | os.PathLike[str]) -> list[Recording]:
    """List every FSDD recording under ``root``, sorted by speaker, digit and index."""
    folder = recordings_dir(root)
    found = [parse_name(path) for path in folder.glob("*.wav") if _NAME.match(path.name)]
    return sorted(found, key=lambda r: (r.speaker, r.digit, r.index))


def split_recordings(
    recordings: list[Recording],
    split: str = "recordings",
    held_out_speaker: str = DEFAULT_HELD_OUT_SPEAKER,
) -> tuple[list[Recording], list[Recording]]:
    """Return ``(train, test)`` for the ``"recordings"`` or ``"speaker"`` split described above.

    Raises:
        ValueError: unknown ``split``, or a held-out speaker with no recordings.
    """
    if split == "recordings":
        test = [r for r in recordings if r.index in TEST_INDICES]
        train = [r for r in recordings if r.index not in TEST_INDICES]
    elif split == "speaker":
        speakers = sorted({r.speaker for r in recordings})
        if held_out_speaker not in speakers:
            raise ValueError(
                f"held-out speaker {held_out_speaker!r} has no recordings; choose one of {speakers}"
            )
        test = [r for r in recordings if r.speaker == held_out_speaker]
        train = [r for r in recordings if r.speaker != held_out_speaker]
    else:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return train, test


def load_waveforms(recordings: list[Recording]) -> list[np.ndarray]:
    """Read each recording as 8 kHz mono float32 samples (FSDD files are all 8 kHz mono).

    Raises:
        DatasetError: a file is unreadable or not at 8 kHz.
    """
    waveforms = []
    for recording in recordings:
        try:
            samples, rate = read_audio(recording.path)
        except AudioError as error:
            raise DatasetError(f"{recording.path}: {error}") from error
        if rate != 8_000:
            raise DatasetError(f"{recording.path} is at {rate} Hz; FSDD recordings are 8 kHz")
        waveforms.append(to_mono(samples))
    return waveforms


def read_manifest(path: Path = MANIFEST) -> dict[str, str]:
    """Return ``{relative path: sha256}`` from a ``sha256sum``-format file (``#`` lines skipped)."""
    pinned = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        digest, name = line.split(maxsplit=1)
        pinned[name.strip().lstrip("*")] = digest
    return pinned


def default_root() -> Path | None:
    """Return the folder of a fetched copy, or None when none was fetched."""
    root = sources.data_dir() / "fsdd"
    return root if (root / "recordings").is_dir() else None


def fetch(
    dest: str | os.PathLike[str],
    base_url: str | None = None,
    manifest: Path = MANIFEST,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Download every recording in the manifest into ``dest/recordings`` and verify it.

    Files already present with the right checksum are kept. A file that fails its checksum
    raises and leaves any earlier good copy in place.

    Args:
        dest: folder to fill.
        base_url: mirror ending in ``/`` (tests serve a fixture); defaults to the FSDD
            repository at ``FSDD_COMMIT``.
        manifest: ``sha256sum``-format list of the files to fetch.
        progress: called with (files done, files in total) after each file.

    Returns:
        ``dest``, which ``list_recordings`` then reads.
    """
    dest = Path(dest)
    base = base_url or BASE_URL
    if not base.endswith("/"):
        base += "/"
    pinned = read_manifest(manifest)
    for done, (name, digest) in enumerate(sorted(pinned.items()), start=1):
        fetch_file(base + name, dest / name, digest, algorithm="sha256")
        if progress is not None:
            progress(done, len(pinned))
    log.info("FSDD: %d recordings verified in %s", len(pinned), dest)
    return dest


sources.register(
    sources.Source(
        name="fsdd",
        description="Free Spoken Digit Dataset, 3,000 recordings of 0-9 by 6 speakers (8 kHz)",
        licence="CC BY-SA 4.0, Jackson et al.",
        fetch=fetch,
    )
)
