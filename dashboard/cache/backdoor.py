"""Cached loaders and computations of the backdoor page.

Models and defence artefacts are cached per checkpoint folder and attack with
``st.cache_resource``. Predictions are cached with ``st.cache_data``, keyed by the attack,
seed, image source and class names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from analysis.backdoor import inspection
from data.fashion_mnist import load_sample, load_split
from models.registry import CHECKPOINT_ROOT

CHECKPOINTS = str(CHECKPOINT_ROOT / "clip")
SAMPLE = "sample"


@st.cache_resource(show_spinner="Loading the poisoned CLIP")
def attack(name: str, folder: str = CHECKPOINTS):
    """Return ``(bundle, trigger, card)`` of the CLIP poisoned by ``name``."""
    return inspection.load_attack(folder, name)


@st.cache_resource(show_spinner="Loading the defence results")
def defence(name: str, folder: str = CHECKPOINTS) -> inspection.Defence:
    """Return the CBPT-style artefacts and results for attack ``name``."""
    return inspection.load_defence(folder, name)


@st.cache_data(show_spinner=False)
def defence_cards(folder: str = CHECKPOINTS) -> dict[str, dict[str, Any]]:
    """Return every ``defence-ATTACK`` card by attack."""
    return inspection.defence_cards(folder)


@st.cache_data(show_spinner="Reading the test images")
def images(source: str, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(images, labels)``: the shipped sample or the first ``limit`` test images."""
    if source == SAMPLE:
        sample_images, sample_labels, _ = load_sample()
        return sample_images, sample_labels
    test_images, test_labels = load_split(Path(source), "test")
    return test_images[:limit], test_labels[:limit]


@st.cache_data(show_spinner="Classifying clean and triggered images")
def predictions(
    attack_name: str,
    seed: int,
    source: str,
    limit: int,
    class_names: tuple[str, ...] | None,
    folder: str = CHECKPOINTS,
) -> dict[str, np.ndarray]:
    """Return predictions, features and pixels as numpy arrays for the page."""
    bundle, trigger, _ = attack(attack_name, folder)
    artefacts = defence(attack_name, folder)
    test_images, _ = images(source, limit)
    result = inspection.predict(bundle, trigger, test_images, artefacts.contexts[seed], class_names)
    return _as_arrays(result)


@st.cache_data(show_spinner="Classifying the uploaded image")
def classify_upload(
    image: bytes,
    attack_name: str,
    seed: int,
    class_names: tuple[str, ...] | None,
    folder: str = CHECKPOINTS,
) -> dict[str, np.ndarray]:
    """Return predictions and pixels for one uploaded 28x28 image (raw uint8 bytes)."""
    bundle, trigger, _ = attack(attack_name, folder)
    artefacts = defence(attack_name, folder)
    array = np.frombuffer(image, dtype=np.uint8).reshape(1, 28, 28)
    result = inspection.predict(bundle, trigger, array, artefacts.contexts[seed], class_names)
    return _as_arrays(result)


def _as_arrays(result: inspection.Predictions) -> dict[str, np.ndarray]:
    return {key: np.asarray(value) for key, value in result.__dict__.items()}
