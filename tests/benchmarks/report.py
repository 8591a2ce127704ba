"""Write benchmark results into docs/benchmarks.md, one marked section per benchmark group."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import torch

from data.atomic import atomic_open

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Timings on the machine named in each section, produced by
`python -m pytest tests/benchmarks -m benchmark -s` (one group: `-k NAME`). Each section is
rewritten by its benchmark; ratios compare against a named peer measured in the same run.
"""


def machine() -> str:
    """One line describing the machine and the thread count the benchmark ran with."""
    cpu = platform.processor() or platform.machine()
    return f"{os.cpu_count()} CPU cores ({cpu}), torch {torch.__version__} with {torch.get_num_threads()} threads"


def update_section(name: str, body: str, doc: Path = DOC) -> None:
    """Replace (or append) the section ``name`` of the benchmarks page with ``body``."""
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    text = doc.read_text(encoding="utf-8") if doc.exists() else HEADER
    block = f"{start}\n{body.strip()}\n{end}"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{block}{tail}"
    else:
        text = f"{text.rstrip()}\n\n{block}\n"
    with atomic_open(doc, "w", encoding="utf-8") as handle:
        handle.write(text)
