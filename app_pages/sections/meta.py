"""The dashboard's meta-predictions: actual and predicted support, the surprise, the figure."""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from app_pages import common, formats
from model.figures import meta_predictions as meta_figure
from model.meta import CAVEAT, MetaPredictions
from priors import Defaults

FIGURE_ALT = "Each scenario's mean credence beside the mean the members predicted, and the gap"


def _points(x: float) -> str:
    return f"{100 * x:+.1f}"


def render(result_meta: MetaPredictions, *, key: str, defaults: Defaults) -> None:
    """Show the group's meta-predictions (`Result.meta_predictions`).

    With too few answers only their count and the reason show, nothing that could reveal
    one member's answer.

    Parameters
    ----------
    result_meta : MetaPredictions
    key : str
        The fit's data key (`RoundData.key`): caches the figure.
    defaults : Defaults
        For the scenarios' names.
    """
    meta = result_meta
    st.header("What will the group say?")
    with st.container(key="db_meta"):
        if not meta.known:
            st.info(
                f"{meta.answered} member(s) have said what they expect the group to say: "
                + formats.md_escape(str(meta.reason))
                + "."
            )
            return
        names = {s.id: s.name for s in defaults.scenarios}
        ids = list(meta.actual_mean)
        st.dataframe(
            pd.DataFrame(
                {
                    "actual mean": [formats.show_percent(meta.actual_mean[s]) for s in ids],
                    "predicted mean": [formats.show_percent(meta.predicted_mean[s]) for s in ids],
                    "surprise, points [94 % interval]": [
                        f"{_points(meta.surprise[s])} [{_points(meta.surprise_interval[s][0])}"
                        f" – {_points(meta.surprise_interval[s][1])}]"
                        for s in ids
                    ],
                },
                index=[f"{s} · {names.get(s, s)}" for s in ids],
            ),
            key="db_meta_table",
        )
        popular = meta.surprisingly_popular
        if popular is not None:
            st.markdown(
                f"**{popular} is surprisingly popular**: the {meta.answered} members who "
                f"answered both questions give it {formats.show_percent(meta.actual_mean[popular])}"
                f" on average, but predicted the group would give it "
                f"{formats.show_percent(meta.predicted_mean[popular])}. It comes out on top in "
                f"{formats.show_percent(meta.surprisingly_popular_share)} of resamples."
            )
        else:
            st.markdown(
                "No single scenario is surprisingly popular: "
                + formats.md_escape(str(meta.tie_reason))
                + "."
            )
        st.markdown(
            f"Mean false-consensus gap: {_points(meta.mean_gap)} points (positive: the others "
            "are further from a member than the member expects)."
        )
        st.caption(f"{CAVEAT} Intervals: {meta.uncertainty}.")
        try:
            png = common.shown_figure_png(
                key, "meta_predictions", (), partial(meta_figure, meta, defaults)
            )
        except ValueError as exc:  # a figure matplotlib cannot draw; the table above stands
            st.warning(f"This figure cannot be drawn: {formats.md_escape(str(exc))}")
            return
        st.image(png, width="stretch", alt=FIGURE_ALT)
