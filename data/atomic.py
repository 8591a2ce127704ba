"""Write files so that a reader never sees half of one and a failure keeps the old file."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


def _target_mode(target: Path) -> int:
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` and move it over ``path`` on success.

    The temporary file lives in the same folder, so the final ``os.replace`` is atomic on
    POSIX file systems. If the body raises, the temporary file is removed and ``path`` keeps
    its previous content (or stays absent).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        # mkstemp creates the file with mode 0600. Give the result the mode the file had,
        # or the usual mode of a new file under the current umask.
        os.chmod(tmp, _target_mode(target))
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file for writing that replaces ``path`` only when the block succeeds."""
    if not mode.startswith(("w", "x")):
        raise ValueError(f"atomic_open needs a write mode such as 'w' or 'wb', got {mode!r}")
    with atomic_path(path) as tmp, open(tmp, mode.replace("x", "w"), **kwargs) as handle:
        yield handle


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as indented UTF-8 JSON, atomically."""
    with atomic_open(path, "w", encoding="utf-8") as handle:
        json.dump(obj, handle, indent=2, sort_keys=False, ensure_ascii=False)
        handle.write("\n")


def write_bytes(path: str | os.PathLike[str], payload: bytes) -> None:
    """Write ``payload`` to ``path``, atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(payload)


def replace_marked_block(path: str | os.PathLike[str], start: str, end: str, body: str) -> None:
    """Replace the text between the marker lines ``start`` and ``end`` of a file, atomically.

    Generated tables (README results, benchmark records) live between such markers, so a
    command can rewrite its table and leave the hand-written text around it alone.

    Raises:
        ValueError: the file lacks one of the markers.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if start not in text or end not in text:
        raise ValueError(
            f"{path} lacks the markers {start} and {end}; add them where the block goes"
        )
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    with atomic_open(path, "w", encoding="utf-8") as handle:
        handle.write(f"{head}{start}\n{body}\n{end}{tail}")
