"""Agent vs human attention: where an Atari agent looks, against where a human expert looks."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from analysis.atari.batch import agent_slug
from analysis.atari.compare import ALL_METRICS, METRIC_LABELS, frame_metrics, human_attention
from analysis.saliency.compute import METHOD_LABELS, METHODS
from analysis.saliency.gaze import heat_map, on_screen_mask
from analysis.saliency.maps import SCREEN_SHAPE, SaliencyError, resize_map
from dashboard.cache import agent_attention as cache
from dashboard.figures import agent_attention as figures
from dashboard.ui import chart, csv_download, missing_checkpoint, png_download
from dashboard.views import agent_attention_parts as parts
from data.atari import GAME_IDS

GAMES = sorted(GAME_IDS)
CURVE_CHUNK = 10  # frames per cached scoring call, so the progress bar moves
CURVE_WINDOW = 40  # frames scored around the current one when no batch results are stored

st.title("Agent vs human attention")
st.caption(
    "Where does a deep RL agent look, compared with a human expert, and does looking like a "
    "human go with playing well? (Guo et al., NeurIPS 2021.) Agent saliency is the "
    "perturbation method of Greydanus et al. 2018 or a Captum attribution; human attention is "
    "Atari-HEAD eye tracking (Zhang et al. 2020, CC BY 4.0) or, on live emulator frames, a "
    "gaze model trained here. All maps are compared on an 84x84 grid over the whole screen."
)

# -- Controls ------------------------------------------------------------------------------
with st.sidebar:
    st.header("Frames")
    source_kind = st.radio(
        "Frames from", ["Atari-HEAD trial", "Live emulator"], key="aa_source", horizontal=True
    )
    if source_kind == "Atari-HEAD trial":
        trials = cache.known_trials()
        choice = st.selectbox("Trial", list(trials), key="aa_trial")
        typed = st.text_input(
            "or a trial label file (.txt) on this machine",
            key="aa_trial_path",
            help="The .tar.bz2 of frames must sit beside it with the same name.",
        )
        trial_path = typed.strip() or trials[choice]
        game = st.selectbox(
            "Game of the trial", GAMES, index=GAMES.index("ms_pacman"), key="aa_trial_game"
        )
    else:
        game = st.selectbox("Game", GAMES, index=GAMES.index("ms_pacman"), key="aa_game")
        steps = st.slider("Agent steps to play", 50, 600, 200, step=50, key="aa_steps")
        seed = st.number_input("Seed", 0, 10_000, 0, key="aa_seed")

    st.header("Agent")
    agent_key, agent_error = parts.agent_picker()
    st.header("Saliency")
    method = st.selectbox("Method", METHODS, format_func=METHOD_LABELS.get, key="aa_method")
    target = st.radio(
        "Explain",
        ["actor", "critic"],
        horizontal=True,
        key="aa_target",
        help="actor: the policy logits; critic: the state value",
    )
    opacity = st.slider("Overlay opacity", 0.0, 1.0, 0.6, step=0.05, key="aa_opacity")
    results_folder = Path(
        st.text_input(
            "Batch results folder",
            "results/atari",
            key="aa_results",
            help="Where `glimpse batch saliency --out` wrote its Parquet files",
        )
    )

if agent_error:
    st.error(agent_error)
    st.stop()
if agent_key is None:
    missing_checkpoint("the Atari agents", "glimpse train atari ppo --variant baseline")
    st.stop()

try:
    model = cache.agent(agent_key)
except (ValueError, OSError) as error:
    st.error(f"The agent could not be loaded: {error}")
    st.stop()

from data.atari import AtariEnvConfig, action_meanings  # noqa: E402

meanings = action_meanings(AtariEnvConfig(game=game))
try:
    model.check_game(game, len(meanings))
except ValueError as error:
    st.error(str(error))
    st.stop()

if source_kind == "Atari-HEAD trial":
    source_key = ("trial", trial_path, game)
else:
    source_key = ("emulator", agent_key, game, int(steps), int(seed))
try:
    frames = cache.sequence(source_key)
except (ValueError, OSError, KeyError) as error:
    st.error(f"The frames could not be read: {error}")
    st.stop()
is_trial = source_kind == "Atari-HEAD trial"
if is_trial:
    for line in frames.trial.report.summary():
        st.info(
            f"Trial {frames.name}: {line}. These frames are kept; metrics skip what they "
            "cannot score."
        )
n_frames = len(frames)

# -- Frame slider with play and step controls ----------------------------------------------
if "aa_pending_frame" in st.session_state:
    st.session_state.aa_frame = st.session_state.pop("aa_pending_frame")
if "aa_frame" not in st.session_state or st.session_state.aa_frame >= n_frames:
    st.session_state.aa_frame = 0
buttons = st.columns([1, 1, 1, 1, 2])
if buttons[0].button("First", icon=":material/first_page:", key="aa_first"):
    st.session_state.aa_frame = 0
if buttons[1].button("Step back", icon=":material/chevron_left:", key="aa_prev"):
    st.session_state.aa_frame = max(0, st.session_state.aa_frame - 1)
if buttons[2].button("Step", icon=":material/chevron_right:", key="aa_next"):
    st.session_state.aa_frame = min(n_frames - 1, st.session_state.aa_frame + 1)
playing = st.session_state.get("aa_playing", False)
if buttons[3].button(
    "Pause" if playing else "Play",
    icon=":material/pause:" if playing else ":material/play_arrow:",
    key="aa_play",
):
    st.session_state.aa_playing = not playing
    playing = not playing
delay = buttons[4].select_slider(
    "Play speed (s per frame)", [0.25, 0.5, 1.0, 2.0], value=0.5, key="aa_delay"
)
index = st.slider("Frame", 0, n_frames - 1, key="aa_frame")
frame_id = frames.frame_id(index)
screen = frames.screen(index)
gaze = frames.gaze(index)

# -- Frame, human attention, agent saliency ------------------------------------------------
try:
    maps = cache.frame_maps(agent_key, source_key, index, method, target)
except SaliencyError as error:
    st.error(f"Saliency of frame {frame_id} failed: {error}")
    st.stop()
predicted = cache.predicted_gaze(source_key, index) if game == "ms_pacman" else None
human = human_attention(gaze, None if gaze is not None else predicted)
label = frames.label(index) if is_trial else None
action = meanings[int(np.argmax(maps["logits"]))]
st.markdown(
    f"**Frame {index + 1} of {n_frames}** (`{frame_id}`). Agent's most likely action: "
    f"**{action}**, value {maps['value']:.2f}."
    + (
        f" Human action: {label.action}, score {label.score}."
        if label and label.action is not None
        else ""
    )
)
left, middle, right = st.columns(3)
with left:
    chart(
        figures.screen_figure(screen, "Frame and gaze samples", gaze),
        key="aa_fig_frame",
        filename=f"frame-{frame_id}",
    )
    png_download(screen, filename=f"frame-{frame_id}", key="aa_png_frame", label="Frame PNG")
with middle:
    if human.source == "recorded gaze":
        human_screen = heat_map(gaze, SCREEN_SHAPE)
        title = "Human gaze heat map (recorded)"
    elif human.heat_map is not None:
        human_screen = resize_map(human.heat_map, SCREEN_SHAPE)
        title = "Human attention predicted by the gaze model"
    else:
        human_screen = np.zeros(SCREEN_SHAPE)
        title = "No human attention for this frame"
    chart(
        figures.overlay_figure(
            screen, human_screen, title, opacity=opacity, colorscale=figures.HUMAN_SCALE
        ),
        key="aa_fig_human",
        filename=f"human-{frame_id}",
    )
with right:
    chart(
        figures.overlay_figure(
            screen,
            maps["screen"],
            f"Agent saliency: {METHOD_LABELS[method]} ({target})",
            opacity=opacity,
            colorscale=figures.AGENT_SCALE,
        ),
        key="aa_fig_agent",
        filename=f"saliency-{frame_id}-{method}-{target}",
    )

if maps["degenerate"]:
    st.warning(
        f"The agent's saliency map is {maps['degenerate']} on this frame: the {target} output did "
        "not change under any perturbation. The metrics treat it as a uniform map; try another "
        "method or frame."
    )
if gaze is not None and human.off_screen:
    st.info(
        f"{human.off_screen} of this frame's gaze samples fall off the screen; they are not "
        "drawn or scored."
    )
if human.source == "none":
    st.info("This frame has no on-screen gaze, so its fixation metrics are left empty.")
elif human.source == "gaze model":
    st.info(
        "No recorded gaze here: CC, SIM, KL and EMD compare with the gaze model's prediction; "
        "fixation metrics need recorded gaze."
    )

scores = frame_metrics(
    maps["probability"],
    human,
    with_emd=True,
    shuffled_negatives=parts.shuffled_negatives(frames, index) if is_trial else None,
)
parts.metric_tiles(scores)
maps_table = parts.maps_table(maps, human)
csv_columns = st.columns(3)
with csv_columns[0]:
    csv_download(
        maps_table,
        filename=f"maps-{frame_id}-{method}-{target}",
        key="aa_csv_maps",
        label="Maps CSV (84x84)",
    )
with csv_columns[1]:
    gaze_frame = pd.DataFrame(gaze if gaze is not None else np.zeros((0, 2)), columns=["x", "y"])
    gaze_frame["on_screen"] = on_screen_mask(gaze) if gaze is not None else []
    csv_download(
        gaze_frame, filename=f"gaze-{frame_id}", key="aa_csv_gaze", label="Gaze samples CSV"
    )
with csv_columns[2]:
    csv_download(
        pd.DataFrame([{"frame_id": frame_id, **scores}]),
        filename=f"metrics-{frame_id}",
        key="aa_csv_scores",
        label="Metrics CSV",
    )

# -- Per-frame metric curve ----------------------------------------------------------------
st.subheader("Metrics frame by frame", anchor=False)
agent_name = agent_slug(agent_key[1] if agent_key[0] == "shipped" else ":".join(agent_key))
rows = None
if is_trial:
    for folder in (results_folder, cache.SAMPLE_RESULTS):
        rows = cache.cached_stored_rows(
            str(folder), frames.name, agent_name, method, target, cache.folder_stamp(folder)
        )
        if rows is not None:
            st.caption(f"Read from batch results in `{folder}` ({len(rows)} labelled frames).")
            break
if rows is None:
    window = st.radio(
        "Frames in the curve",
        [f"{CURVE_WINDOW} around the current frame", f"all {n_frames}"],
        horizontal=True,
        key="aa_curve_window",
        help="No stored batch results for this choice, so the frames are scored here.",
    )
    if window.startswith("all"):
        first, last = 0, n_frames
    else:
        first = max(0, min(index - CURVE_WINDOW // 2, n_frames - CURVE_WINDOW))
        last = min(n_frames, first + CURVE_WINDOW)
    bar = st.progress(0.0, text=f"Scoring {last - first} frames...")
    chunks = []
    # Chunks start on multiples of CURVE_CHUNK so that moving the window reuses cached chunks.
    for start in range(first - first % CURVE_CHUNK, last, CURVE_CHUNK):
        chunk = tuple(range(start, min(start + CURVE_CHUNK, n_frames)))
        chunks.append(
            cache.frame_rows(agent_key, source_key, method, target, chunk, game == "ms_pacman")
        )
        done = min(last, start + CURVE_CHUNK) - first
        bar.progress(
            min(1.0, done / (last - first)), text=f"Scored {done} of {last - first} frames"
        )
    bar.empty()
    rows = pd.concat(chunks, ignore_index=True)
available = [m for m in ALL_METRICS if m in rows and rows[m].notna().any()]
chosen = st.multiselect(
    "Metrics to plot",
    available,
    default=[m for m in ("nss", "cc", "auc_shuffled") if m in available] or available[:2],
    format_func=METRIC_LABELS.get,
    key="aa_curve_metrics",
)
chart(
    figures.metric_curve(rows, chosen, index, f"{agent_name}: {METHOD_LABELS[method]} ({target})"),
    key="aa_fig_curve",
    filename=f"metrics-per-frame-{agent_name}-{method}-{target}",
)
csv_download(rows, filename=f"metrics-per-frame-{agent_name}-{method}-{target}", key="aa_csv_curve")

# -- Across checkpoints ----------------------------------------------------------------------
parts.checkpoint_section(frames, source_key, is_trial, method, target, results_folder, game)

# -- Record your own attention -------------------------------------------------------------
parts.record_section(frames, source_key, index, game)

# -- Play: advance one frame after a pause, until the last frame or Pause ---------------------
if playing:
    time.sleep(float(delay))
    if index < n_frames - 1:
        st.session_state.aa_pending_frame = index + 1
    else:
        st.session_state.aa_playing = False
    st.rerun()
