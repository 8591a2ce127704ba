"""FSDD: file names, the two documented splits, the pinned manifest and the download."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from data import fsdd
from data.download import ChecksumError, file_digest
from tests.conftest import shared_path
from tests.data.local_server import serve_folder


def test_parse_name():
    recording = fsdd.parse_name("recordings/7_jackson_32.wav")
    assert (recording.digit, recording.speaker, recording.index) == (7, "jackson", 32)
    with pytest.raises(fsdd.DatasetError, match="not an FSDD file name"):
        fsdd.parse_name("seven.wav")


def test_splits_on_real_data():
    recordings = fsdd.list_recordings(shared_path("fsdd"))
    assert len(recordings) == 3000
    train, test = fsdd.split_recordings(recordings, "recordings")
    assert (len(train), len(test)) == (2700, 300)
    assert {r.index for r in test} == set(range(5))
    assert not {r.path for r in train} & {r.path for r in test}
    train, test = fsdd.split_recordings(recordings, "speaker", "theo")
    assert (len(train), len(test)) == (2500, 500)
    assert {r.speaker for r in test} == {"theo"}
    assert "theo" not in {r.speaker for r in train}


def test_unknown_split_and_speaker():
    recordings = [fsdd.parse_name("1_theo_3.wav")]
    with pytest.raises(ValueError, match="split must be one of"):
        fsdd.split_recordings(recordings, "random")
    with pytest.raises(ValueError, match="held-out speaker 'nobody'"):
        fsdd.split_recordings(recordings, "speaker", "nobody")


def test_manifest_pins_the_real_files():
    pinned = fsdd.read_manifest()
    assert len(pinned) == 3000
    root = shared_path("fsdd")
    for name in sorted(pinned)[::300]:  # ten files spread over the list
        assert file_digest(root / name) == pinned[name]


def test_missing_folder_message(tmp_path):
    with pytest.raises(fsdd.DatasetError, match="glimpse data fetch fsdd"):
        fsdd.list_recordings(tmp_path)


def _fixture_site(tmp_path: Path) -> tuple[Path, Path]:
    site = tmp_path / "site"
    (site / "recordings").mkdir(parents=True)
    lines = []
    for name in ("0_alice_0.wav", "1_alice_0.wav", "2_bob_7.wav"):
        buffer = io.BytesIO()
        sf.write(buffer, np.full(800, 0.1, dtype=np.float32), 8000, format="WAV", subtype="PCM_16")
        payload = buffer.getvalue() + name.encode()  # distinct bytes per file
        (site / "recordings" / name).write_bytes(payload)
        lines.append(f"{hashlib.sha256(payload).hexdigest()}  recordings/{name}")
    manifest = tmp_path / "manifest.txt"
    manifest.write_text("# test manifest\n" + "\n".join(lines) + "\n")
    return site, manifest


def test_fetch_from_local_server(tmp_path):
    site, manifest = _fixture_site(tmp_path)
    dest = tmp_path / "fsdd"
    with serve_folder(site) as url:
        assert fsdd.fetch(dest, base_url=url, manifest=manifest) == dest
    listed = fsdd.list_recordings(dest)
    assert [(r.digit, r.speaker) for r in listed] == [(0, "alice"), (1, "alice"), (2, "bob")]


def test_fetch_rejects_changed_file(tmp_path):
    site, manifest = _fixture_site(tmp_path)
    dest = tmp_path / "fsdd"
    with serve_folder(site) as url:
        fsdd.fetch(dest, base_url=url, manifest=manifest)
        good = (dest / "recordings" / "2_bob_7.wav").read_bytes()
        (site / "recordings" / "2_bob_7.wav").write_bytes(b"tampered")
        (dest / "recordings" / "2_bob_7.wav").write_bytes(b"stale copy")
        with pytest.raises(ChecksumError, match=r"2_bob_7\.wav"):
            fsdd.fetch(dest, base_url=url, manifest=manifest)
    assert (dest / "recordings" / "2_bob_7.wav").read_bytes() == b"stale copy"
    assert good != b"stale copy"


@pytest.mark.slow
def test_fetch_command_end_to_end(tmp_path, capsys):
    """``glimpse data fetch fsdd`` downloads all 3,000 files and verifies the whole manifest."""
    from dashboard.cli import main

    source = shared_path("fsdd")
    with serve_folder(source) as url:
        status = main(
            ["data", "fetch", "fsdd", "--dest", str(tmp_path / "fsdd"), "--base-url", url]
        )
    assert status == 0
    assert "fsdd is ready" in capsys.readouterr().out
    assert len(fsdd.list_recordings(tmp_path / "fsdd")) == 3000
