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
from models.clip.images import pixels_to_uint8
from models.registry import CheckpointError

GALLERY_MODES = (
    "one image per class",
    "attack succeeds before the defence",
    "attack still succeeds after the defence",
)

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
    "Attack", attacks, format_func=lambda a: ATTACK_LABELS[a], key="attack"
)
try:
    bundle, trigger, poisoned_card = cache.attack(attack_name)
    defence = cache.defence(attack_name)
except CheckpointError as error:
    st.error(
        f"The shipped checkpoints for {ATTACK_LABELS[attack_name]} could not be loaded: {error}"
    )
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
    limit = limit_col.number_input("Test images", 100, 10_000, 1_000, step=100, key="limit")
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
        help="Zero-shot prompts read 'a photo of a {name}.'; the defence's prompts put its tuned "
        "context before each name. The shipped models know only the words of their captions.",
    )
class_names: tuple[str, ...] | None = None
try:
    edited = validate_class_names(names_text.splitlines())
except ClassNameError as error:
    st.error(f"Class names not used: {error}. The shipped names are used instead.")
else:
    if len(edited) != len(bundle.class_names):
        st.error(
            f"Class names not used: got {len(edited)} names but the model has "
            f"{len(bundle.class_names)} classes; give one name per line for every class."
        )
    elif edited != bundle.class_names:
        class_names = edited
        unknown = bundle.tokenizer.unknown_words(class_names)
        if unknown:
            st.warning(
                f"Words the model has never seen, read as an unknown token: {', '.join(unknown)}"
            )
names = class_names or bundle.class_names

try:
    images, labels = cache.images(source, int(limit))
except DatasetError as error:
    st.error(f"{error}. The shipped sample is shown instead.")
    source, limit = cache.SAMPLE, 200
    images, labels = cache.images(source, limit)
result = cache.predictions(attack_name, seed, source, int(limit), class_names)

attack = poisoned_card["config"]["attack"]
target = int(attack["target"])
target_name = names[target]
st.caption(
    f"Target class: **{target_name}**. Poisoned pairs: {attack['poison_rate']:.1%} of the training "
    f"images carry the trigger with a caption naming {target_name}. **ASR** counts triggered "
    f"images whose true class is not {target_name}; images of the target class are excluded, "
    "because predicting the target for them is correct. **CA** is accuracy on clean images."
)

# Live CA and ASR on the chosen images.
live = {
    "No defence": (result["before_clean"], result["before_triggered"]),
    "CBPT-style": (result["after_clean"], result["after_triggered"]),
}
values = []
for label, (clean_pred, triggered_pred) in live.items():
    values.append((f"{label}: CA", f"{clean_accuracy(clean_pred, labels):.1%}"))
    values.append((f"{label}: ASR", f"{attack_success_rate(triggered_pred, labels, target):.1%}"))
metric_row(values)
st.caption(f"On the {len(labels)} chosen images with defence seed {seed}.")

# Gallery of clean and triggered images.
st.subheader("Clean and triggered images", anchor=False)
mode_col, count_col = st.columns([3, 1])
mode = mode_col.radio("Show", GALLERY_MODES, horizontal=True, key="gallery_mode")
count = count_col.slider("Images", 4, 10, 8, key="gallery_count")
non_target = labels != target
if mode == GALLERY_MODES[0]:
    order = [int(np.flatnonzero(labels == c)[0]) for c in range(len(names)) if (labels == c).any()]
elif mode == GALLERY_MODES[1]:
    order = np.flatnonzero(non_target & (result["before_triggered"] == target)).tolist()
else:
    order = np.flatnonzero(non_target & (result["after_triggered"] == target)).tolist()
chosen = order[:count]
if not chosen:
    st.info("No image of the chosen images fits this filter.")
else:
    clean_images = pixels_to_uint8(torch.from_numpy(result["clean_pixels"][chosen]))
    triggered_images = pixels_to_uint8(torch.from_numpy(result["triggered_pixels"][chosen]))
    clean_titles = [
        f"{names[labels[i]]}<br>{names[result['before_clean'][i]]} / {names[result['after_clean'][i]]}"
        for i in chosen
    ]
    triggered_titles = [
        f"triggered<br>{names[result['before_triggered'][i]]} / {names[result['after_triggered'][i]]}"
        for i in chosen
    ]
    chart(
        figures.gallery_figure(clean_images, triggered_images, clean_titles, triggered_titles),
        key="gallery",
        filename=f"backdoor-gallery-{attack_name}",
    )
    st.caption("Titles: true class, then prediction without defence / with the CBPT-style defence.")
gallery_rows = pd.DataFrame(
    {
        "index": np.arange(len(labels)),
        "label": [names[i] for i in labels],
        "clean_no_defence": [names[i] for i in result["before_clean"]],
        "triggered_no_defence": [names[i] for i in result["before_triggered"]],
        "clean_cbpt_style": [names[i] for i in result["after_clean"]],
        "triggered_cbpt_style": [names[i] for i in result["after_triggered"]],
    }
)
csv_download(
    gallery_rows, filename=f"backdoor-predictions-{attack_name}-seed{seed}", key="gallery_csv"
)

# True trigger beside the inverted one.
st.subheader("True trigger and inverted trigger", anchor=False)
inverted = defence.inverted[seed]
example = int(np.flatnonzero(non_target)[0]) if non_target.any() else 0
clean_example = result["clean_pixels"][example].transpose(1, 2, 0)
triggered_example = result["triggered_pixels"][example].transpose(1, 2, 0)
residual = np.clip(0.5 + 2.0 * (triggered_example - clean_example), 0.0, 1.0)
mask = inverted.mask[0].numpy()
pattern = inverted.pattern.numpy().transpose(1, 2, 0)
stamped = inverted.apply(torch.from_numpy(result["clean_pixels"][example : example + 1]))[0]
chart(
    figures.trigger_figure(
        [
            ("clean", clean_example),
            (f"{ATTACK_LABELS[attack_name]} trigger", triggered_example),
            ("true change (x2)", residual),
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
    "unchanged, brighter or darker pixels show what the trigger added, doubled for visibility."
)
rows, cols = np.indices(mask.shape)
csv_download(
    pd.DataFrame(
        {
            "row": rows.ravel(),
            "column": cols.ravel(),
            "mask": mask.ravel(),
            "pattern_r": pattern[..., 0].ravel(),
            "pattern_g": pattern[..., 1].ravel(),
            "pattern_b": pattern[..., 2].ravel(),
            "true_change": (triggered_example - clean_example).mean(axis=-1).ravel(),
        }
    ),
    filename=f"backdoor-inverted-trigger-{attack_name}-seed{seed}",
    key="trigger_csv",
)
png_download(
    mask[..., None] * pattern,
    filename=f"inverted-trigger-{attack_name}-seed{seed}",
    key="trigger_png",
    label="Inverted trigger PNG",
)

# CA/ASR table over attacks and defences.
st.subheader("CA and ASR over attacks and defences", anchor=False)
cards = cache.defence_cards()
clean_reference = poisoned_card["metrics"].get("clean_model_accuracy")
table = inspection.results_table(cards, clean_reference)
if table.empty:
    st.info("No defence results are installed; run `glimpse train backdoor --stage defend`.")
else:
    test_images = {card["data"].split("scored on ")[-1] for card in cards.values()}
    st.caption(
        f"Zero-shot classification, mean ± standard deviation over the seeds, scored on "
        f"{', '.join(sorted(test_images))}. Clean model CA: {clean_reference:.1%}."
        if clean_reference is not None
        else "Mean ± standard deviation over the seeds."
    )
    shown = table.assign(
        CA=[f"{m:.2f} ± {s:.2f}" for m, s in zip(table["ca_mean"], table["ca_std"], strict=True)],
        ASR=[
            f"{m:.2f} ± {s:.2f}" for m, s in zip(table["asr_mean"], table["asr_std"], strict=True)
        ],
    )[["attack", "defence", "seeds", "CA", "ASR", "seconds_mean"]]
    st.dataframe(
        shown.rename(columns={"seconds_mean": "seconds"}),
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
clean_feats = result["clean_feats"]
triggered_feats = result["triggered_feats"]
fit, clean_2d, triggered_2d, text_before_2d, text_after_2d = inspection.pca_2d(
    np.concatenate([clean_feats, triggered_feats]),
    clean_feats,
    triggered_feats,
    result["text_before"],
    result["text_after"],
)
del fit
panels = [
    {
        "title": "No defence: zero-shot prompts",
        "clean": clean_2d,
        "triggered": triggered_2d,
        "clean_pred": result["before_clean"],
        "triggered_pred": result["before_triggered"],
        "text": text_before_2d,
        "labels": labels,
    },
    {
        "title": "CBPT-style: tuned class-wise prompts",
        "clean": clean_2d,
        "triggered": triggered_2d,
        "clean_pred": result["after_clean"],
        "triggered_pred": result["after_triggered"],
        "text": text_after_2d,
        "labels": labels,
    },
]
chart(
    figures.pca_figure(panels, names), key="pca", filename=f"backdoor-pca-{attack_name}-seed{seed}"
)
st.caption(
    "The defence freezes the image encoder, so the image features are the same in both panels; "
    "the class text features (stars) move, and with them the predicted class (colour). Circles "
    "are clean images, crosses triggered ones. Axes: the first two principal components of all "
    "the image features shown."
)
csv_download(
    pd.DataFrame(
        {
            "kind": ["clean"] * len(labels) + ["triggered"] * len(labels),
            "label": [names[i] for i in np.concatenate([labels, labels])],
            "pc1": np.concatenate([clean_2d[:, 0], triggered_2d[:, 0]]),
            "pc2": np.concatenate([clean_2d[:, 1], triggered_2d[:, 1]]),
            "predicted_no_defence": [
                names[i]
                for i in np.concatenate([result["before_clean"], result["before_triggered"]])
            ],
            "predicted_cbpt_style": [
                names[i] for i in np.concatenate([result["after_clean"], result["after_triggered"]])
            ],
        }
    ),
    filename=f"backdoor-pca-{attack_name}-seed{seed}",
    key="pca_csv",
)

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
        own_images = pixels_to_uint8(
            torch.from_numpy(np.concatenate([own["clean_pixels"], own["triggered_pixels"]]))
        )
        columns = st.columns(2)
        for column, image, kind in zip(columns, own_images, ("clean", "triggered"), strict=True):
            before = names[int(own[f"before_{kind}"][0])]
            after = names[int(own[f"after_{kind}"][0])]
            column.image(
                image,
                caption=f"{kind}: {before} without defence, {after} with CBPT-style",
                width=160,
            )
