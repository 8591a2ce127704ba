"""Spiking language models: winner-take-all attention of WE-/WD-Spikingformer on your text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from dashboard.cache import language as cache
from dashboard.figures import language as figures
from dashboard.ui import chart, csv_download, missing_checkpoint
from data.austen import sample_passages
from data.bpe import MASK_ID

TRAIN_COMMAND = "glimpse train language --data-dir PATH/TO/austen"
MODELS = {
    "WD-Spikingformer (decoder, causal CWSSA)": ("wd-spikingformer", "ann-causal"),
    "WE-Spikingformer (encoder, masked WSSA)": ("we-spikingformer", "ann-masked"),
}
VIEWS = (
    "winners (what the model uses)",
    "scores A = s·QKᵀ",
    "softmax(A/τ), the gradient surrogate",
)
OWN_TEXT = "(your own text)"

st.title("Spiking language models")
st.caption(
    "Softmax-free spiking transformers for language with winner-take-all attention: each query "
    "selects the one key with the largest score, so the attention output only copies rows of V. "
    "**The WSSA / CWSSA equations here are our reconstruction**: the source paper (Zhou et al. "
    "2026, *Winner-Take-All Spiking Transformer for Language Modeling*) was available only as an "
    "abstract. Models are small (4 layers, width 128, NILIF(1x4) neurons) and trained on the "
    "Jane Austen novels."
)

installed = cache.available()
label = st.radio("Model", list(MODELS), horizontal=True)
name, twin = MODELS[label]
if name not in installed:
    missing_checkpoint(name, TRAIN_COMMAND)
    st.stop()
net, card = cache.model(name)
causal = net.config.causal


# ---- text input -------------------------------------------------------------------------
passages = sample_passages()
left, right = st.columns([1, 3])
with left:
    choice = st.selectbox(
        "Sample passage",
        [OWN_TEXT, *[f"Passage {i + 1}: {p[:40]}..." for i, p in enumerate(passages)]],
        index=1,
        help="Passages come from the held-out end of three novels; the models never trained "
        "on them.",
    )
default = passages[0] if choice == OWN_TEXT else passages[int(choice.split(":")[0].split()[1]) - 1]
if not causal:
    words = default.split(" ")
    # mask two longer words so that the encoder has something to predict
    long_words = [i for i, w in enumerate(words) if len(w) > 5 and w.isalpha()][:2]
    default = " ".join("[MASK]" if i in long_words else w for i, w in enumerate(words))
with right:
    text = st.text_area(
        "Text",
        value=default,
        height=120,
        key=f"text-{name}-{choice}",
        help="Type [MASK] where the encoder should predict a token. Text beyond the context of "
        f"{net.config.context} tokens is cut off.",
    )

try:
    prepared = cache.prepare(name, text)
except ValueError as error:
    st.error(f"{error}", icon=":material/error:")
    st.stop()
ids = tuple(prepared["ids"])
labels = prepared["labels"]
report = prepared["report"]
if prepared["truncated"]:
    st.warning(
        f"The text is {len(ids) + prepared['truncated']} tokens long; only the first "
        f"{net.config.context} tokens (the model's context) are shown and used.",
        icon=":material/content_cut:",
    )
if report["removed_controls"]:
    st.warning(
        f"Removed control characters: {', '.join(report['removed_controls'])}.",
        icon=":material/warning:",
    )
if report["unseen"]:
    st.warning(
        f"Characters never seen in the training text: {' '.join(report['unseen'])}. They are "
        "encoded as raw byte tokens that the model has rarely or never seen, so its output "
        "around them is unreliable.",
        icon=":material/warning:",
    )
if report["only_masks"] and not causal:
    st.info(
        "The text holds only [MASK] tokens: the encoder predicts them from their positions "
        "alone, so expect the most frequent tokens.",
        icon=":material/info:",
    )
if report["mask_count"] and causal:
    st.info(
        "[MASK] is the encoder's placeholder; the causal decoder never saw it in training and "
        "reads it as an unknown token.",
        icon=":material/info:",
    )
st.caption(
    f"{len(ids)} tokens: "
    + " ".join(f"`{t}`" for t in labels[:60])
    + (" ..." if len(ids) > 60 else "")
)

tab_attention, tab_predict, tab_energy, tab_spikes = st.tabs(
    [
        "Attention",
        "Predictions" if not causal else "Continuation",
        "Perplexity and energy",
        "Spike rates",
    ]
)

# ---- attention ---------------------------------------------------------------------------
with tab_attention:
    maps = cache.attention(name, ids)
    steps, sub_steps = maps["partial_scores"].shape[1:3]
    controls = st.columns([2, 2, 2])
    with controls[0]:
        step_labels = [
            f"t={t + 1}, sub-step {d + 1}/{sub_steps}"
            for t in range(steps)
            for d in range(sub_steps)
        ]
        step_label = st.select_slider(
            "Time step (T x D unrolled)",
            options=step_labels,
            value=step_labels[-1],
            help="Scores accumulated after the first d binary sub-steps of Q and K; the last "
            "sub-step of a time step is the map the model uses.",
        )
        flat = step_labels.index(step_label)
        t, d = divmod(flat, sub_steps)
    with controls[1]:
        view = st.radio("Show", VIEWS, index=0)
    with controls[2]:
        compare = st.toggle(
            "Compare with the softmax baseline",
            value=False,
            help=f"The ANN transformer of the same size ({twin}) on the same text.",
        )
        if compare and twin not in installed:
            missing_checkpoint(twin, TRAIN_COMMAND)
            compare = False

    if view == VIEWS[0]:
        grid = maps["partial_selection"][:, t, d]
        colorscale = "Reds"
    elif view == VIEWS[1]:
        grid = maps["partial_scores"][:, t, d]
        colorscale = "Viridis"
    else:
        grid = maps["surrogate"][:, t]
        colorscale = "Blues"
        if d != sub_steps - 1:
            st.caption(
                "The surrogate is defined on the full scores, so it is shown for the last sub-step."
            )
    if causal and view == VIEWS[1]:
        future = np.triu(np.ones(grid.shape[-2:], dtype=bool), k=1)
        grid = np.where(future, np.nan, grid)

    ann_maps = cache.attention(twin, ids) if compare else None
    grid_cols = st.columns(2) if compare else [st.container()]
    with grid_cols[0]:
        chart(
            figures.head_grid(
                grid,
                labels,
                title=f"{name}: {view.split(' (')[0]}, {step_label}",
                colorscale=colorscale,
            ),
            key="lm-grid",
            filename=f"{name}-head-grid",
        )
    if compare:
        with grid_cols[1]:
            chart(
                figures.head_grid(
                    ann_maps["weights"][:, 0],
                    labels,
                    title=f"{twin}: softmax attention",
                    colorscale="Blues",
                ),
                key="lm-grid-ann",
                filename=f"{twin}-head-grid",
            )
    layers, heads = grid.shape[:2]
    grid_frame = pd.DataFrame(
        [
            {
                "layer": layer + 1,
                "head": head + 1,
                "query": q,
                "key": k,
                "value": float(grid[layer, head, q, k]),
            }
            for layer in range(layers)
            for head in range(heads)
            for q, k in zip(*np.nonzero(np.nan_to_num(grid[layer, head]) != 0), strict=True)
        ]
    )
    csv_download(
        grid_frame,
        filename=f"{name}-head-grid-{view.split(' ')[0]}-t{t + 1}-d{d + 1}",
        key="lm-grid-csv",
    )

    st.subheader("Token to token, one head", anchor=False)
    pick = st.columns(2)
    layer = pick[0].selectbox("Layer", list(range(1, layers + 1)), index=layers - 1) - 1
    head = pick[1].selectbox("Head", list(range(1, heads + 1))) - 1
    selection = maps["partial_selection"][layer, t, d, head]
    winners = selection.argmax(axis=-1)
    link_cols = st.columns(2)
    with link_cols[0]:
        chart(
            figures.token_links(
                selection, labels, title=f"Winners, layer {layer + 1} head {head + 1}"
            ),
            key="lm-links",
            filename=f"{name}-links-l{layer + 1}-h{head + 1}",
        )
    with link_cols[1]:
        if compare:
            chart(
                figures.token_links(
                    ann_maps["weights"][layer, 0, head],
                    labels,
                    title=f"{twin} softmax, layer {layer + 1} head {head + 1} (top 3 keys)",
                    color=figures.SOFTMAX_COLOR,
                ),
                key="lm-links-ann",
                filename=f"{twin}-links-l{layer + 1}-h{head + 1}",
            )
        else:
            chart(
                figures.token_links(
                    maps["surrogate"][layer, t, head],
                    labels,
                    title=f"softmax(A/τ) of the same scores (top 3 keys), τ = {net.config.tau}",
                    color=figures.SOFTMAX_COLOR,
                ),
                key="lm-links-soft",
                filename=f"{name}-surrogate-l{layer + 1}-h{head + 1}",
            )
    head_scores = maps["partial_scores"][layer, t, d, head]
    if causal:  # later keys are never candidates; leave them blank
        head_scores = np.where(
            np.triu(np.ones_like(head_scores, dtype=bool), k=1), np.nan, head_scores
        )
    chart(
        figures.attention_matrix(
            head_scores,
            labels,
            title="Scores of this head with each query's winner (x)",
            colorscale="Viridis",
            winners=winners,
        ),
        key="lm-matrix",
        filename=f"{name}-scores-l{layer + 1}-h{head + 1}",
    )
    links_frame = pd.DataFrame(
        {
            "query": range(len(labels)),
            "query_token": labels,
            "winner": winners,
            "winner_token": [labels[int(k)] for k in winners],
            "score": maps["partial_scores"][layer, t, d, head][np.arange(len(labels)), winners],
            "surrogate_weight": maps["surrogate"][layer, t, head][np.arange(len(labels)), winners],
        }
    )
    if compare:
        links_frame["ann_top_key"] = ann_maps["weights"][layer, 0, head].argmax(axis=-1)
        links_frame["ann_top_weight"] = ann_maps["weights"][layer, 0, head].max(axis=-1)
    csv_download(
        links_frame, filename=f"{name}-winners-l{layer + 1}-h{head + 1}", key="lm-links-csv"
    )
    st.caption(
        "Ties (equal scores, common with spike-valued Q and K) go to the key nearest the query, "
        "the earlier one of two equally near keys; for the causal model that is the most recent "
        "allowed token, and a row of equal scores selects the query itself."
    )

# ---- predictions / continuation ----------------------------------------------------------
with tab_predict:
    if not causal:
        if not report["mask_count"]:
            st.info("Add [MASK] to the text, or pick a token to mask here.", icon=":material/info:")
            position = st.selectbox(
                "Token to mask", list(range(len(labels))), format_func=lambda i: f"{i}: {labels[i]}"
            )
            ids = tuple(MASK_ID if i == position else token for i, token in enumerate(ids))
        predictions = cache.mask_predictions(name, ids)
        if predictions.empty:
            st.warning(
                "No [MASK] position is left after truncation to the context.",
                icon=":material/warning:",
            )
        else:
            predictions["label"] = (
                predictions["position"].astype(str)
                + ": "
                + predictions["token"].str.replace(" ", "·")
            )
            chart(
                figures.probability_bars(
                    predictions,
                    title="Top predictions per [MASK]",
                    x="probability",
                    y="label",
                    group="position",
                ),
                key="lm-masks",
                filename=f"{name}-mask-predictions",
            )
            csv_download(
                predictions.drop(columns="label"),
                filename=f"{name}-mask-predictions",
                key="lm-masks-csv",
            )
    else:
        gen = st.columns(3)
        new_tokens = gen[0].slider("Tokens to generate", 5, 60, 25)
        temperature = gen[1].slider("Temperature (0 = greedy)", 0.0, 1.5, 0.0, 0.1)
        seed = gen[2].number_input("Sampling seed", 0, 10_000, 0)
        result = cache.continuation(name, ids, new_tokens, float(temperature), int(seed))
        st.markdown(
            f"**Continuation:** …{prepared['labels'][-1].replace('·', ' ')}**{result['text']}**"
        )
        frame = pd.DataFrame(
            {
                "step": range(1, len(result["tokens"]) + 1),
                "token": result["tokens"],
                "probability": result["probabilities"],
            }
        )
        chart(
            figures.token_series(
                [t.replace(" ", "·") for t in result["tokens"]],
                result["probabilities"],
                title="Probability of each chosen token",
                y_title="probability",
            ),
            key="lm-continuation",
            filename=f"{name}-continuation",
        )
        csv_download(frame, filename=f"{name}-continuation", key="lm-continuation-csv")
        nats, perplexity = cache.surprise(name, ids)
        if nats:
            st.metric("Perplexity of this text", f"{perplexity:.1f}")
            chart(
                figures.token_series(
                    labels[1:], nats, title="Surprise per token, −log p (nats)", y_title="nats"
                ),
                key="lm-surprise",
                filename=f"{name}-surprise",
            )
            csv_download(
                pd.DataFrame({"token": labels[1:], "nats": nats}),
                filename=f"{name}-surprise",
                key="lm-surprise-csv",
            )

# ---- perplexity and energy ---------------------------------------------------------------
with tab_energy:
    st.markdown(
        "**Validation metrics** (held-out last 10 % of each novel; from each checkpoint's card)"
    )
    table = cache.validation_table(installed)
    st.dataframe(table.round(4), hide_index=True, width="stretch")
    csv_download(table, filename="language-validation-metrics", key="lm-val-csv")

    objective = net.config.objective
    same = [n for n in (name, f"spikformer-{objective}", f"ann-{objective}") if n in installed]
    ops = cache.operations(tuple(same), ids)
    ann_name = "ann-" + objective
    if ann_name in set(ops["model"]):
        base = float(ops.loc[ops["model"] == ann_name, "energy_pj"].iloc[0])
        ops["energy vs ANN"] = ops["energy_pj"] / base
    ops["other_pj_per_token"] = ops["energy_pj_per_token"] - ops["attention_pj_per_token"]
    st.markdown(
        f"**Synaptic operations on this text** ({len(ids)} tokens; 0.9 pJ per accumulate, 4.6 pJ "
        "per multiply-accumulate, 45 nm; attention products Q·Kᵀ and A·V included)"
    )
    st.dataframe(ops.round(2), hide_index=True, width="stretch")
    chart(figures.energy_chart(ops), key="lm-energy", filename=f"language-energy-{objective}")
    csv_download(ops, filename=f"language-energy-{objective}", key="lm-energy-csv")

# ---- spike rates -------------------------------------------------------------------------
with tab_spikes:
    rates = cache.spike_rates(name, ids)
    rates["block"] = rates["block"].map(lambda b: "output" if b < 0 else str(b + 1))
    chart(figures.spike_rate_chart(rates), key="lm-rates", filename=f"{name}-spike-rates")
    csv_download(rates, filename=f"{name}-spike-rates", key="lm-rates-csv")
