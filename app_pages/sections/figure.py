"""One figure on the dashboard: cached as PNG, its sentence under it, a failure named."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
from matplotlib.figure import Figure

from app_pages import common, formats
from model import figures as figs
from priors import Defaults

FIGURE_ALT = figs.DESCRIPTIONS  # one sentence per figure, shown under it and as its alt text


def report_options(defaults: Defaults) -> dict[str, tuple]:
    """The options under which the page shows a figure as the report draws it.

    The report draws ``model.figures.FIGURES[name](analysis)``: the trajectories at the
    priors' "what we need", the crux of D against A. A figure not named here has no
    options (``()``). The report embeds the page's image only when it was shown so.
    """
    factor = float(defaults.need.factor_per_decade)
    return {
        "trajectories": ("linear", factor),
        "trajectories_log": ("log", factor),
        "crux": ("D", "A"),
    }


def figure(key: str, name: str, make: Callable[[], Figure], options: tuple = ()) -> None:
    """Show one figure (cached as PNG by the fit, the figure and its options).

    A figure that cannot be drawn says so instead of taking the page down.
    """
    try:
        png = common.shown_figure_png(key, name, options, make)
    except ValueError as exc:  # e.g. a name matplotlib misreads
        st.warning(f"This figure cannot be drawn: {formats.md_escape(str(exc))}")
        return
    st.image(png, width="stretch", alt=FIGURE_ALT[name])
    st.caption(FIGURE_ALT[name])
