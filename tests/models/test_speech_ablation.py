"""The ablation table and the README update, from stored results."""

from __future__ import annotations

import pytest

from models.speech.ablation import ablation_table, replace_between, update_readme

RESULTS = {
    "command": "glimpse eval speech --ablation",
    "epochs": 8,
    "seed": 312,
    "rows": [
        {"variant": "local view only", "views": "local/plain", "parameters": 109354,
         "test_accuracy": 0.9, "train_seconds": 600.0},
        {"variant": "+ global view", "views": "local+global/plain", "parameters": 109354,
         "test_accuracy": 0.925, "train_seconds": 660.0},
    ],
}  # fmt: skip


def test_table_rows_and_footer():
    lines = ablation_table(RESULTS).splitlines()
    assert lines[2] == "| local view only | `local/plain` | 109,354 | 90.0 % |"
    assert lines[3] == "| + global view | `local+global/plain` | 109,354 | 92.5 % |"
    assert "8 epochs per variant, seed 312, 21 minutes" in lines[-1]


def test_readme_section_replaced(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- a -->\nold\n<!-- b -->\noutro\n")
    update_readme(readme, "<!-- a -->", "<!-- b -->", "new table")
    assert readme.read_text() == "intro\n<!-- a -->\nnew table\n<!-- b -->\noutro\n"


def test_missing_markers_message():
    with pytest.raises(ValueError, match="README markers"):
        replace_between("no markers here", "<!-- a -->", "<!-- b -->", "x")
