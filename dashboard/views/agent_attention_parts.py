"""Sections of the "Agent vs human attention" page: agent picker, metric tiles, the
comparison across checkpoints, and recording your own attention.

This module is imported by ``agent_attention.py``; it is not a page of its own.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from analysis.atari.compare import ALL_METRICS, METRIC_LABELS, fixation_indices, other_fixations
from analysis.saliency.compute import METHOD_LABELS
from dashboard.cache import agent_attention as cache
from dashboard.figures import agent_attention as figures
from dashboard.ui import chart, csv_download

AGENT_KINDS = ("Trained here", "SB3 / RL Zoo .zip", "baby-a3c checkpoint")
SCORE_STRIDES = (1, 2, 5, 10)


def agent_picker() -> tuple[tuple[str, str] | None, str | None]:
    """Draw the agent controls and return ``(agent key, error message)``; either may be None."""
    kind = st.radio("Agent from", AGENT_KINDS, key="aa_agent_kind")
    if kind == AGENT_KINDS[0]:
        cards = cache.shipped_cards()
        if not cards:
            return None, None
        variants = sorted({c.get("variant", "") for c in cards})
        variant = st.selectbox(
            "Variant",
            variants,
            index=variants.index("baseline") if "baseline" in variants else 0,
            key="aa_variant",
        )
        stages = [c for c in cards if c.get("variant") == variant]
        labels = {c["name"]: _stage_label(c) for c in stages}
        name = st.selectbox(
            "Checkpoint",
            list(labels),
            index=len(labels) - 1,
            format_func=labels.get,
            key="aa_checkpoint",
        )
        return ("shipped", name), None
    if kind == AGENT_KINDS[1]:
        upload = st.file_uploader("SB3 model .zip", type=["zip"], key="aa_zip_upload")
        typed = st.text_input("or its path on this machine", key="aa_zip_path")
        if upload is not None:
            return ("zip", cache.store_upload(upload.getvalue(), ".zip")), None
        return _path_key("zip", typed, "an SB3 / RL Zoo model .zip")
    upload = st.file_uploader(
        "baby-a3c checkpoint (*.model.*.tar)", type=["tar"], key="aa_a3c_upload"
    )
    typed = st.text_input(
        "or its path on this machine",
        key="aa_a3c_path",
        help="For example breakout-v4.model.80.tar from github.com/greydanus/baby-a3c",
    )
    if upload is not None:
        return ("baby-a3c", cache.store_upload(upload.getvalue(), ".tar")), None
    return _path_key("baby-a3c", typed, "a baby-a3c checkpoint")


def _stage_label(card: dict[str, Any]) -> str:
    frames = card.get("frames", 0) / 1e6
    metrics = card.get("metrics", {})
    if metrics.get("eval_return_mean") is not None:
        mean, std = metrics["eval_return_mean"], metrics["eval_return_std"]
        return f"{frames:.1f} M frames, return {mean:.0f} ± {std:.0f}"
    return f"{frames:.1f} M frames"


def _path_key(kind: str, typed: str, what: str) -> tuple[tuple[str, str] | None, str | None]:
    text = typed.strip()
    if not text:
        return None, f"Upload {what} or type its path in the sidebar."
    if not Path(text).expanduser().is_file():
        return None, f"{text} is not a file. Type the full path of {what}."
    return (kind, str(Path(text).expanduser())), None


def shuffled_negatives(frames, index: int) -> np.ndarray:
    """Return the fixated cells of every other frame of the trial (shuffled AUC negatives)."""
    cells = _trial_cells(frames.trial.label_path.as_posix(), len(frames), frames)
    return other_fixations(cells, index)


def _trial_cells(path: str, count: int, frames) -> list[np.ndarray]:
    key = f"aa_cells::{path}::{count}"
    if key not in st.session_state:
        st.session_state[key] = fixation_indices([frames.gaze(i) for i in range(count)])
    return st.session_state[key]


def metric_tiles(scores: dict[str, float | None]) -> None:
    """Show the current frame's metrics in two rows of tiles."""
    for group in (ALL_METRICS[:4], ALL_METRICS[4:]):
        for column, metric in zip(st.columns(len(group)), group, strict=True):
            value = scores.get(metric)
            column.metric(METRIC_LABELS[metric], "n/a" if value is None else f"{value:.3f}")


def maps_table(maps: dict[str, Any], human) -> pd.DataFrame:
    """Return the 84x84 comparison maps in long form: row, col, agent and human values."""
    rows, cols = np.indices(maps["probability"].shape)
    table = pd.DataFrame(
        {
            "row": rows.ravel(),
            "col": cols.ravel(),
            "agent_saliency": maps["compare"].ravel(),
            "agent_probability": maps["probability"].ravel(),
        }
    )
    if human.heat_map is not None:
        table["human_probability"] = human.heat_map.ravel()
    if human.fixations is not None:
        table["human_fixated"] = human.fixations.ravel()
    return table


def _checkpoint_rows(cards, frames, source_key, is_trial, method, target, folder: Path, game: str):
    results, missing = {}, []
    for card in cards:
        rows = None
        if is_trial:
            for base in (folder, cache.SAMPLE_RESULTS):
                rows = cache.cached_stored_rows(
                    str(base), frames.name, card["name"], method, target, cache.folder_stamp(base)
                )
                if rows is not None:
                    break
        if rows is None:
            missing.append(card)
        else:
            results[card["name"]] = rows
    return results, missing


def checkpoint_section(
    frames, source_key, is_trial: bool, method: str, target: str, folder: Path, game: str
) -> None:
    """Compare the shipped checkpoints: similarity against training stage and return."""
    from analysis.atari.similarity import checkpoint_table, correlation, variant_comparison

    st.subheader("Across checkpoints: training stage, return and hyperparameters", anchor=False)
    cards = [c for c in cache.shipped_cards() if c.get("game", "ms_pacman") == game]
    if not cards:
        st.info(f"No shipped agent plays {game}; the comparison across checkpoints needs them.")
        return
    results, missing = _checkpoint_rows(
        cards, frames, source_key, is_trial, method, target, folder, game
    )
    if missing:
        stride = st.select_slider(
            "Score every N-th frame", SCORE_STRIDES, value=5, key="aa_ck_stride"
        )
        st.caption(
            f"{len(missing)} of {len(cards)} checkpoints have no stored results for "
            f"{METHOD_LABELS[method]} ({target}) on these frames. `glimpse batch saliency` "
            "stores them; or score them here."
        )
        if not st.button("Score the checkpoints now", key="aa_ck_run", icon=":material/calculate:"):
            if not results:
                return
        else:
            indices = tuple(range(0, len(frames), stride))
            bar = st.progress(0.0, text="Scoring checkpoints...")
            for number, card in enumerate(missing, start=1):
                rows = cache.frame_rows(
                    ("shipped", card["name"]),
                    source_key,
                    method,
                    target,
                    indices,
                    game == "ms_pacman",
                )
                results[card["name"]] = rows
                bar.progress(
                    number / len(missing), text=f"Scored {number} of {len(missing)} checkpoints"
                )
            bar.empty()
    table = checkpoint_table(results, {c["name"]: c for c in cards})
    shown = table.rename(columns={m: METRIC_LABELS[m] for m in ALL_METRICS})
    st.dataframe(shown, hide_index=True, width="stretch")
    csv_download(table, filename=f"checkpoints-{method}-{target}", key="aa_csv_ck")

    available = [m for m in ALL_METRICS if m in table and table[m].notna().any()]
    if not available:
        st.info("No checkpoint has a scored frame yet.")
        return
    metric = st.selectbox("Metric", available, format_func=METRIC_LABELS.get, key="aa_ck_metric")
    left, right = st.columns(2)
    with left:
        chart(
            figures.stage_figure(table, metric),
            key="aa_fig_stage",
            filename=f"similarity-vs-training-{metric}",
        )
        csv_download(
            table[["checkpoint", "variant", "frames", metric]],
            filename=f"similarity-vs-training-{metric}",
            key="aa_csv_stage",
        )
    with right:
        stats = correlation(table["return_mean"], table[metric])
        chart(
            figures.return_figure(table, metric, stats),
            key="aa_fig_return",
            filename=f"similarity-vs-return-{metric}",
        )
        csv_download(
            table[["checkpoint", "variant", "return_mean", "return_std", metric]],
            filename=f"similarity-vs-return-{metric}",
            key="aa_csv_return",
        )

    finals = (
        table.sort_values("frames").groupby("variant").tail(1).set_index("variant")["checkpoint"]
    )
    if "baseline" in finals and len(finals) > 1:
        st.markdown(
            "**Hyperparameter variants against the baseline** "
            "(final checkpoints, paired over frames)"
        )
        for variant, name in finals.items():
            if variant == "baseline":
                continue
            comparison = variant_comparison(results[finals["baseline"]], results[name])
            comparison["metric"] = comparison["metric"].map(METRIC_LABELS)
            st.caption(f"{variant} ({name}) against baseline ({finals['baseline']})")
            st.dataframe(comparison, hide_index=True, width="stretch")
            csv_download(
                comparison,
                filename=f"variant-{variant}-vs-baseline-{method}",
                key=f"aa_csv_variant_{variant}",
            )


def record_section(frames, source_key, index: int, game: str) -> None:
    """Let the user click where they look on a run of frames and save it as a trial."""
    from data.atari_head import write_trial

    with st.expander("Record your own attention", icon=":material/ads_click:"):
        st.markdown(
            "Click where you look on each frame; several clicks on one frame count as several "
            "gaze samples. The frames start at the current one. **Save** writes them as an "
            "Atari-HEAD trial (label file and PNG archive) that appears in the trial list, so "
            "you can compare the agent with your own attention."
        )
        count = st.number_input("Frames to record", 2, 60, 10, key="aa_rec_count")
        state = st.session_state.setdefault(
            "aa_rec", {"start": index, "count": int(count), "pos": 0, "clicks": {}}
        )
        if st.button("Start at the current frame", key="aa_rec_restart"):
            state.update(start=index, count=int(count), pos=0, clicks={})
        start, total = state["start"], min(state["count"], len(frames) - state["start"])
        pos = min(state["pos"], total - 1)
        frame_index = start + pos
        clicks = np.array(state["clicks"].get(pos, []), dtype=float).reshape(-1, 2)
        event = st.plotly_chart(
            figures.record_figure(
                frames.screen(frame_index),
                clicks,
                f"Frame {pos + 1} of {total}: click where you look",
            ),
            key=f"aa_rec_plot_{start}_{pos}",
            on_select="rerun",
            selection_mode="points",
            config={"displaylogo": False},
        )
        points = [
            p
            for p in (event.selection.points if event and event.selection else [])
            if p.get("curve_number") == 1
        ]
        if points:
            state["clicks"][pos] = [[float(p["x"]), float(p["y"])] for p in points]
        columns = st.columns(4)
        if columns[0].button("Previous frame", key="aa_rec_prev", disabled=pos == 0):
            state["pos"] = pos - 1
            st.rerun()
        if columns[1].button("Next frame", key="aa_rec_next", disabled=pos >= total - 1):
            state["pos"] = pos + 1
            st.rerun()
        if columns[2].button("Clear this frame", key="aa_rec_clear"):
            state["clicks"].pop(pos, None)
            st.rerun()
        recorded = sum(1 for v in state["clicks"].values() if v)
        st.caption(f"{recorded} of {total} frames have clicks.")
        name = st.text_input(
            "Trial name", f"user-{dt.datetime.now():%Y%m%d-%H%M%S}", key="aa_rec_name"
        )
        if columns[3].button("Save", key="aa_rec_save", type="primary", disabled=recorded == 0):
            screens = [frames.screen(start + i) for i in range(total)]
            gaze = [
                np.array(state["clicks"][i]) if state["clicks"].get(i) else None
                for i in range(total)
            ]
            try:
                path = write_trial(cache.recorded_folder() / game, name, screens, gaze)
            except (ValueError, OSError) as error:
                st.error(f"Saving failed, nothing was overwritten: {error}")
            else:
                st.success(
                    f"Saved {total} frames as trial `{path.stem}` in `{path.parent}`. "
                    "Pick it in the trial list."
                )
