"""A browser that answered before: its come-back token in a cookie, and the offer to go on."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app_pages import common, formats
from store import Group

COOKIE_PREFIX = "cruxboard_"
COOKIE_DAYS = 180
SOMEONE_ELSE = "elicit_someone_else"  # groups where this session chose to answer as someone new
COOKIE_SET = "elicit_cookie_set"  # (group id, token) this session has put in a cookie
CONTINUE_KEY = "elicit_continue"
SOMEONE_ELSE_KEY = "elicit_answer_as_someone_else"


def cookie_name(group_id: str) -> str:
    """The cookie that keeps this browser's come-back token for a group."""
    return f"{COOKIE_PREFIX}{group_id}"


def _link_safe(text: str) -> bool:
    # Ids and tokens are URL-safe base64: nothing that could end a string or a script.
    return bool(text) and all(c.isascii() and (c.isalnum() or c in "-_") for c in text)


def remember_in_browser(group_id: str, token: str) -> None:
    """Keep the member's come-back token in a cookie, so a new tab of this browser knows them.

    Streamlit sets no cookie from Python, so one line of JavaScript does: the cookie is
    scoped to the app's path, SameSite=Lax, Secure over https, kept `COOKIE_DAYS` days. Set
    from a script it cannot be HttpOnly, so this origin's scripts can read it, as they can
    read the come-back link in the address bar. The store never depends on it: a token read
    back is verified like any come-back link.
    """
    if st.session_state.get(COOKIE_SET) == (group_id, token):
        return
    if st.context.cookies.get(cookie_name(group_id)) == token or not (
        _link_safe(group_id) and _link_safe(token)
    ):
        return
    st.html(
        f"""<script>(() => {{
  const path = location.pathname.replace(/\\/elicit\\/?$/, "") || "/";
  const secure = location.protocol === "https:" ? "; secure" : "";
  document.cookie = "{cookie_name(group_id)}={token}; path=" + path +
    "; max-age={COOKIE_DAYS * 24 * 3600}; samesite=lax" + secure;
}})();</script>""",
        unsafe_allow_javascript=True,
    )
    st.session_state[COOKIE_SET] = (group_id, token)


def _continue_as(group_id: str, token: str) -> None:
    # Checked again: a callback is a request too.
    if common.get_store().participant_for_token(group_id, token) is not None:
        common.remember_token(common.EDIT_TOKENS, group_id, token)


def _answer_as_someone_else(group_id: str) -> None:
    st.session_state[SOMEONE_ELSE] = {*st.session_state.get(SOMEONE_ELSE, ()), group_id}


def offer_to_continue(store: Any, group: Group) -> bool:
    """Offer a browser that answered in this group before its own answers.

    Only a token the store verifies names anyone; without one nothing is shown. Returns
    whether the offer is on the page (then the form is not, until the visitor chooses).
    """
    if group.id in st.session_state.get(SOMEONE_ELSE, ()):
        return False
    token = st.context.cookies.get(cookie_name(group.id))
    participant = store.participant_for_token(group.id, token) if token else None
    if participant is None:
        return False
    if participant.id in store.removals(group.id):
        st.info(
            "This browser answered in this group before, but the facilitator has since set "
            "those answers aside (removed, or merged into another member's), so they no "
            "longer count. If you answered with another come-back link, open that one; "
            "otherwise answer below."
        )
        return False
    st.text(group.name)
    with st.container(key="elicit_welcome_back"):
        st.markdown(
            "You have answered in this group as "
            f"**{formats.md_escape(participant.display_name)}**: continue with your answers."
        )
        left, right = st.columns(2)
        left.button(
            "Continue with your answers",
            key=CONTINUE_KEY,
            type="primary",
            on_click=_continue_as,
            args=(group.id, token),
        )
        right.button(
            "Answer as someone else",
            key=SOMEONE_ELSE_KEY,
            on_click=_answer_as_someone_else,
            args=(group.id,),
        )
        st.caption(
            "This browser keeps your come-back link for this group. Someone else on this "
            "computer answers as a new member with “Answer as someone else”."
        )
    return True
