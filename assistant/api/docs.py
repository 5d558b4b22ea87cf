"""/docs served offline: Swagger UI from the `swagger-ui-bundle` package, not from a CDN.

FastAPI's own /docs page loads its script, stylesheet and icon from
the internet, so it is blank on a network without one and tells a third party each time it is opened. Here the
same page (fastapi.openapi.docs) points at files under /docs/assets, served from the package. /redoc, which has no
offline bundle, is not served.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

ASSETS = "/docs/assets"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"


def add_offline_docs(app: FastAPI, *, path: str = "/docs") -> None:
    """Serve Swagger UI at `path` (the app must be made with docs_url=None and redoc_url=None)."""
    app.mount(ASSETS, StaticFiles(directory=swagger_ui_path), name="swagger-assets")

    async def docs(_: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=OAUTH2_REDIRECT,
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},  # else Swagger UI fetches a badge from its validator
        )

    async def oauth2_redirect(_: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    app.add_route(path, docs, include_in_schema=False)
    app.add_route(OAUTH2_REDIRECT, oauth2_redirect, include_in_schema=False)
