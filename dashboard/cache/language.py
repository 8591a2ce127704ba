"""Cached wrappers for the language page: models per checkpoint, results per (model, text)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st


@st.cache_resource(show_spinner="Loading the tokenizer ...")
def tokenizer():
    """Return the shipped tokenizer."""
    from models.language.checkpoints import load_shipped_tokenizer

    return load_shipped_tokenizer()


@st.cache_resource(show_spinner="Loading the model ...")
def model(name: str):
    """Return ``(model, card)`` of checkpoint ``name``; one shared instance per name."""
    import torch

    from models.language.checkpoints import load_model

    torch.set_num_threads(1)
    return load_model(name)


def available() -> list[str]:
    """Return the installed language checkpoints (not cached: a new training run shows up)."""
    from models.language.checkpoints import available_models

    return available_models()


@st.cache_data(show_spinner=False)
def prepare(name: str, text: str) -> dict[str, Any]:
    """Return the prepared text for model ``name`` as plain values (see ``PreparedText``).

    Raises:
        analysis.language.text.InputError: the text is empty.
    """
    from analysis.language.text import prepare_text

    net, _card = model(name)
    prepared = prepare_text(tokenizer(), text, net.config.context)
    return {
        "ids": prepared.ids,
        "labels": prepared.labels,
        "truncated": prepared.truncated,
        "report": asdict(prepared.report),
    }


@st.cache_data(show_spinner="Extracting attention ...")
def attention(name: str, ids: tuple[int, ...]) -> dict[str, Any]:
    """Return the attention maps of ``name`` on ``ids`` as a dict of numpy arrays."""
    import torch

    from analysis.language.attention import extract_attention

    net, _card = model(name)
    maps = extract_attention(net, torch.tensor([list(ids)]))
    return asdict(maps)


@st.cache_data(show_spinner="Counting spikes ...")
def spike_rates(name: str, ids: tuple[int, ...]) -> pd.DataFrame:
    """Return the spike statistics per neuron layer of ``name`` on ``ids``."""
    import torch

    from analysis.language.activity import spike_rates as rates

    net, _card = model(name)
    rows = [asdict(rate) for rate in rates(net, torch.tensor([list(ids)]))]
    return pd.DataFrame(rows)


@st.cache_data(show_spinner="Counting synaptic operations ...")
def operations(names: tuple[str, ...], ids: tuple[int, ...]) -> pd.DataFrame:
    """Return synaptic operations and energy of each model in ``names`` on ``ids``."""
    import torch

    from analysis.language.activity import operations as count

    rows = []
    for name in names:
        net, _card = model(name)
        summary = count(net, torch.tensor([list(ids)]))
        rows.append(
            {
                "model": name,
                "ACs": summary.acs,
                "MACs": summary.macs,
                "attention ACs": summary.attention_acs,
                "attention MACs": summary.attention_macs,
                "energy_pj": summary.energy_pj,
                "energy_pj_per_token": summary.energy_per_token_pj,
                "attention_pj_per_token": summary.attention_energy_pj / summary.tokens,
            }
        )
    return pd.DataFrame(rows)


@st.cache_data(show_spinner="Predicting the masked tokens ...")
def mask_predictions(name: str, ids: tuple[int, ...], top: int = 5) -> pd.DataFrame:
    """Return the top predictions at each ``[MASK]`` of ``ids`` as rows (position, rank, token,
    probability)."""
    from analysis.language.text import predict_masks

    net, _card = model(name)
    rows = []
    for prediction in predict_masks(net, tokenizer(), list(ids), top):
        for rank, (token, probability) in enumerate(
            zip(prediction.tokens, prediction.probabilities, strict=True)
        ):
            rows.append(
                {
                    "position": prediction.position,
                    "rank": rank + 1,
                    "token": token,
                    "probability": probability,
                }
            )
    return pd.DataFrame(rows, columns=["position", "rank", "token", "probability"])


@st.cache_data(show_spinner="Generating ...")
def continuation(
    name: str, ids: tuple[int, ...], new_tokens: int, temperature: float, seed: int
) -> dict[str, Any]:
    """Return the causal model's continuation of ``ids`` (see ``Continuation``)."""
    from analysis.language.text import generate

    net, _card = model(name)
    return asdict(generate(net, tokenizer(), list(ids), new_tokens, temperature, seed))


@st.cache_data(show_spinner=False)
def surprise(name: str, ids: tuple[int, ...]) -> tuple[list[float], float]:
    """Return the causal model's per-token surprise (nats) and the text's perplexity."""
    from analysis.language.text import token_surprise

    net, _card = model(name)
    return token_surprise(net, list(ids))


def validation_table(names: list[str]) -> pd.DataFrame:
    """Return the validation metrics stored in each model's card."""
    rows = []
    for name in names:
        _net, card = model(name)
        metrics = card.get("metrics", {})
        rows.append(
            {
                "model": name,
                "objective": card["config"]["objective"],
                "perplexity (next-token or masked)": metrics.get("perplexity", np.nan),
                "bits per byte": metrics.get("bits_per_byte", np.nan),
                "masked accuracy": metrics.get("accuracy", np.nan),
                "training tokens": metrics.get("train_tokens", np.nan),
            }
        )
    return pd.DataFrame(rows)
