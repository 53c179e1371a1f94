"""The app's pages, defined once: `app.py` builds its navigation and the links are made from it."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Route:
    """One page: its file (relative to the app's root), title, icon and URL path."""

    name: str
    file: str
    title: str
    icon: str
    url_path: str  # "" for the default page


ROUTES = (
    Route("start", "app_pages/start.py", "Start", ":material/add_circle:", ""),
    Route("elicit", "app_pages/elicit.py", "Elicit", ":material/edit_note:", "elicit"),
    Route("dashboard", "app_pages/dashboard.py", "Dashboard", ":material/monitoring:", "dashboard"),
)

PAGES = {r.name: r.file for r in ROUTES}
"""Page name -> file, for `st.switch_page` and `st.page_link`."""

URL_PATHS = {r.name: r.url_path for r in ROUTES}
"""Page name -> URL path, for the links the app shows."""


def is_participant(params: Mapping[str, str], facilitator_groups: Collection[str]) -> bool:
    """Whether the visitor came with a participant link (and is not this group's facilitator).

    A participant link names a group (``?group=``) and carries no facilitator token; a
    facilitator who opens it in the browser session that holds the group's token (kept when
    the group was made or its dashboard opened) is still the facilitator.
    """
    group = params.get("group")
    return bool(group) and not params.get("token") and group not in facilitator_groups


def navigation_position(
    params: Mapping[str, str], facilitator_groups: Collection[str]
) -> Literal["sidebar", "hidden"]:
    """Where the page menu goes: hidden for a participant, who sees only their own page.

    Every page stays routable (the dashboard still asks for its token); a participant is
    simply not shown the Start page or the dashboard.
    """
    return "hidden" if is_participant(params, facilitator_groups) else "sidebar"
