"""``glimpse eval atari``: returns of the shipped agents, the gaze model's held-out metrics,
and each agent's similarity to human attention on an Atari-HEAD trial.

With ``--update-cards`` the returns are written into the agent cards; with
``--update-readme`` the tables replace the block between the ``atari-results`` markers in
``README.md``, so the README shows exactly what this command printed.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.registry import CHECKPOINT_ROOT, CheckpointError

log = logging.getLogger(__name__)

AREA = "atari"
README = Path(__file__).resolve().parents[2] / "README.md"
SAMPLE_TRIAL = (
    Path(__file__).resolve().parents[2]
    / "data"
    / "samples"
    / "atari_head"
    / "ms_pacman"
    / "593_RZ_5037271_Aug-05-15-35-12.txt"
)
BEGIN = "<!-- atari-results:begin -->"
END = "<!-- atari-results:end -->"
SIMILARITY_METRICS = ("nss", "auc_judd", "auc_shuffled", "cc", "sim", "kl")


def agent_returns(episodes: int, seed: int, update_cards: bool) -> pd.DataFrame:
    """Play every shipped agent and return one row per checkpoint."""
    from models.atari.agents import shipped_agents
    from models.atari.evaluate import evaluate_checkpoint

    rows = []
    for card in shipped_agents():
        stem = CHECKPOINT_ROOT / AREA / card["name"]
        result = evaluate_checkpoint(stem, episodes=episodes, seed=seed, update_card=update_cards)
        rows.append(
            {
                "checkpoint": card["name"],
                "variant": card.get("variant"),
                "frames": card.get("frames"),
                "return_mean": result["return_mean"],
                "return_std": result["return_std"],
                "episodes": result["episodes"],
            }
        )
        log.info("%s: %.1f +- %.1f", card["name"], result["return_mean"], result["return_std"])
    return pd.DataFrame(rows)


def gaze_metrics(trial: str | None) -> dict[str, Any]:
    """Return the gaze model's held-out metrics: recomputed on ``trial``, else from its card."""
    from models.atari.gaze_net import load_gaze_model

    stem = CHECKPOINT_ROOT / AREA / "gaze-ms_pacman"
    model, card = load_gaze_model(stem)
    stored = card["metrics"]
    if not trial:
        return stored
    from data.atari_head import AtariHeadTrial
    from models.atari.train_gaze import build_dataset, evaluate_maps, predict, split_frames

    config = card["config"]["train"]
    labelled = AtariHeadTrial(trial).labelled_frame_ids
    if config.get("limit"):
        labelled = labelled[: config["limit"]]
    _, held_ids = split_frames(labelled, config["held_out"])
    held = build_dataset(AtariHeadTrial(trial), held_ids)
    recomputed = evaluate_maps(predict(model, held.inputs), held.heat_maps, held.fixations)
    return {**stored, "held_out": recomputed}


def similarity_table(trial: str, method: str, stride: int) -> pd.DataFrame:
    """Score every shipped agent against the human gaze of ``trial`` (every ``stride``-th frame)."""
    from analysis.atari.compare import fixation_indices
    from analysis.atari.frames import TrialSequence
    from analysis.atari.pipeline import analyse_frames
    from analysis.atari.similarity import checkpoint_table
    from data.atari_head import AtariHeadTrial
    from models.atari.agents import load_shipped, shipped_agents

    sequence = TrialSequence(AtariHeadTrial(trial))
    cells = fixation_indices([sequence.gaze(i) for i in range(len(sequence))])
    indices = [i for i in range(0, len(sequence), stride) if sequence.gaze(i) is not None]
    results, cards = {}, {}
    for card in shipped_agents():
        agent = load_shipped(card["name"])
        rows = analyse_frames(agent, sequence, indices, method=method, cells=cells, with_emd=False)
        results[card["name"]] = pd.DataFrame(rows)
        cards[card["name"]] = card
    return checkpoint_table(results, cards)


def _markdown(frame: pd.DataFrame, floats: str = "{:.3f}") -> str:
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    lines = [header, rule]
    for _, row in frame.iterrows():
        cells = []
        for value in row:
            if isinstance(value, float | np.floating):
                cells.append("" if np.isnan(value) else floats.format(value))
            else:
                cells.append(str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render(
    returns: pd.DataFrame, gaze: dict[str, Any], similarity: pd.DataFrame | None, command: str
) -> str:
    """Return the results block as Markdown."""
    parts = [f"Produced by `{command}`.", ""]
    table = returns.copy()
    table["return"] = [
        f"{m:.0f} ± {s:.0f} (n={n})"
        for m, s, n in zip(table.return_mean, table.return_std, table.episodes, strict=True)
    ]
    parts += ["Agents (whole games, sticky actions, scores unclipped):", ""]
    parts += [_markdown(table[["checkpoint", "variant", "frames", "return"]]), ""]
    held, paper, prior = (
        gaze["held_out"],
        gaze.get("paper") or {},
        gaze.get("centre_bias_baseline", {}),
    )
    rows = pd.DataFrame(
        [
            {
                "metric": key.upper(),
                "gaze model (held out)": held[key],
                "centre-bias baseline": prior.get(key, float("nan")),
                "Atari-HEAD paper": paper.get(key, float("nan")),
            }
            for key in ("nss", "auc", "kl", "cc")
        ]
    )
    parts += [
        f"Gaze model on {gaze.get('held_out_frames')} held-out frames "
        f"({gaze.get('held_out_first')} to {gaze.get('held_out_last')}):",
        "",
        _markdown(rows),
        "",
    ]
    if similarity is not None and not similarity.empty:
        columns = ["checkpoint", "frames", "return_mean", *SIMILARITY_METRICS]
        parts += [
            "Similarity of perturbation saliency (actor) to human gaze on the shipped sample:",
            "",
        ]
        parts += [_markdown(similarity[columns]), ""]
    return "\n".join(parts)


def update_readme(block: str, path: Path = README) -> None:
    """Replace the text between the atari-results markers of the README with ``block``."""
    from data.atomic import replace_marked_block

    replace_marked_block(path, BEGIN, END, block)


def run_from_args(args: argparse.Namespace) -> int:
    """Run ``glimpse eval atari``."""
    import torch

    from models.atari.cli import _command_line

    torch.set_num_threads(args.threads)
    try:
        returns = agent_returns(args.episodes, args.seed, args.update_cards)
        gaze = gaze_metrics(args.trial)
    except (CheckpointError, ValueError) as error:
        print(f"evaluation failed: {error}", file=sys.stderr)
        return 2
    similarity = None
    if not args.no_similarity:
        similarity = similarity_table(
            args.similarity_trial or str(SAMPLE_TRIAL), "perturbation", args.stride
        )
    block = render(returns, gaze, similarity, _command_line())
    print(block)
    if args.update_readme:
        update_readme(block)
    return 0
