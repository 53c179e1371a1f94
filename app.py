"""Cruxboard in the browser: page configuration and navigation (pages in app_pages/).

Streamlit runs this file as the page script (as `__main__`). `streamlit run app.py` also
imports it as a module, finds `app` and serves the pages through it: its start hook begins
the group model's warm-up as the server starts, before anyone opens a page, and
`/api/ready` answers 200 once it is done (`scripts/run.sh` waits for that).
"""

import streamlit as st

if __name__ == "__main__":  # a page view
    import gc

    from app_pages.common import FACILITATOR_TOKENS
    from app_pages.routes import ROUTES, navigation_position

    st.set_page_config(page_title="Cruxboard", page_icon=":material/hub:", layout="wide")
    pages = st.navigation(
        [
            st.Page(r.file, title=r.title, icon=r.icon, url_path=r.url_path or None, default=i == 0)
            for i, r in enumerate(ROUTES)
        ],
        # A participant's link shows only their page; the facilitator keeps the menu.
        position=navigation_position(st.query_params, st.session_state.get(FACILITATOR_TOKENS, {})),
    )
    try:
        pages.run()
    finally:
        # What Streamlit's runner.postScriptGC did after every run, here after a whole page's
        # run only: a Live dashboard's once-a-second check (a fragment) skips it (the option is
        # off in .streamlit/config.toml).
        gc.collect()
else:  # the server, as it starts
    import importlib
    import sys
    import threading
    from contextlib import asynccontextmanager

    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    def _warm_up() -> None:
        importlib.import_module("app_pages.common").warm_up()

    @asynccontextmanager
    async def _start_warm_up(_app: st.App):
        # In a thread, so the server answers at once (importing the model code takes seconds).
        threading.Thread(target=_warm_up, name="cruxboard-start", daemon=True).start()
        yield

    async def _ready(_request: Request) -> PlainTextResponse:
        common = sys.modules.get("app_pages.common")  # never waits for an import under way
        status = getattr(common, "warm_up_status", lambda: "starting")()
        return PlainTextResponse(status, status_code=200 if status == "ready" else 503)

    app = st.App(__file__, lifespan=_start_warm_up, routes=[Route("/api/ready", _ready)])
