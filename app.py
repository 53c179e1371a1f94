"""Cruxboard in the browser: page configuration and navigation only (pages in app_pages/)."""

import streamlit as st

st.set_page_config(page_title="Cruxboard", page_icon=":material/hub:", layout="wide")
st.navigation(
    [
        st.Page("app_pages/start.py", title="Start", icon=":material/add_circle:", default=True),
        st.Page(
            "app_pages/elicit.py", title="Elicit", icon=":material/edit_note:", url_path="elicit"
        ),
        st.Page(
            "app_pages/dashboard.py",
            title="Dashboard",
            icon=":material/monitoring:",
            url_path="dashboard",
        ),
    ]
).run()
