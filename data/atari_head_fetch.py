"""``glimpse data fetch atari-head --game GAME``: download one game of Atari-HEAD from Zenodo.

Atari-HEAD is Zenodo record 3451402 (CC BY 4.0). Its files are one ``<game>.zip`` per game,
holding that game's trials (``.txt`` labels and ``.tar.bz2`` frames), plus
``meta_data.csv`` and ``action_enums.txt``. The fetch:

1. reads the record's API entry ``{base}/api/records/3451402`` (JSON) at download time and
   takes each file's checksum from it (``"checksum": "md5:<hex>"``), so a file that the
   publisher replaces is still verified against what the publisher lists;
2. downloads ``<game>.zip`` and the two metadata files with
   :func:`data.download.fetch_file`, which rejects bytes whose MD5 differs and never
   replaces a good copy with a bad one;
3. unpacks the zip with :func:`data.download.safe_extract_zip` (no absolute paths, ``..``
   parts or links) into ``DEST/<game>/`` and deletes the zip, keeping a
   ``DEST/<game>/.fetched.json`` note of the checksum so a second fetch is skipped.

The trial archives inside are left packed; :class:`data.atari_head.AtariHeadTrial` reads them
lazily. File URLs come from each entry's ``links.self`` (Zenodo serves the bytes at
``.../files/<key>/content``); a ``--base-url`` mirror replaces ``https://zenodo.org`` for the
record and for every file.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from data import sources
from data.atomic import write_json
from data.download import DEFAULT_TIMEOUT_S, UnsafeArchiveError, fetch_file, safe_extract_zip

log = logging.getLogger(__name__)

ZENODO_BASE = "https://zenodo.org"
RECORD_ID = 3451402
METADATA_FILES = ("meta_data.csv", "action_enums.txt")
LICENCE = "CC BY 4.0, Zhang et al. 2020 (Atari-HEAD), Zenodo record 3451402"


class RecordError(ValueError):
    """Raised when the Zenodo record entry is unreadable or lacks a requested file."""


def fetch_record(base_url: str = ZENODO_BASE, record_id: int = RECORD_ID) -> dict[str, Any]:
    """Return the JSON API entry of a Zenodo record.

    Raises:
        OSError: the server could not be reached.
        RecordError: the answer is not a record with a ``files`` list.
    """
    url = f"{base_url.rstrip('/')}/api/records/{record_id}"
    try:
        with urllib.request.urlopen(url, timeout=DEFAULT_TIMEOUT_S) as response:
            payload = response.read()
    except urllib.error.URLError as error:
        raise OSError(f"could not read the Zenodo record {url}: {error.reason}") from error
    try:
        record = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RecordError(f"{url} did not return JSON ({error})") from error
    if not isinstance(record, dict) or not isinstance(record.get("files"), list):
        raise RecordError(f"{url} is not a Zenodo record entry with a 'files' list")
    return record


def record_files(record: dict[str, Any], base_url: str = ZENODO_BASE) -> dict[str, tuple[str, str]]:
    """Return ``{file name: (download URL, md5 hex)}`` for the files of a record entry.

    Raises:
        RecordError: a file entry lacks its name or an ``md5:`` checksum.
    """
    files = {}
    base = base_url.rstrip("/")
    record_id = record.get("id", RECORD_ID)
    for entry in record["files"]:
        key = entry.get("key") or entry.get("filename")
        checksum = str(entry.get("checksum", ""))
        if not key or not checksum.startswith("md5:"):
            raise RecordError(
                f"record file entry {entry!r} lacks a name or an md5 checksum; the record "
                "format changed, so the download cannot be verified"
            )
        links = entry.get("links") or {}
        url = links.get("content") or links.get("self")
        if url and base != ZENODO_BASE:
            # A mirror serves the same paths under its own host.
            url = base + urllib.parse.urlsplit(url).path
        if not url:
            url = f"{base}/api/records/{record_id}/files/{urllib.parse.quote(key)}/content"
        files[key] = (url, checksum.split(":", 1)[1])
    return files


def fetch_atari_head(dest: Path, base_url: str | None = None, game: str = "ms_pacman") -> Path:
    """Download, verify and unpack one Atari-HEAD game into ``dest/<game>``.

    Returns:
        ``dest/<game>``, holding the game's trials.

    Raises:
        OSError: a download failed.
        data.download.ChecksumError: a file does not match the record's MD5.
        data.download.UnsafeArchiveError: the zip holds an unsafe member.
        RecordError: the record lists no ``<game>.zip``.
    """
    base = base_url or ZENODO_BASE
    files = record_files(fetch_record(base), base)
    archive_name = f"{game}.zip"
    if archive_name not in files:
        games = sorted(name[:-4] for name in files if name.endswith(".zip"))
        raise RecordError(
            f"Atari-HEAD has no game {game!r}; games in the record: {', '.join(games)}"
        )
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for name in METADATA_FILES:
        if name in files:
            url, md5 = files[name]
            fetch_file(url, dest / name, md5, algorithm="md5")

    game_dir = dest / game
    note = game_dir / ".fetched.json"
    url, md5 = files[archive_name]
    if note.is_file():
        try:
            if json.loads(note.read_text(encoding="utf-8")).get("md5") == md5:
                log.info("%s already fetched and unpacked", game_dir)
                return game_dir
        except (OSError, json.JSONDecodeError):
            log.warning("ignoring the unreadable note %s", note)
    archive = fetch_file(url, dest / archive_name, md5, algorithm="md5")
    staging = dest / f".{game}.unpacking"
    try:
        written = safe_extract_zip(archive, staging)
    except UnsafeArchiveError:
        archive.unlink()  # rejected before anything was unpacked; do not keep it either
        raise
    # A zip whose members all sit under "<game>/" is unpacked one level up.
    top = {Path(path).relative_to(staging).parts[0] for path in written}
    source = staging / game if top == {game} else staging
    game_dir.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.rglob("*")):
        if path.is_file():
            target = game_dir / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            path.replace(target)
    _remove_tree(staging)
    archive.unlink()
    write_json(note, {"record": RECORD_ID, "file": archive_name, "md5": md5, "licence": LICENCE})
    return game_dir


def _remove_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir():
            path.rmdir()
        else:
            path.unlink()
    folder.rmdir()


sources.register(
    sources.Source(
        name="atari-head",
        description="Atari-HEAD human gaze and frames for one game (--game, default ms_pacman)",
        licence=LICENCE,
        fetch=fetch_atari_head,
    )
)
