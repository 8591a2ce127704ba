"""The branch ablation of SpikCommander on FSDD, and the README tables built from results.

The four variants add one part at a time, as in the authors' ablation read in reverse:

1. local view only, plain MLP;
2. local + global views, plain MLP;
3. local + global views + V-branch, plain MLP;
4. local + global views + V-branch, SCR-MLP (the full model).

Each variant trains from the same seed with the same budget on the ``"recordings"`` split and
is tested on the 300 held-out recordings.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from data.atomic import replace_marked_block, write_json
from models.registry import CHECKPOINT_ROOT
from models.speech.config import SpikCommanderConfig
from models.speech.train import TrainConfig, train

log = logging.getLogger(__name__)

RESULTS_PATH = CHECKPOINT_ROOT / "speech" / "results" / "ablation.json"
README_START = "<!-- speech-ablation:start -->"
README_END = "<!-- speech-ablation:end -->"

VARIANTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("local view only", {"global_view": False, "v_branch": False, "mlp": "plain"}),
    ("+ global view", {"v_branch": False, "mlp": "plain"}),
    ("+ V-branch", {"mlp": "plain"}),
    ("+ SCR-MLP instead of the plain MLP (full model)", {}),
)


def variant_configs(
    base: SpikCommanderConfig | None = None,
) -> list[tuple[str, SpikCommanderConfig]]:
    """Return ``(label, config)`` for each ablation variant, built on ``base``."""
    base = base or SpikCommanderConfig()
    full = replace(base, local_view=True, global_view=True, v_branch=True, mlp="scr")
    return [(label, replace(full, **changes)) for label, changes in VARIANTS]


def _train_variant(label: str, config: TrainConfig) -> dict[str, Any]:
    if not logging.getLogger().handlers:  # a spawned worker starts without the CLI's logging
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    log.info("ablation: %s (%s)", label, config.model.variant)
    metrics = train(config)
    return {
        "variant": label,
        "views": config.model.variant,
        "parameters": metrics["parameters"],
        "test_accuracy": metrics["test_accuracy"],
        "train_seconds": metrics["train_seconds"],
    }


def run_ablation(
    data_dir: str,
    *,
    epochs: int,
    seed: int,
    threads: int = 0,
    limit: int = 0,
    jobs: int = 1,
    command: str = "",
    results_path: Path | None = RESULTS_PATH,
) -> dict[str, Any]:
    """Train and test every variant; write the results to ``results_path`` (atomically).

    With ``jobs > 1`` the variants train in that many worker processes at once; each run is
    seeded alike, so the rows do not depend on ``jobs``.

    Returns:
        ``{"command", "epochs", "seed", "rows": [{"variant", "views", "parameters",
        "test_accuracy", "train_seconds"}, ...]}`` with rows in variant order.
    """
    runs = [
        (
            label,
            TrainConfig(
                data_dir=data_dir,
                model=model,
                epochs=epochs,
                seed=seed,
                threads=threads,
                limit=limit,
            ),
        )
        for label, model in variant_configs()
    ]
    if jobs > 1:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            rows = list(pool.map(_train_variant, *zip(*runs, strict=True)))
    else:
        rows = [_train_variant(label, config) for label, config in runs]
    results = {"command": command, "epochs": epochs, "seed": seed, "jobs": jobs, "rows": rows}
    if results_path is not None:
        write_json(results_path, results)
    return results


def load_ablation(path: Path = RESULTS_PATH) -> dict[str, Any] | None:
    """Return the stored ablation results, or None when none were written."""
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def ablation_table(results: dict[str, Any]) -> str:
    """Format ablation results as a Markdown table with the command and run time under it."""
    lines = [
        "| variant | branches / MLP | parameters | test accuracy (300 held-out recordings) |",
        "| --- | --- | ---: | ---: |",
    ]
    total = 0.0
    for row in results["rows"]:
        total += row["train_seconds"]
        lines.append(
            f"| {row['variant']} | `{row['views']}` | {row['parameters']:,} | "
            f"{100 * row['test_accuracy']:.1f} % |"
        )
    lines.append("")
    lines.append(
        f"Made by `{results['command']}`: {results['epochs']} epochs per variant, seed "
        f"{results['seed']}, {total / 60:.0f} minutes of training in all (one CPU thread per "
        "run)."
    )
    return "\n".join(lines)


def replace_between(text: str, start: str, end: str, body: str) -> str:
    """Replace what lies between the markers ``start`` and ``end`` in ``text`` with ``body``.

    Raises:
        ValueError: the markers are missing or out of order.
    """
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), flags=re.DOTALL)
    if not pattern.search(text):
        raise ValueError(
            f"README markers {start} ... {end} not found; add them where the table goes"
        )
    return pattern.sub(lambda _match: f"{start}\n{body}\n{end}", text, count=1)


def update_readme(readme: Path, start: str, end: str, body: str) -> None:
    """Rewrite one marked section of the README, atomically."""
    replace_marked_block(readme, start, end, body)
