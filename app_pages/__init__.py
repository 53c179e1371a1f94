"""The Streamlit pages: thin, widgets -> plain values -> model/store/priors calls -> render.

May import Streamlit, model/, store/ and priors/; nothing imports app_pages. Caching lives
here (never in model/). `exports` holds the plain (Streamlit-free) export helpers.
"""
