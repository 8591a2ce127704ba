"""Glimpse's Streamlit entry point: only the router. Each page lives in ``dashboard/pages``."""

from pathlib import Path

import streamlit as st

from dashboard.areas import AREAS

st.set_page_config(page_title="Glimpse", page_icon=":material/visibility:", layout="wide")

# An area whose page file is not in this checkout (it is built on another branch) is left out
# of the navigation instead of stopping the whole app.
HERE = Path(__file__).resolve().parent
pages = [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)]
pages += [
    st.Page(area.page, title=area.title, icon=area.icon, url_path=area.url_path)
    for area in AREAS
    if (HERE / area.page).is_file()
]
st.navigation(pages).run()
