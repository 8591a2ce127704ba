"""``glimpse eval language``: validation metrics and energy of the shipped models, as one table.

Each model is evaluated on the held-out block of every novel (see ``data.austen``): causal
models by perplexity and bits per byte, masked models by masked-token accuracy and perplexity
over a fixed corruption. Energy per token is the mean over ``ENERGY_WINDOWS`` validation
windows of 128 tokens, from ``analysis.energy.count_ops`` (0.9 pJ per AC, 4.6 pJ per MAC).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from data.atomic import replace_marked_block
from models.language.batches import tiled_windows, token_stream
from models.language.checkpoints import (
    MODEL_NAMES,
    available_models,
    load_model,
    load_shipped_tokenizer,
)
from models.language.metrics import evaluate, token_bytes
from models.language.model import LanguageModel, count_parameters
from models.registry import CheckpointError

ENERGY_WINDOWS = 8
README = Path(__file__).resolve().parents[2] / "README.md"
TABLE_START = "<!-- language-results:start -->"
TABLE_END = "<!-- language-results:end -->"
TWIN = {
    "wd-spikingformer": "ann-causal",
    "spikformer-causal": "ann-causal",
    "we-spikingformer": "ann-masked",
    "spikformer-masked": "ann-masked",
}


def energy_per_token(model: LanguageModel, stream: torch.Tensor) -> tuple[float, float]:
    """Return ``(energy per token in pJ, attention share of the operations)`` over the first
    ``ENERGY_WINDOWS`` validation windows."""
    from analysis.energy import EnergyCosts, count_ops, merge_calls

    costs = EnergyCosts()
    windows = tiled_windows(stream, model.config.context)[:ENERGY_WINDOWS]
    ops = merge_calls(count_ops(model, windows))
    energy = sum(op.energy_pj(costs) for op in ops)
    attention = sum(op.energy_pj(costs) for op in ops if op.name.endswith((".qk", ".av")))
    return energy / model.config.context, attention / max(energy, 1e-12)


def evaluate_all(data_dir: str, max_windows: int = 0, root: Path | None = None) -> list[dict]:
    """Evaluate every shipped model and return one row per model (see ``format_table``).

    Raises:
        data.austen.CorpusError: the novels are not in ``data_dir``.
        models.registry.CheckpointError: no model is installed.
    """
    from data.austen import load_corpus

    names = available_models(root)
    if not names:
        raise CheckpointError(
            "no language checkpoints installed; train them with `glimpse train language`"
        )
    tokenizer = load_shipped_tokenizer(root)
    stream = token_stream(tokenizer, load_corpus(data_dir).validation_text())
    byte_lengths = token_bytes(tokenizer)
    rows = []
    for name in names:
        model, card = load_model(name, root)
        metrics = evaluate(model, stream, byte_lengths, max_windows)
        energy, attention_share = energy_per_token(model, stream)
        rows.append(
            {
                "name": name,
                "architecture": card["architecture"],
                "objective": model.config.objective,
                "parameters": count_parameters(model),
                "train_tokens": card["metrics"].get("train_tokens", float("nan")),
                "energy_pj_per_token": energy,
                "attention_share": attention_share,
                **metrics,
            }
        )
    energy_by_name = {row["name"]: row["energy_pj_per_token"] for row in rows}
    for row in rows:
        twin = TWIN.get(row["name"])
        row["energy_vs_ann"] = (
            row["energy_pj_per_token"] / energy_by_name[twin] if twin in energy_by_name else 1.0
        )
    return rows


def format_table(rows: list[dict]) -> str:
    """Return the results as a Markdown table."""
    lines = [
        "| model | objective | parameters | perplexity | bits per byte | masked perplexity | "
        "masked accuracy | energy per token (nJ) | vs ANN twin |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in sorted(rows, key=lambda r: (r["objective"], MODEL_NAMES.index(r["name"]))):
        if row["objective"] == "causal":
            scores = f"{row['perplexity']:.1f} | {row['bits_per_byte']:.3f} | - | -"
        else:
            scores = f"- | - | {row['perplexity']:.1f} | {100 * row['accuracy']:.1f} %"
        lines.append(
            f"| {row['name']} | {row['objective']} | {row['parameters']:,} | {scores} | "
            f"{row['energy_pj_per_token'] / 1000:.1f} | {row['energy_vs_ann']:.2f} |"
        )
    return "\n".join(lines)


def update_readme(table: str, readme: Path = README) -> None:
    """Replace the text between the two language-results markers in the README with ``table``.

    Raises:
        ValueError: the README lacks the markers.
    """
    replace_marked_block(readme, TABLE_START, TABLE_END, table)


def run_from_args(args: argparse.Namespace) -> int:
    """Run ``glimpse eval language`` and return the exit status."""
    from data.austen import CorpusError, default_root

    if args.threads:
        torch.set_num_threads(args.threads)
    data_dir = args.data_dir or default_root()
    if data_dir is None:
        print(
            "no Austen novels found: pass --data-dir FOLDER or download them with "
            "`glimpse data fetch austen`",
            file=sys.stderr,
        )
        return 2
    try:
        rows = evaluate_all(str(data_dir), args.max_windows)
    except (CorpusError, CheckpointError, OSError) as error:
        print(f"evaluation failed: {error}", file=sys.stderr)
        return 1
    table = format_table(rows)
    print(table)
    if args.update_readme:
        try:
            update_readme(table)
        except ValueError as error:
            print(error, file=sys.stderr)
            return 1
        print(f"updated {README.name}")
    return 0
