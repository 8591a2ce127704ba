"""A one-chart Streamlit app that draws the Neuron firing raster with a given number of spikes.

The browser benchmark starts it with ``streamlit run`` and times how long Chromium takes to
show every point.
"""

import os

import numpy as np

from dashboard import ui
from dashboard.figures.vision import raster

spikes = int(os.environ.get("GLIMPSE_BENCH_SPIKES", "1000000"))
neurons, steps = 50_000, 40
rng = np.random.default_rng(0)
flat = rng.choice(neurons * steps, size=spikes, replace=False)
step_index, neuron_index = np.divmod(flat, neurons)
figure = raster(
    step_index.astype(np.int32),
    neuron_index.astype(np.int32),
    total_steps=steps,
    sub_steps=4,
    neuron_range=(0, neurons),
    title=f"{spikes:,} spikes",
)
ui.chart(figure, key="raster", filename="raster", height=600)
