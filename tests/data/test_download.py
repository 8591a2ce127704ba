"""Checksummed downloads from a local server and safe archive extraction."""

import hashlib
import io
import tarfile

import pytest

from data.atomic import write_json
from data.download import (
    ChecksumError,
    UnsafeArchiveError,
    fetch_file,
    safe_extract_tar,
    verify_file,
)
from tests.data.local_server import serve_folder


def _sha256(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def test_fetch_verifies_and_keeps_good_copy(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    payload = b"spikes and gaze" * 1000
    (served / "file.bin").write_bytes(payload)
    dest = tmp_path / "out" / "file.bin"
    with serve_folder(served) as base:
        fetch_file(base + "file.bin", dest, _sha256(payload))
        assert dest.read_bytes() == payload
        (served / "file.bin").write_bytes(b"changed upstream")
        fetch_file(
            base + "file.bin", dest, _sha256(payload)
        )  # present and valid: not fetched again
    assert dest.read_bytes() == payload


def test_fetch_rejects_corrupted_download_and_keeps_old_file(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    (served / "file.bin").write_bytes(b"corrupted bytes")
    dest = tmp_path / "file.bin"
    dest.write_bytes(b"previous copy")
    with serve_folder(served) as base, pytest.raises(ChecksumError, match="left unchanged"):
        fetch_file(base + "file.bin", dest, _sha256(b"the real bytes"))
    assert dest.read_bytes() == b"previous copy"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_fetch_reports_missing_file(tmp_path):
    with serve_folder(tmp_path) as base, pytest.raises(OSError, match="could not download"):
        fetch_file(base + "absent.bin", tmp_path / "x.bin", "0" * 64)


def test_verify_file_md5(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"abc")
    verify_file(path, "900150983cd24fb0d6963f7d28e17f72", "md5")
    with pytest.raises(ChecksumError, match="expected"):
        verify_file(path, "0" * 32, "md5")


def _tar_with(members) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:bz2") as tar:
        for info, payload in members:
            tar.addfile(info, io.BytesIO(payload) if payload is not None else None)
    return buffer.getvalue()


def _file(name: str, payload: bytes):
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    return info, payload


@pytest.mark.parametrize(
    "bad",
    [
        _file("../escape.txt", b"x"),
        _file("/etc/absolute.txt", b"x"),
        _file("folder/../../escape.txt", b"x"),
    ],
    ids=["parent", "absolute", "nested-parent"],
)
def test_extract_rejects_paths_outside_target(tmp_path, bad):
    archive = tmp_path / "bad.tar.bz2"
    archive.write_bytes(_tar_with([_file("ok.txt", b"fine"), bad]))
    target = tmp_path / "target"
    with pytest.raises(UnsafeArchiveError, match="outside"):
        safe_extract_tar(archive, target)
    assert not (target / "ok.txt").exists(), "nothing is written when any member is unsafe"


def test_extract_rejects_links(tmp_path):
    link = tarfile.TarInfo("link")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    archive = tmp_path / "link.tar.bz2"
    archive.write_bytes(_tar_with([(link, None)]))
    with pytest.raises(UnsafeArchiveError, match="is a link"):
        safe_extract_tar(archive, tmp_path / "target")


def test_extract_writes_good_archive(tmp_path):
    archive = tmp_path / "good.tar.bz2"
    archive.write_bytes(_tar_with([_file("trial/a.png", b"png"), _file("trial/b.txt", b"txt")]))
    written = safe_extract_tar(archive, tmp_path / "target")
    assert sorted(p.name for p in written) == ["a.png", "b.txt"]
    assert (tmp_path / "target" / "trial" / "a.png").read_bytes() == b"png"


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    path = tmp_path / "result.json"
    write_json(path, {"ok": 1})
    with pytest.raises(TypeError):
        write_json(path, {"bad": object()})
    assert path.read_text().strip().startswith("{")
    assert '"ok": 1' in path.read_text()
