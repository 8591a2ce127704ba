"""Backdoor defence: poisoned CLIPs, their triggers, and the CBPT-style defence against them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
import torch

from analysis.backdoor import inspection
from analysis.backdoor.metrics import attack_success_rate, clean_accuracy
from analysis.backdoor.triggers import ATTACK_LABELS
from dashboard.cache import backdoor as cache
from dashboard.figures import backdoor as figures
from dashboard.ui import chart, csv_download, metric_row, missing_checkpoint, png_download
from data.fashion_mnist import DatasetError
from data.uploads import UploadError, read_grayscale_upload
from models.clip.captions import ClassNameError, validate_class_names
from models.registry import CheckpointError

GALLERY_LABELS = {
    "per_class": "one image per class",
    "attack_succeeds": "attack succeeds before the defence",
    "defence_fails": "attack still succeeds after the defence",
}


def _read_class_names(text: str, shipped: tuple[str, ...], tokenizer) -> tuple[str, ...] | None:
    """Return edited class names, or None (with a message) to keep the shipped ones."""
    try:
        edited = validate_class_names(text.splitlines())
    except ClassNameError as error:
        st.error(f"Class names not used: {error}. The shipped names are used instead.")
        return None
    if len(edited) != len(shipped):
        st.error(
            f"Class names not used: got {len(edited)} names but the model has {len(shipped)} "
            "classes; give one name per line for every class."
        )
        return None
    if edited == shipped:
        return None
    unknown = tokenizer.unknown_words(edited)
    if unknown:
        st.warning(
            f"Words the model has never seen, read as an unknown token: {', '.join(unknown)}"
        )
    return edited


def _titles(prefix: list[str], result: dict, kind: str, chosen: list[int], names) -> list[str]:
    return [
        f"{head}<br>{names[result[f'before_{kind}'][i]]} / {names[result[f'after_{kind}'][i]]}"
        for head, i in zip(prefix, chosen, strict=True)
    ]


st.title("Backdoor defence")
st.markdown(
    "A small CLIP (open_clip's model classes) trained here on Fashion-MNIST, poisoned by five "
    "attacks and purified by a **CBPT-style** defence: a trigger inverted with contrastive "
    "learning on the frozen image encoder, then class-wise text prompts tuned with the encoders "
    "frozen. CBPT-style is our reconstruction: the source paper's losses were not available."
)

attacks = inspection.available_attacks(cache.CHECKPOINTS)
if not attacks:
    missing_checkpoint("the backdoor area", "glimpse train backdoor")
    st.stop()

# Controls: attack, defence seed, image source and class names.
left, middle, right = st.columns([2, 1, 3])
attack_name = left.selectbox(
    "Attack",
    attacks,
    index=attacks.index(inspection.strongest_attack(cache.CHECKPOINTS, attacks)),
    format_func=lambda a: ATTACK_LABELS[a],
    key="attack",
)
try:
    bundle, trigger, poisoned_card = cache.attack(attack_name)
    defence = cache.defence(attack_name)
except CheckpointError as error:
    st.error(f"The checkpoints for {ATTACK_LABELS[attack_name]} could not be loaded: {error}")
    st.stop()
seed = middle.selectbox("Defence seed", defence.seeds, key="seed")
source_label = right.radio(
    "Images", ("shipped 200-image sample", "Fashion-MNIST folder"), horizontal=True, key="source"
)
source, limit = cache.SAMPLE, 200
if source_label == "Fashion-MNIST folder":
    folder_col, limit_col = st.columns([3, 1])
    folder = folder_col.text_input(
        "Folder with the Fashion-MNIST IDX files (t10k-images-idx3-ubyte.gz, ...)",
        key="folder",
        help="`glimpse data fetch fashion-mnist` downloads them.",
    ).strip()
    limit = int(limit_col.number_input("Test images", 100, 10_000, 1_000, step=100, key="limit"))
    if folder:
        source = folder
    else:
        st.info("Enter a folder to use its test images; the shipped sample is shown meanwhile.")

with st.expander("Class names in the prompts"):
    names_text = st.text_area(
        "One class name per line",
        "\n".join(bundle.class_names),
        height=240,
        key="class_names",
        help="Zero-shot prompts read 'a photo of a {name}.'; the defence puts its tuned context "
        "before each name. The shipped models know only the words of their captions.",
    )
class_names = _read_class_names(names_text, bundle.class_names, bundle.tokenizer)
names = class_names or bundle.class_names

try:
    images, labels = cache.images(source, limit)
except DatasetError as error:
    st.error(f"{error}. The shipped sample is shown instead.")
    source, limit = cache.SAMPLE, 200
    images, labels = cache.images(source, limit)
result = cache.predictions(attack_name, seed, source, limit, class_names)

attack = poisoned_card["config"]["attack"]
target = int(attack["target"])
st.caption(
    f"Target class: **{names[target]}**. {attack['poison_rate']:.1%} of the training images carry "
    f"the trigger with a caption naming {names[target]}. **ASR** counts triggered images whose "
    f"true class is not {names[target]}; images of the target class are excluded, because "
    "predicting the target for them is correct. **CA** is accuracy on clean images."
)

# Live CA and ASR on the chosen images.
values = []
for label, prefix in (("No defence", "before"), ("CBPT-style", "after")):
    ca = clean_accuracy(result[f"{prefix}_clean"], labels)
    asr = attack_success_rate(result[f"{prefix}_triggered"], labels, target)
    values += [(f"{label}: CA", f"{ca:.1%}"), (f"{label}: ASR", f"{asr:.1%}")]
metric_row(values)
st.caption(f"On the {len(labels)} chosen images with defence seed {seed}.")

# Gallery of clean and triggered images.
st.subheader("Clean and triggered images", anchor=False)
mode_col, count_col = st.columns([3, 1])
mode = mode_col.radio(
    "Show",
    list(GALLERY_LABELS),
    format_func=GALLERY_LABELS.get,
    horizontal=True,
    key="gallery_mode",
)
count = count_col.slider("Images", 4, 10, 8, key="gallery_count")
chosen = inspection.gallery_indices(mode, labels, result, target)[:count]
if chosen:
    chart(
        figures.gallery_figure(
            result["clean_pixels"][chosen].transpose(0, 2, 3, 1),
            result["triggered_pixels"][chosen].transpose(0, 2, 3, 1),
            _titles([names[labels[i]] for i in chosen], result, "clean", chosen, names),
            _titles(["triggered"] * len(chosen), result, "triggered", chosen, names),
        ),
        key="gallery",
        filename=f"backdoor-gallery-{attack_name}",
    )
    st.caption("Titles: true class, then prediction without defence / with the CBPT-style defence.")
else:
    st.info("None of the chosen images fits this filter.")
csv_download(
    inspection.prediction_table(labels, result, names),
    filename=f"backdoor-predictions-{attack_name}-seed{seed}",
    key="gallery_csv",
)

# True trigger beside the inverted one.
st.subheader("True trigger and inverted trigger", anchor=False)
inverted = defence.inverted[seed]
non_target = np.flatnonzero(labels != target)
example = int(non_target[0]) if len(non_target) else 0
clean_example = result["clean_pixels"][example].transpose(1, 2, 0)
triggered_example = result["triggered_pixels"][example].transpose(1, 2, 0)
true_change = triggered_example - clean_example
mask = inverted.mask[0].numpy()
pattern = inverted.pattern.numpy().transpose(1, 2, 0)
stamped = inverted.apply(torch.from_numpy(result["clean_pixels"][example : example + 1]))[0]
chart(
    figures.trigger_figure(
        [
            ("clean", clean_example),
            (f"{ATTACK_LABELS[attack_name]} trigger", triggered_example),
            ("true change (x2)", np.clip(0.5 + 2.0 * true_change, 0.0, 1.0)),
            ("inverted pattern", pattern),
            ("mask x pattern", mask[..., None] * pattern),
            ("inverted trigger", stamped.numpy().transpose(1, 2, 0)),
        ],
        [("inverted mask", mask)],
    ),
    key="trigger",
    filename=f"backdoor-trigger-{attack_name}-seed{seed}",
)
st.caption(
    f"Inverted mask: mean {mask.mean():.3f}, largest {mask.max():.2f}. True change: grey is "
    "unchanged; brighter or darker pixels show what the trigger added, doubled for visibility."
)
download_left, download_right = st.columns([1, 5])
with download_left:
    csv_download(
        inspection.trigger_table(mask, pattern, true_change),
        filename=f"backdoor-inverted-trigger-{attack_name}-seed{seed}",
        key="trigger_csv",
    )
with download_right:
    png_download(
        mask[..., None] * pattern,
        filename=f"inverted-trigger-{attack_name}-seed{seed}",
        key="trigger_png",
        label="Inverted trigger PNG",
    )

# CA/ASR table over attacks and defences, and the spread over seeds.
st.subheader("CA and ASR over attacks and defences", anchor=False)
cards = cache.defence_cards()
clean_reference = poisoned_card["metrics"].get("clean_model_accuracy")
table = inspection.results_table(cards, clean_reference)
if table.empty:
    st.info("No defence results are installed; run `glimpse train backdoor --stage defend`.")
else:
    scored_on = sorted({card["data"].split("scored on ")[-1] for card in cards.values()})
    reference = f" Clean model CA: {clean_reference:.1%}." if clean_reference is not None else ""
    st.caption(
        f"Zero-shot classification, mean ± standard deviation over the seeds, scored on "
        f"{', '.join(scored_on)}.{reference} Seconds: the defence's time per seed on one CPU "
        "thread."
    )
    display_table = pd.DataFrame(
        {
            "attack": table["attack"],
            "defence": table["defence"],
            "seeds": table["seeds"],
            "CA (%)": [
                f"{m:.2f} ± {s:.2f}" for m, s in zip(table["ca_mean"], table["ca_std"], strict=True)
            ],
            "ASR (%)": [
                f"{m:.2f} ± {s:.2f}"
                for m, s in zip(table["asr_mean"], table["asr_std"], strict=True)
            ],
            "seconds": table["seconds_mean"],
        }
    )
    st.dataframe(
        display_table,
        hide_index=True,
        width="stretch",
        column_config={"seconds": st.column_config.NumberColumn(format="%.1f")},
    )
    chart(figures.results_figure(table), key="results", filename="backdoor-ca-asr")
    csv_download(table, filename="backdoor-ca-asr", key="results_csv")

    st.subheader("Run-to-run spread", anchor=False)
    spread = inspection.per_seed_table(defence.card, attack_name)
    chart(figures.spread_figure(spread), key="spread", filename=f"backdoor-spread-{attack_name}")
    st.caption("Each point is one seed: its own clean shots, inverted trigger and prompts.")
    csv_download(spread, filename=f"backdoor-spread-{attack_name}", key="spread_csv")

# Image features in 2-D before and after the defence.
st.subheader("Image features in 2-D (PCA)", anchor=False)
panels, pca_points = inspection.pca_panels(result, labels)
chart(
    figures.pca_figure(panels, names), key="pca", filename=f"backdoor-pca-{attack_name}-seed{seed}"
)
st.caption(
    "The defence freezes the image encoder, so the image features are the same in both panels; "
    "the class text features (stars) move, and with them the predicted class (colour). Circles "
    "are clean images, crosses triggered ones. Axes: the first two principal components of the "
    "image features shown."
)
for column in ("label", "predicted_no_defence", "predicted_cbpt_style"):
    pca_points[column] = [names[i] for i in pca_points[column]]
csv_download(pca_points, filename=f"backdoor-pca-{attack_name}-seed{seed}", key="pca_csv")

# An uploaded image, clean and triggered.
st.subheader("Try an image", anchor=False)
upload = st.file_uploader(
    "A 28x28 grayscale or RGB image, light clothing on a black background (PNG, JPEG or BMP)",
    type=["png", "jpg", "jpeg", "bmp"],
    key="upload",
)
if upload is not None:
    try:
        array = read_grayscale_upload(upload.getvalue(), upload.name)
    except UploadError as error:
        st.error(str(error))
    else:
        own = cache.classify_upload(array.tobytes(), attack_name, seed, class_names)
        chart(
            figures.gallery_figure(
                own["clean_pixels"].transpose(0, 2, 3, 1),
                own["triggered_pixels"].transpose(0, 2, 3, 1),
                _titles(["clean"], own, "clean", [0], names),
                _titles(["triggered"], own, "triggered", [0], names),
            ).update_layout(width=320),
            key="upload_figure",
            filename=f"backdoor-upload-{attack_name}",
        )
        verdict = {
            kind: [names[int(own[f"{p}_{kind}"][0])] for p in ("before", "after")]
            for kind in ("clean", "triggered")
        }
        st.caption(
            f"Uploaded image, clean: {verdict['clean'][0]} without defence, "
            f"{verdict['clean'][1]} with CBPT-style. With the {ATTACK_LABELS[attack_name]} "
            f"trigger: {verdict['triggered'][0]} without defence, {verdict['triggered'][1]} with "
            "CBPT-style."
        )
        csv_download(
            pd.DataFrame(
                [
                    {"image": kind, "no_defence": pair[0], "cbpt_style": pair[1]}
                    for kind, pair in verdict.items()
                ]
            ),
            filename=f"backdoor-upload-{attack_name}",
            key="upload_csv",
        )
