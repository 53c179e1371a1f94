"""One figure on the dashboard: cached as PNG, its sentence under it, a failure named."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
from matplotlib.figure import Figure

from app_pages import common
from model import figures as figs

FIGURE_ALT = figs.DESCRIPTIONS  # one sentence per figure, shown under it and as its alt text


def figure(key: str, name: str, make: Callable[[], Figure], options: tuple = ()) -> None:
    """Show one figure (cached as PNG by the fit, the figure and its options).

    A figure that cannot be drawn says so instead of taking the page down.
    """
    try:
        png = common.figure_png(key, common.draws(), name, options, make)
    except ValueError as exc:  # e.g. a name matplotlib misreads
        st.warning(f"This figure cannot be drawn: {common.md_escape(str(exc))}")
        return
    st.image(png, width="stretch", alt=FIGURE_ALT[name])
    st.caption(FIGURE_ALT[name])
