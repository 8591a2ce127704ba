"""Does similarity to human attention change with training, and does it go with performance?

Inputs are per-frame result tables (:func:`analysis.atari.pipeline.analyse_frames` rows or
batch Parquet files), one per agent checkpoint, plus each checkpoint's card. The functions
here reduce them to one row per checkpoint (mean of each metric over the frames that have it),
correlate a metric with the frames seen or the evaluation return (Pearson and Spearman, with
the number of checkpoints ``n`` and two-sided p-values), and compare a hyperparameter variant
with the baseline frame by frame (paired differences, Wilcoxon signed-rank test).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.atari.compare import ALL_METRICS


def checkpoint_table(
    results: Mapping[str, pd.DataFrame], cards: Mapping[str, dict[str, Any]]
) -> pd.DataFrame:
    """Return one row per checkpoint: name, variant, frames, return and the mean of each metric.

    Args:
        results: per-frame tables by checkpoint name.
        cards: checkpoint cards by name (``variant``, ``frames``, ``metrics.eval_return_*``).
    """
    rows = []
    for name, frame in results.items():
        card = cards.get(name, {})
        card_metrics = card.get("metrics", {})
        row = {
            "checkpoint": name,
            "variant": card.get("variant", name),
            "frames": card.get("frames"),
            "return_mean": card_metrics.get("eval_return_mean"),
            "return_std": card_metrics.get("eval_return_std"),
            "return_episodes": card_metrics.get("eval_episodes"),
            "scored_frames": int(frame["nss"].notna().sum()) if "nss" in frame else 0,
        }
        for metric in ALL_METRICS:
            values = frame[metric].dropna() if metric in frame else pd.Series(dtype=float)
            row[metric] = float(values.mean()) if len(values) else None
        rows.append(row)
    table = pd.DataFrame(rows)
    if not table.empty:
        table = table.sort_values(["variant", "frames"], na_position="last").reset_index(drop=True)
    return table


def correlation(x: Any, y: Any) -> dict[str, float | int | None]:
    """Return Pearson's r and Spearman's rho of paired values with p-values and ``n``.

    Pairs with a missing value are dropped. With fewer than 3 pairs, or a constant side, the
    coefficients are ``None`` (undefined) and ``note`` says why.
    """
    pairs = pd.DataFrame(
        {
            "x": pd.to_numeric(pd.Series(x), errors="coerce"),
            "y": pd.to_numeric(pd.Series(y), errors="coerce"),
        }
    ).dropna()
    n = len(pairs)
    result: dict[str, Any] = {
        "n": n,
        "pearson_r": None,
        "pearson_p": None,
        "spearman_rho": None,
        "spearman_p": None,
        "note": "",
    }
    if n < 3:
        result["note"] = f"needs at least 3 checkpoints with both values, has {n}"
        return result
    if pairs["x"].nunique() < 2 or pairs["y"].nunique() < 2:
        result["note"] = "one side is constant, so the correlation is undefined"
        return result
    pearson = stats.pearsonr(pairs["x"], pairs["y"])
    spearman = stats.spearmanr(pairs["x"], pairs["y"])
    result.update(
        pearson_r=float(pearson.statistic),
        pearson_p=float(pearson.pvalue),
        spearman_rho=float(spearman.statistic),
        spearman_p=float(spearman.pvalue) if not math.isnan(spearman.pvalue) else None,
    )
    return result


def variant_comparison(
    baseline: pd.DataFrame, variant: pd.DataFrame, metrics: tuple[str, ...] = ALL_METRICS
) -> pd.DataFrame:
    """Compare two agents frame by frame on the frames both scored.

    Returns:
        One row per metric: ``n`` paired frames, both means, the mean difference
        (variant - baseline), and the Wilcoxon signed-rank p-value (``None`` with fewer than
        10 pairs or all differences zero).
    """
    merged = baseline.merge(variant, on="frame_id", suffixes=("_baseline", "_variant"))
    rows = []
    for metric in metrics:
        left, right = f"{metric}_baseline", f"{metric}_variant"
        if left not in merged or right not in merged:
            continue
        pairs = merged[[left, right]].apply(pd.to_numeric, errors="coerce").dropna()
        difference = pairs[right] - pairs[left]
        p_value = None
        if len(pairs) >= 10 and np.any(difference != 0):
            p_value = float(stats.wilcoxon(pairs[right], pairs[left]).pvalue)
        rows.append(
            {
                "metric": metric,
                "n": len(pairs),
                "baseline_mean": float(pairs[left].mean()) if len(pairs) else None,
                "variant_mean": float(pairs[right].mean()) if len(pairs) else None,
                "mean_difference": float(difference.mean()) if len(pairs) else None,
                "wilcoxon_p": p_value,
            }
        )
    return pd.DataFrame(rows)
