"""The dashboard's summary at the top, what would settle it, and the camps."""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from app_pages import formats
from app_pages.sections.figure import figure as _figure
from model import Analysis
from model import figures as figs
from model.headline import headline as headline_sentences
from model.results import Result
from priors import Defaults


def headline(result: Result, defaults: Defaults) -> None:
    """The argument in a few sentences, at the top of the dashboard."""
    with st.container(key="db_headline", border=True):
        for sentence in headline_sentences(result, defaults):
            st.markdown("- " + formats.md_escape(sentence))


def settle(key: str, analysis: Analysis) -> None:
    """What would settle it: the ranked observations and their figure."""
    result = analysis.result
    texts = figs.item_texts(result)
    st.header("What would settle it")
    settlers = result.what_would_settle_it or ()
    if not settlers:
        st.info("Nothing to rank yet: the group model is not fitted.")
        return
    st.caption(
        "For each proposed question, and one more observation of each evidence item: the "
        "expected fall in the members' mean pairwise disagreement (Jensen–Shannon divergence "
        "between their posteriors, bits) once its outcome is known, each outcome weighted by "
        "the group's predictive probability. Negative: members read it oppositely, so it "
        "would drive them apart."
    )
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "observation": texts.get(s.item, s.item),
                    "kind": s.kind,
                    "expected fall (bits) [94 % HDI]": "–"
                    if s.vod is None
                    else f"{s.vod.mean:+.3f} [{s.vod.hdi[0]:+.3f}, {s.vod.hdi[1]:+.3f}]",
                    "P(yes)": formats.show_percent(s.p_yes),
                    "polarising": "yes" if s.polarising else "",
                    "double crux of": ", ".join(f"{p.a} & {p.b}" for p in s.pairs),
                }
                for s in settlers
            ]
        ),
        hide_index=True,
        key="db_settle_table",
    )
    _figure(key, "what_would_settle_it", partial(figs.FIGURES["what_would_settle_it"], analysis))


def camps(key: str, analysis: Analysis) -> None:
    """The worldview camps: what sets each apart, the common ground, the map."""
    camps = analysis.result.camps
    st.header("Worldview camps")
    st.caption(
        "Members grouped by their whole answer (credences, factors and readings), with soft "
        f"membership; the number of camps is chosen by the data. {formats.md_escape(camps.method)}"
    )
    if camps.k > 1:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "camp": c.id,
                        "members": c.size,
                        "what sets it apart": c.label,
                    }
                    for c in camps.camps
                ]
            ),
            hide_index=True,
            key="db_camps_table",
        )
    if camps.common_ground:
        st.markdown(
            "**Common ground** (every camp near the group's mean): "
            + formats.md_escape(
                ", ".join(
                    f"{g.quantity} {formats.show_percent(g.mean)}" for g in camps.common_ground
                )
            )
        )
    _figure(key, "camps", partial(figs.FIGURES["camps"], analysis))
