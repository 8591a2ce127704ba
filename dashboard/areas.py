"""The dashboard's areas: one page each, with what it needs and how to get what is missing.

``dashboard/app.py`` builds the navigation from this list and the Home page describes each
entry, so adding an area means adding one ``Area`` here and its page file.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Area:
    """One page of the dashboard.

    Attributes:
        title: navigation label and page title.
        page: page file, relative to ``dashboard/`` (pages live in ``views/``: a folder named
            ``pages`` would switch Streamlit to its older file-based navigation).
        url_path: the page's address under the server root.
        icon: Material icon name in Streamlit's ``:material/NAME:`` form.
        summary: one sentence on what a user does there.
        checkpoint_area: folder under ``models/checkpoints`` holding its weights.
        train_command: how to recreate its checkpoints.
        datasets: (name, what more it adds) pairs for ``glimpse data fetch NAME``.
    """

    title: str
    page: str
    url_path: str
    icon: str
    summary: str
    checkpoint_area: str
    train_command: str
    datasets: tuple[tuple[str, str], ...] = ()


AREAS: tuple[Area, ...] = (
    Area(
        title="Neuron firing",
        page="views/neuron_firing.py",
        url_path="neuron_firing",
        icon=":material/bolt:",
        summary=(
            "Spike rasters and membrane traces of adaptive spiking neurons (ASN, NASN) against "
            "LIF-family baselines, in classifiers trained on Fashion-MNIST."
        ),
        checkpoint_area="vision",
        train_command="glimpse train vision --neuron all",
        datasets=(("fashion-mnist", "all 70,000 images instead of the 200 test images that ship"),),
    ),
    Area(
        title="Spiking language models",
        page="views/language.py",
        url_path="language",
        icon=":material/translate:",
        summary=(
            "Winner-take-all attention of WE- and WD-Spikingformer per layer, head and time "
            "step on your text, beside softmax attention, with predictions, perplexity and energy."
        ),
        checkpoint_area="language",
        train_command="glimpse train language --data-dir PATH/TO/austen",
        datasets=(("austen", "the six full novels for retraining and evaluation"),),
    ),
    Area(
        title="Speech commands",
        page="views/speech.py",
        url_path="speech",
        icon=":material/mic:",
        summary=(
            "SpikCommander, a spiking transformer for spoken commands trained on real spoken "
            "digits: from a microphone recording to the attention gates and the class evidence."
        ),
        checkpoint_area="speech",
        train_command="glimpse train speech --split both",
        datasets=(("fsdd", "the 3,000 recordings to train on and to test the held-out accuracy"),),
    ),
    Area(
        title="Backdoor defence",
        page="views/backdoor.py",
        url_path="backdoor",
        icon=":material/shield:",
        summary=(
            "A small CLIP poisoned by five backdoor attacks and purified by a CBPT-style "
            "defence: the true trigger beside the inverted one, and clean accuracy and attack "
            "success rate before and after each defence."
        ),
        checkpoint_area="clip",
        train_command="glimpse train backdoor",
        datasets=(
            ("fashion-mnist", "predictions on all 10,000 test images instead of the 200 that ship"),
        ),
    ),
    Area(
        title="Agent vs human attention",
        page="views/agent_attention.py",
        url_path="agent_attention",
        icon=":material/visibility:",
        summary=(
            "Where PPO agents trained on Ms. Pac-Man look (perturbation and Captum saliency), "
            "against Atari-HEAD human gaze and a gaze model, frame by frame and across training."
        ),
        checkpoint_area="atari",
        train_command="glimpse train atari ppo --variant baseline",
        datasets=(("atari-head", "a whole Ms. Pac-Man trial instead of the 200-frame sample"),),
    ),
    # Further areas are added here, in the order they appear in the navigation.
)
