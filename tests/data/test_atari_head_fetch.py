"""``glimpse data fetch atari-head`` against a local server that mimics Zenodo."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from dashboard.cli import main
from data.atari_head import AtariHeadTrial
from data.atari_head_fetch import RECORD_ID, RecordError, fetch_atari_head
from data.download import ChecksumError, UnsafeArchiveError
from tests.data.atari_head_fixtures import messy_trial
from tests.data.local_server import serve_folder


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _site(root: Path, zip_members: dict[str, bytes], *, corrupt: bool = False) -> Path:
    """Lay out a fake Zenodo: the record entry and the files it links to."""
    site = root / "site"
    (site / "files").mkdir(parents=True)
    archive = site / "files" / "ms_pacman.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for name, payload in zip_members.items():
            handle.writestr(name, payload)
    (site / "files" / "meta_data.csv").write_text(
        "GameName,trial_id\nms_pacman,1\n", encoding="utf-8"
    )
    files = []
    for path in sorted((site / "files").iterdir()):
        files.append(
            {
                "key": path.name,
                "size": path.stat().st_size,
                "checksum": f"md5:{_md5(path)}",
                "links": {"self": f"https://zenodo.org/files/{path.name}"},
            }
        )
    if corrupt:  # the served bytes no longer match the published checksum
        archive.write_bytes(archive.read_bytes()[:-10] + b"0123456789")
    record = site / "api" / "records" / str(RECORD_ID)
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({"id": RECORD_ID, "files": files}), encoding="utf-8")
    return site


@pytest.fixture
def trial_members(tmp_path) -> dict[str, bytes]:
    source = tmp_path / "source"
    source.mkdir()
    label = messy_trial(source)
    return {
        f"ms_pacman/{label.name}": label.read_bytes(),
        f"ms_pacman/{label.stem}.tar.bz2": label.with_suffix(".tar.bz2").read_bytes(),
    }


def test_fetch_verifies_and_unpacks(tmp_path, trial_members):
    site = _site(tmp_path, trial_members)
    dest = tmp_path / "data"
    with serve_folder(site) as url:
        game_dir = fetch_atari_head(dest, base_url=url.rstrip("/"), game="ms_pacman")
        again = fetch_atari_head(dest, base_url=url.rstrip("/"), game="ms_pacman")
    assert game_dir == again == dest / "ms_pacman"
    trials = sorted(game_dir.glob("*.txt"))
    assert len(trials) == 1
    assert AtariHeadTrial(trials[0]).frame_ids[0] == "AB_123_1"
    assert (dest / "meta_data.csv").is_file()
    assert not (dest / "ms_pacman.zip").exists()
    assert json.loads((game_dir / ".fetched.json").read_text())["md5"]


def test_corrupted_download_rejected(tmp_path, trial_members):
    site = _site(tmp_path, trial_members, corrupt=True)
    dest = tmp_path / "data"
    with serve_folder(site) as url, pytest.raises(ChecksumError, match="md5"):
        fetch_atari_head(dest, base_url=url.rstrip("/"))
    assert not (dest / "ms_pacman").exists()
    assert not (dest / "ms_pacman.zip").exists()


def test_unsafe_zip_rejected(tmp_path, trial_members):
    site = _site(tmp_path, {**trial_members, "../escape.txt": b"x"})
    dest = tmp_path / "data"
    with serve_folder(site) as url, pytest.raises(UnsafeArchiveError, match="outside"):
        fetch_atari_head(dest, base_url=url.rstrip("/"))
    assert not (tmp_path / "escape.txt").exists()
    assert not (dest / "ms_pacman").exists()
    assert not (dest / "ms_pacman.zip").exists()


def test_unknown_game_lists_games(tmp_path, trial_members):
    site = _site(tmp_path, trial_members)
    with (
        serve_folder(site) as url,
        pytest.raises(RecordError, match="games in the record: ms_pacman"),
    ):
        fetch_atari_head(tmp_path / "data", base_url=url.rstrip("/"), game="pong")


def test_cli_fetch(tmp_path, trial_members, capsys):
    site = _site(tmp_path, trial_members)
    dest = tmp_path / "cli"
    with serve_folder(site) as url:
        status = main(
            [
                "data",
                "fetch",
                "atari-head",
                "--game",
                "ms_pacman",
                "--base-url",
                url.rstrip("/"),
                "--dest",
                str(dest),
            ]
        )
    assert status == 0
    assert "atari-head is ready" in capsys.readouterr().out
    assert list((dest / "ms_pacman").glob("*.tar.bz2"))
