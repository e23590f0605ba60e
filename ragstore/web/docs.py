"""The API's documentation page, /docs (Swagger UI), with its script and style served from here.

FastAPI's own page loads them from a CDN, so it was blank offline; they come from the fastapi-offline package (Swagger
UI 5, which renders OpenAPI 3.1), served at /docs-assets. ReDoc (/redoc) is not offered: its bundle still fetches
a logo from cdn.redoc.ly.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

ASSETS = "/docs-assets"


def assets_directory() -> Path:
    return Path(str(files("fastapi_offline") / "static"))


def mount(app: FastAPI) -> None:
    """/docs, for an app made with docs_url=None (and redoc_url=None)."""
    openapi_url = app.openapi_url or "/openapi.json"
    app.mount(ASSETS, StaticFiles(directory=assets_directory()), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} · API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url="/ui/icon.svg",
            swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from validator.swagger.io
        )
