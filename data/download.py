"""Download files with a pinned checksum and unpack archives without unsafe members.

Every public source that Glimpse can fetch goes through :func:`fetch_file`, which streams to a
temporary file, checks the SHA-256 (or MD5 where that is all the publisher lists) and only
then moves the file into place, so an interrupted or corrupted download never replaces a good
copy. :func:`safe_extract_tar` refuses absolute paths, ``..`` components, links and device
files before anything is written.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import tarfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from data.atomic import atomic_path

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
DEFAULT_TIMEOUT_S = 60.0


class ChecksumError(ValueError):
    """Raised when a downloaded or local file does not match its pinned checksum."""


class UnsafeArchiveError(ValueError):
    """Raised when an archive holds a member that would land outside the target folder."""


def file_digest(path: str | os.PathLike[str], algorithm: str = "sha256") -> str:
    """Return the hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path: str | os.PathLike[str], expected: str, algorithm: str = "sha256") -> None:
    """Raise :class:`ChecksumError` unless the file's digest equals ``expected``."""
    actual = file_digest(path, algorithm)
    if actual.lower() != expected.lower():
        raise ChecksumError(
            f"{path}: {algorithm} is {actual}, expected {expected}. The file is corrupted or "
            "is not the published version; delete it and fetch it again."
        )


def fetch_file(
    url: str,
    dest: str | os.PathLike[str],
    expected: str | None,
    *,
    algorithm: str = "sha256",
    timeout_s: float = DEFAULT_TIMEOUT_S,
    progress: Callable[[int, int | None], None] | None = None,
) -> Path:
    """Download ``url`` to ``dest`` and verify it against ``expected``.

    A ``dest`` that already exists with the right checksum is kept and not downloaded again.
    With ``expected=None`` the file is stored unverified and a warning is logged; callers use
    this only for files whose publisher lists no checksum, and say so to the user.

    Args:
        url: http(s) or file URL.
        dest: final path of the file.
        expected: hex digest the file must have, or None when no published value exists.
        algorithm: hashlib name of the digest, ``"sha256"`` or ``"md5"``.
        timeout_s: socket timeout for the request.
        progress: called with (bytes so far, total bytes or None) after each chunk.

    Returns:
        The path of the verified file.

    Raises:
        ChecksumError: the downloaded bytes do not match ``expected``; ``dest`` is untouched.
        OSError: the server could not be reached or answered with an error status.
    """
    target = Path(dest)
    if expected is not None and target.exists():
        try:
            verify_file(target, expected, algorithm)
            log.info("%s already present and verified", target)
            return target
        except ChecksumError:
            log.warning("%s exists but fails its checksum; downloading it again", target)

    log.info("downloading %s -> %s", url, target)
    try:
        response = urllib.request.urlopen(url, timeout=timeout_s)
    except urllib.error.URLError as error:
        raise OSError(f"could not download {url}: {error.reason}") from error
    with response, atomic_path(target) as tmp:
        total = response.headers.get("Content-Length")
        total_bytes = int(total) if total and total.isdigit() else None
        digest = hashlib.new(algorithm)
        done = 0
        with open(tmp, "wb") as out:
            for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total_bytes)
        if expected is None:
            log.warning("%s has no published checksum; stored it unverified", url)
        elif digest.hexdigest().lower() != expected.lower():
            raise ChecksumError(
                f"download of {url} has {algorithm} {digest.hexdigest()}, expected {expected}; "
                f"{target} was left unchanged. Try again, or check that the source URL is right."
            )
    return target


def check_tar_member(member: tarfile.TarInfo, root: Path) -> None:
    """Raise :class:`UnsafeArchiveError` unless ``member`` is a file or folder inside ``root``."""
    name = PurePosixPath(member.name)
    if member.issym() or member.islnk():
        raise UnsafeArchiveError(
            f"archive member {member.name!r} is a link; links are not unpacked"
        )
    if not (member.isfile() or member.isdir()):
        raise UnsafeArchiveError(
            f"archive member {member.name!r} is not a regular file or folder; it is rejected"
        )
    if name.is_absolute() or ".." in name.parts:
        raise UnsafeArchiveError(
            f"archive member {member.name!r} would be written outside {root}; the archive is rejected"
        )
    resolved = (root / name).resolve()
    if root.resolve() not in (resolved, *resolved.parents):
        raise UnsafeArchiveError(f"archive member {member.name!r} resolves outside {root}")


def check_tar_members(archive: str | os.PathLike[str], root: str | os.PathLike[str]) -> list[str]:
    """Return the member names of a tar archive after checking that every one is safe.

    Raises:
        UnsafeArchiveError: a member is a link, a device, absolute, or escapes ``root``.
    """
    root_path = Path(root)
    names = []
    with tarfile.open(archive, "r:*") as tar:
        for member in tar:
            check_tar_member(member, root_path)
            names.append(member.name)
    return names


def safe_extract_tar(archive: str | os.PathLike[str], dest: str | os.PathLike[str]) -> list[Path]:
    """Unpack a tar archive into ``dest`` after checking every member.

    All members are checked before the first file is written, so a rejected archive leaves
    ``dest`` as it was. Each file is written atomically.

    Returns:
        The paths of the files written.

    Raises:
        UnsafeArchiveError: see :func:`check_tar_members`.
    """
    root = Path(dest)
    check_tar_members(archive, root)
    written = []
    with tarfile.open(archive, "r:*") as tar:
        for member in tar:
            target = root / member.name
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            source = tar.extractfile(member)
            if source is None:
                raise UnsafeArchiveError(f"archive member {member.name!r} could not be read")
            with source, atomic_path(target) as tmp, open(tmp, "wb") as out:
                for chunk in iter(lambda src=source: src.read(CHUNK_BYTES), b""):
                    out.write(chunk)
            written.append(target)
    return written


def check_zip_members(archive: str | os.PathLike[str], root: str | os.PathLike[str]) -> list[str]:
    """Return the member names of a zip archive after checking that every one is safe.

    A member is rejected when it is a symbolic link (Unix mode ``S_IFLNK`` in its external
    attributes), is absolute or has a drive letter, or has a ``..`` part that leaves ``root``.

    Raises:
        UnsafeArchiveError: a member is unsafe, or the file is not a zip archive.
    """
    root_path = Path(root)
    try:
        with zipfile.ZipFile(archive) as handle:
            infos = handle.infolist()
    except zipfile.BadZipFile as error:
        raise UnsafeArchiveError(f"{archive} is not a zip archive ({error})") from error
    names = []
    for info in infos:
        name = PurePosixPath(info.filename)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise UnsafeArchiveError(
                f"archive member {info.filename!r} is a link; links are not unpacked"
            )
        drive = bool(name.parts) and ":" in name.parts[0]
        if name.is_absolute() or ".." in name.parts or drive:
            raise UnsafeArchiveError(
                f"archive member {info.filename!r} would be written outside {root_path}; "
                "the archive is rejected"
            )
        resolved = (root_path / name).resolve()
        if root_path.resolve() not in (resolved, *resolved.parents):
            raise UnsafeArchiveError(
                f"archive member {info.filename!r} resolves outside {root_path}"
            )
        names.append(info.filename)
    return names


def safe_extract_zip(archive: str | os.PathLike[str], dest: str | os.PathLike[str]) -> list[Path]:
    """Unpack a zip archive into ``dest`` after checking every member.

    All members are checked before the first file is written, so a rejected archive leaves
    ``dest`` as it was. Each file is written atomically.

    Returns:
        The paths of the files written.

    Raises:
        UnsafeArchiveError: see :func:`check_zip_members`.
    """
    root = Path(dest)
    check_zip_members(archive, root)
    written = []
    with zipfile.ZipFile(archive) as handle:
        for info in handle.infolist():
            target = root / info.filename
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            with handle.open(info) as source, atomic_path(target) as tmp, open(tmp, "wb") as out:
                for chunk in iter(lambda src=source: src.read(CHUNK_BYTES), b""):
                    out.write(chunk)
            written.append(target)
    return written
