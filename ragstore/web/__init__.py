"""The web page: hand-written HTML, CSS and JavaScript modules served at /ui, talking to the /v1 API.

There is no build step: the files in static/ are served as they are.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from ragstore.web import docs

STATIC = Path(__file__).parent / "static"

# The page loads nothing from elsewhere (it works offline) and no inline script runs, so injected markup cannot.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class PageFiles(StaticFiles):
    """The static files, each sent with the page's content security policy."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Content-Security-Policy"] = POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response


def mount(app: FastAPI) -> None:
    """Serve the page at /ui/ (and /ui, redirected: the app does not redirect slashes by itself), and the API's
    documentation at /docs with local assets."""
    docs.mount(app)

    @app.get("/ui", include_in_schema=False)
    def page_root() -> RedirectResponse:
        return RedirectResponse("/ui/")

    app.mount("/ui", PageFiles(directory=STATIC, html=True), name="ui")
