"""Neuron firing: spike rasters, membrane traces and energy of the Fashion-MNIST classifiers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from analysis.energy import EnergyCosts
from analysis.firing import energy_table
from dashboard import ui
from dashboard.cache.vision import BLOCKS, classifier, installed_cards, run_image
from dashboard.figures import vision as figures
from data.fashion_mnist import CLASSES, load_sample
from data.images import ImageInputError, as_grayscale, decode_image
from models.registry import CheckpointError
from models.vision.classifier import LAYER_NAMES

SPIKING_ORDER = ("nasn", "asn", "nilif", "ilif", "plif", "lif")
LABELS = {
    "lif": "LIF",
    "plif": "PLIF",
    "ilif": "ILIF",
    "nilif": "NILIF",
    "asn": "ASN",
    "nasn": "NASN",
    "ann": "ANN",
}
PAGE_SIZES = {"1,000": 1_000, "5,000": 5_000, "20,000": 20_000, "all": None}
MAX_TRACE_NEURONS = 12

st.title("Neuron firing")
st.caption(
    "A spiking CNN trained on Fashion-MNIST with each neuron type: LIF and PLIF run T = 4 "
    "binary steps; ILIF, NILIF, ASN and NASN train with integer outputs in one step (T = 1, "
    "D = 4) and infer with the same values unrolled into 4 binary spikes."
)

cards = installed_cards()
available = [kind for kind in SPIKING_ORDER if kind in cards]
missing = [kind for kind in (*SPIKING_ORDER, "ann") if kind not in cards]
if not available:
    ui.missing_checkpoint(
        "any Fashion-MNIST classifier",
        "glimpse train vision --neuron all --data-dir FASHION_MNIST_DIR",
    )
    st.stop()
if missing:
    st.info(
        f"Not installed: {', '.join(LABELS[k] for k in missing)}. Train them with "
        "`glimpse train vision --neuron NAME --data-dir FASHION_MNIST_DIR`.",
        icon=":material/info:",
    )


def _variant_label(kind: str) -> str:
    accuracy = cards[kind]["metrics"].get("test_accuracy")
    setting = "1x4" if kind in ("ilif", "nilif", "asn", "nasn") else "T=4"
    return f"{LABELS[kind]} ({setting}) - {100 * accuracy:.2f}% test" if accuracy else LABELS[kind]


# --- inputs --------------------------------------------------------------------------------
left, middle, right = st.columns([2, 2, 3])
neuron = left.selectbox("Network", available, format_func=_variant_label, key="variant")
layer = middle.selectbox(
    "Layer", LAYER_NAMES, key="layer", help="The neuron layer after each synaptic layer."
)
source = right.radio("Image", ("Test sample", "Upload"), horizontal=True, key="source")

sample_images, sample_labels, sample_indices = load_sample()
label: int | None = None
image: np.ndarray | None = None
if source == "Test sample":
    index = right.slider("Sample", 0, len(sample_images) - 1, 0, key="sample")
    image, label = sample_images[index], int(sample_labels[index])
    right.caption(f"Test image #{int(sample_indices[index])}, class {CLASSES[label]}")
else:
    upload = right.file_uploader(
        "28x28 grayscale image (white object on black, like Fashion-MNIST)",
        type=["png", "jpg", "jpeg", "bmp", "gif", "webp", "pgm"],
        key="upload",
    )
    convert = right.checkbox(
        "Resize and convert to grayscale if needed", value=False, key="convert"
    )
    invert = right.checkbox("Invert (dark object on a light background)", value=False, key="invert")
    if upload is None:
        st.info("Upload an image, or pick a test sample.", icon=":material/upload:")
        st.stop()
    try:
        image = as_grayscale(
            decode_image(upload.getvalue(), upload.name), (28, 28), convert=convert, invert=invert
        )
    except ImageInputError as error:
        st.error(f"{upload.name}: {error}", icon=":material/error:")
        st.stop()

try:
    classifier(neuron)
except CheckpointError as error:
    st.error(str(error), icon=":material/error:")
    st.stop()
result = run_image(neuron, image.tobytes())
view = result.layers[layer]
neuron_count = int(np.prod(view.shape))
sub_steps = view.binary.shape[1]
total_steps = view.binary.shape[0] * sub_steps

# --- prediction ----------------------------------------------------------------------------
image_col, prob_col, info_col = st.columns([1, 3, 2])
image_col.image(image, caption="input (28x28)", width=140, clamp=True)
with prob_col:
    ui.chart(
        figures.class_probabilities(result.probabilities, CLASSES, label),
        key="probs",
        filename=f"{neuron}-probabilities",
    )
predicted = int(np.argmax(result.probabilities))
with info_col:
    st.metric(
        "Prediction",
        CLASSES[predicted],
        f"{100 * result.probabilities[predicted]:.1f}% confidence",
        delta_color="off",
    )
    st.metric(
        f"Spikes in {layer}",
        f"{int(view.binary.sum()):,}",
        f"{neuron_count:,} neurons, {total_steps} binary steps",
        delta_color="off",
    )
    ui.csv_download(
        pd.DataFrame({"class": CLASSES, "probability": result.probabilities}),
        filename=f"{neuron}-probabilities",
        key="probs_csv",
    )

# --- raster --------------------------------------------------------------------------------
st.subheader(
    f"Spike raster: {layer} ({view.kind}, shape {' x '.join(map(str, view.shape))})", anchor=False
)
page_col, size_col = st.columns([3, 1])
size_label = size_col.selectbox("Neurons per page", list(PAGE_SIZES), index=1, key="page_size")
page_size = PAGE_SIZES[size_label] or neuron_count
pages = max(1, -(-neuron_count // page_size))
page = page_col.slider("Neuron page", 1, pages, 1, key="neuron_page") if pages > 1 else 1
lo, hi = (page - 1) * page_size, min(page * page_size, neuron_count)
flat = view.binary.reshape(total_steps, -1)
steps, neurons = np.nonzero(flat[:, lo:hi])
neurons = neurons + lo
event = ui.chart(
    figures.raster(
        steps,
        neurons,
        total_steps=total_steps,
        sub_steps=sub_steps,
        neuron_range=(lo, hi),
        title=f"{len(steps):,} spikes of neurons {lo}-{hi - 1}; drag to zoom, click or box-select to trace neurons",
    ),
    key="raster",
    filename=f"{neuron}-{layer}-raster",
    height=460,
    select=("points", "box"),
)
ui.csv_download(
    pd.DataFrame({"neuron": neurons, "step": steps}),
    filename=f"{neuron}-{layer}-raster",
    key="raster_csv",
)

# --- traces --------------------------------------------------------------------------------
selected = []
if event and event.selection and event.selection.points:
    selected = sorted({int(point["y"]) for point in event.selection.points})[:MAX_TRACE_NEURONS]
if not selected:
    activity = flat[:, lo:hi].sum(0)
    order = np.argsort(-activity, kind="stable")
    selected = sorted(int(i + lo) for i in order[: min(4, hi - lo)])
    quiet = np.flatnonzero(activity == 0)
    if quiet.size:
        selected.append(int(quiet[0] + lo))
typed = st.text_input(
    "Neurons to trace (comma-separated indices; a click or box on the raster fills this)",
    value=", ".join(map(str, selected)),
    key=f"trace_ids_{neuron}_{layer}_{','.join(map(str, selected))}",
)
try:
    ids = sorted({int(part) for part in typed.replace(" ", "").split(",") if part})
except ValueError:
    st.warning(f"{typed!r} is not a list of integers; tracing the default neurons instead.")
    ids = selected
bad = [i for i in ids if not 0 <= i < neuron_count]
if bad:
    st.warning(
        f"Neurons {bad} do not exist in {layer}, which has {neuron_count:,} (0-{neuron_count - 1})."
    )
ids = [i for i in ids if 0 <= i < neuron_count][:MAX_TRACE_NEURONS] or selected

if view.threshold is not None:
    st.subheader("Membrane traces", anchor=False)
    ui.chart(
        figures.membrane_traces(
            view.mem[:, ids],
            view.spk[:, ids],
            ids,
            view.threshold,
            f"{layer}: H[t] against the threshold",
        ),
        key="traces",
        filename=f"{neuron}-{layer}-traces",
        height=380,
    )
    trace_frame = pd.DataFrame(
        [
            {"neuron": n, "step": t, "mem": float(view.mem[t, n]), "spk": float(view.spk[t, n])}
            for n in ids
            for t in range(view.mem.shape[0])
        ]
    )
else:
    q = view.spk[:, ids] / view.scale
    st.subheader("Membrane potential against the clip window", anchor=False)
    ui.chart(
        figures.integer_window(
            view.mem[:, ids],
            q,
            ids,
            view.window,
            f"{layer}: U and q = clip(round(U), alpha, alpha + D)",
        ),
        key="traces",
        filename=f"{neuron}-{layer}-window",
        height=380,
    )
    st.subheader("Integer outputs and their unrolled binary spikes", anchor=False)
    st.caption(
        f"Each integer output q is sent as count binary spikes over D = {sub_steps} sub-steps "
        f"plus the constant {view.constant:g} folded into the next layer's bias; the output "
        f"the next layer sees is {view.scale:g} x q."
    )
    ui.chart(
        figures.integer_vs_binary(q, view.binary[:, :, ids], ids, view.constant),
        key="unrolled",
        filename=f"{neuron}-{layer}-unrolled",
        height=120 + 28 * len(ids),
    )
    trace_frame = pd.DataFrame(
        [
            {
                "neuron": n,
                "step": t,
                "mem": float(view.mem[t, n]),
                "q": float(view.spk[t, n] / view.scale),
                "spikes": int(view.binary[t, :, n].sum()),
                "alpha": view.window[0],
            }
            for n in ids
            for t in range(view.mem.shape[0])
        ]
    )
ui.csv_download(trace_frame, filename=f"{neuron}-{layer}-traces", key="traces_csv")

# --- rates and energy ----------------------------------------------------------------------
st.subheader("Firing rates, synaptic operations and energy", anchor=False)
cost_cols = st.columns([1, 1, 2])
ac_pj = cost_cols[0].number_input(
    "pJ per accumulate (AC)", min_value=0.0, value=0.9, step=0.1, key="ac_pj"
)
mac_pj = cost_cols[1].number_input(
    "pJ per multiply-accumulate (MAC)", min_value=0.0, value=4.6, step=0.1, key="mac_pj"
)
cost_cols[2].caption(
    "Defaults: 45 nm CMOS, 32-bit float (Horowitz, ISSCC 2014). SOPs are binary spikes times "
    "their fan-out into the next layer; the first convolution sees real pixels (MACs) and runs "
    "once for all time steps. The ANN twin has the same shape with ReLU in place of each neuron."
)
costs = EnergyCosts(ac_pj=ac_pj, mac_pj=mac_pj)
table = energy_table(BLOCKS, result.statistics, result.snn_ops, result.ann_ops, costs)
hist_col, energy_col = st.columns(2)
with hist_col:
    rates = view.binary.sum(axis=(0, 1)) / total_steps
    ui.chart(
        figures.rate_histogram(
            rates, f"{layer}: mean {np.mean(rates):.3f} spikes per neuron per binary step"
        ),
        key="hist",
        filename=f"{neuron}-{layer}-rates",
        height=340,
    )
    ui.csv_download(
        pd.DataFrame({"neuron": np.arange(neuron_count), "firing_rate": rates}),
        filename=f"{neuron}-{layer}-rates",
        key="hist_csv",
    )
with energy_col:
    body = table[table["layer"] != "total"]
    ui.chart(
        figures.energy_bars(
            body["layer"], body["energy_nJ"], body["ANN_energy_nJ"], LABELS[neuron]
        ),
        key="energy",
        filename=f"{neuron}-energy",
        height=340,
    )
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={
        "firing_rate": st.column_config.NumberColumn("firing rate", format="%.3f"),
        "sparsity": st.column_config.NumberColumn(format="%.3f"),
        "SOPs": st.column_config.NumberColumn(format="%.0f"),
        "MACs": st.column_config.NumberColumn(format="%.0f"),
        "energy_nJ": st.column_config.NumberColumn("energy (nJ)", format="%.2f"),
        "ANN_MACs": st.column_config.NumberColumn("ANN MACs", format="%.0f"),
        "ANN_energy_nJ": st.column_config.NumberColumn("ANN energy (nJ)", format="%.2f"),
        "energy_ratio": st.column_config.NumberColumn("SNN / ANN", format="%.3f"),
    },
)
ui.csv_download(table, filename=f"{neuron}-energy", key="energy_csv")

# --- all variants --------------------------------------------------------------------------
st.subheader("Test accuracy of every variant (10,000 test images)", anchor=False)
rows = []
for kind in (*SPIKING_ORDER, "ann"):
    if kind not in cards:
        continue
    metrics = cards[kind]["metrics"]
    rows.append(
        {
            "neuron": LABELS[kind],
            "setting": "1x4"
            if kind in ("ilif", "nilif", "asn", "nasn")
            else ("T=4" if kind != "ann" else "-"),
            "test accuracy": metrics.get("test_accuracy"),
            "spike inference accuracy": metrics.get("test_accuracy_spike_inference"),
            "validation accuracy": metrics.get("val_accuracy"),
            "epochs": cards[kind].get("training", {}).get("epochs"),
        }
    )
accuracy_frame = pd.DataFrame(rows)
st.dataframe(
    accuracy_frame,
    hide_index=True,
    width="stretch",
    column_config={
        "test accuracy": st.column_config.NumberColumn(format="percent"),
        "spike inference accuracy": st.column_config.NumberColumn(format="percent"),
        "validation accuracy": st.column_config.NumberColumn(format="percent"),
    },
)
st.caption(
    "Spike inference feeds every layer after an integer neuron with the unrolled binary spikes. "
    "It equals the integer network exactly for an integer alpha; with a learned non-integer "
    "alpha the clipped outputs alpha and alpha + D are sent as ceil(alpha) and ceil(alpha) + D."
)
ui.csv_download(accuracy_frame, filename="fashion-mnist-accuracy", key="accuracy_csv")
