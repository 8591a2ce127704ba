"""Atomic writes and marker-block replacement."""

from __future__ import annotations

import os
import stat

import pytest

from data.atomic import atomic_open, replace_marked_block, write_json


def test_marked_block_replaced_and_rest_kept(tmp_path):
    doc = tmp_path / "README.md"
    doc.write_text("intro\n<!-- t:start -->\nold\n<!-- t:end -->\noutro\n", encoding="utf-8")
    replace_marked_block(doc, "<!-- t:start -->", "<!-- t:end -->", "| new |")
    assert doc.read_text(encoding="utf-8") == (
        "intro\n<!-- t:start -->\n| new |\n<!-- t:end -->\noutro\n"
    )


def test_missing_marker_leaves_file_unchanged(tmp_path):
    doc = tmp_path / "README.md"
    doc.write_text("intro\n<!-- t:start -->\nold\n", encoding="utf-8")
    with pytest.raises(ValueError, match="lacks the markers"):
        replace_marked_block(doc, "<!-- t:start -->", "<!-- t:end -->", "| new |")
    assert doc.read_text(encoding="utf-8") == "intro\n<!-- t:start -->\nold\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]


def test_write_json_leaves_no_temporary(tmp_path):
    target = tmp_path / "card.json"
    write_json(target, {"a": 1})
    assert target.read_text(encoding="utf-8").strip().startswith("{")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["card.json"]


def test_new_file_gets_umask_mode(tmp_path):
    target = tmp_path / "table.md"
    umask = os.umask(0o022)
    try:
        with atomic_open(target, "w") as handle:
            handle.write("x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_replacement_keeps_file_mode(tmp_path):
    target = tmp_path / "run.sh"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o755)
    with atomic_open(target, "w") as handle:
        handle.write("new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
