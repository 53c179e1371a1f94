"""Cruxboard in the browser: page configuration and navigation only (pages in app_pages/)."""

import streamlit as st

from app_pages.routes import ROUTES

st.set_page_config(page_title="Cruxboard", page_icon=":material/hub:", layout="wide")
st.navigation(
    [
        st.Page(r.file, title=r.title, icon=r.icon, url_path=r.url_path or None, default=i == 0)
        for i, r in enumerate(ROUTES)
    ]
).run()
