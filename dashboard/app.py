"""Glimpse's Streamlit entry point: only the router. Each page lives in ``dashboard/views``."""

import streamlit as st

from dashboard.areas import AREAS

st.set_page_config(page_title="Glimpse", page_icon=":material/visibility:", layout="wide")

pages = [st.Page("views/home.py", title="Home", icon=":material/home:", default=True)]
pages += [
    st.Page(area.page, title=area.title, icon=area.icon, url_path=area.url_path) for area in AREAS
]
st.navigation(pages).run()
