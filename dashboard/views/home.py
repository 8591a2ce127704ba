"""Home: what each area shows, and which checkpoints and datasets are installed."""

from __future__ import annotations

import streamlit as st

from dashboard.areas import AREAS
from data import sources
from models.registry import list_checkpoints

st.title("Glimpse")
st.markdown(
    "Look inside neural networks: when spiking neurons fire, where spiking transformers "
    "attend, what trigger a backdoored CLIP model hides, and where Atari agents look "
    "compared with human players. Every page runs real models trained by this project."
)

known_sources = sources.sources()
for area in AREAS:
    with st.container(border=True):
        left, right = st.columns([3, 2])
        with left:
            st.subheader(area.title, anchor=False)
            st.write(area.summary)
            st.page_link(area.page, label=f"Open {area.title}", icon=area.icon)
        with right:
            checkpoints = list_checkpoints(area.checkpoint_area)
            present = [c for c in checkpoints if c.weights.exists()]
            if present:
                st.success(
                    f"{len(present)} checkpoint(s) installed", icon=":material/check_circle:"
                )
            else:
                st.warning(
                    f"No checkpoints installed. Train them with `{area.train_command}`.",
                    icon=":material/warning:",
                )
            for name, adds in area.datasets:
                folder = sources.data_dir() / name
                if name in known_sources and folder.exists() and any(folder.iterdir()):
                    st.caption(f":material/database: `{name}` fetched in `{folder}`")
                else:
                    st.caption(f":material/download: `glimpse data fetch {name}` adds {adds}.")
