"""The app's pages, defined once: `app.py` builds its navigation and the links are made from it."""

from __future__ import annotations

from dataclasses import dataclass


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
