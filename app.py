"""Cruxboard in the browser: page configuration and navigation only (pages in app_pages/)."""

import streamlit as st

from app_pages.common import FACILITATOR_TOKENS
from app_pages.routes import ROUTES, navigation_position

st.set_page_config(page_title="Cruxboard", page_icon=":material/hub:", layout="wide")
st.navigation(
    [
        st.Page(r.file, title=r.title, icon=r.icon, url_path=r.url_path or None, default=i == 0)
        for i, r in enumerate(ROUTES)
    ],
    # A participant's link shows only their page; the facilitator keeps the menu.
    position=navigation_position(st.query_params, st.session_state.get(FACILITATOR_TOKENS, {})),
).run()
