"""The ASGI application: routers, error bodies, CORS, and the OpenAPI document."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp
from swagger_ui_bundle import swagger_ui_path

from parley import __version__
from parley.api import errors
from parley.api.hot_paths import HotPaths
from parley.api.models.common import ErrorBody
from parley.api.routes import (
    agents,
    carriers,
    conversations,
    directory,
    directory_admin,
    flows,
    notifications,
    oauth,
    opt_outs,
    pages,
    queue_observations,
    routing,
    sim,
    webhooks,
)
from parley.api.security import CorsMiddleware, OriginPolicy
from parley.api.wire import HOT_SCHEMAS
from parley.bootstrap import Parley
from parley.web import STATIC

OPENAPI_URL = "/api/v2/docs/openapi.json"

DESCRIPTION = """Parley's Platform API: a Genesys Cloud API v2 compatible subset for ACD SMS
messaging. Point the official Genesys SDKs at this server (Python: `ApiClient(host=...)`;
JavaScript: `setGateway({host, protocol, port})`). Every error is a Genesys ErrorBody."""


def create_app(parley: Parley, *, manage_lifecycle: bool = True) -> ASGIApp:
    """Parley's ASGI app: CORS, then the two send endpoints, then FastAPI for the rest.

    The send endpoints sit outside FastAPI so they skip its per-request machinery
    (docs/performance.md); FastAPI still documents them.
    """
    app = _fastapi_app(parley, manage_lifecycle)
    return CorsMiddleware(HotPaths(app, parley), policy=app.state.origin_policy)


def _fastapi_app(parley: Parley, manage_lifecycle: bool) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if manage_lifecycle:
            await parley.start()
        try:
            yield
        finally:
            if manage_lifecycle:
                await parley.stop()

    app = FastAPI(title="Parley", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=OPENAPI_URL)
    app.state.parley = parley
    errors.install(app)
    app.include_router(oauth.router)
    app.include_router(directory.router)
    app.include_router(routing.router)
    app.include_router(conversations.router)
    app.include_router(notifications.router)
    app.include_router(agents.router)
    app.include_router(flows.router)
    app.include_router(opt_outs.router)
    app.include_router(carriers.router)
    app.include_router(webhooks.router)
    app.include_router(queue_observations.router)
    app.include_router(directory_admin.router)
    app.include_router(pages.router)  # the browser pages under /app/
    if parley.sim is not None:
        app.include_router(sim.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # The docs page loads Swagger UI from the installed package, never from a CDN.
    app.mount("/docs/assets", StaticFiles(directory=swagger_ui_path), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=OPENAPI_URL, title="Parley API",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon-32x32.png")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/healthz", tags=["Operations"], summary="Liveness and sender backlog")
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok", "version": __version__,
                             "outboxBacklog": parley.sender.backlog})

    app.state.origin_policy = OriginPolicy(parley)
    _with_hot_schemas(app)
    return app


def _errors_as_genesys(doc: dict[str, Any]) -> None:
    """FastAPI documents a 422 on every validated route; Parley answers 400 ErrorBody."""
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(body.pop("$defs", {}))
    schemas["ErrorBody"] = body
    ref = {"$ref": "#/components/schemas/ErrorBody"}
    error = {"description": "Bad request: a Genesys ErrorBody naming what was wrong",
             "content": {"application/json": {"schema": ref}}}
    for operations in doc.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            if responses.pop("422", None) is not None:
                responses.setdefault("400", error)
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)


def _with_hot_schemas(app: FastAPI) -> None:
    """Add the msgspec structs of the hot endpoints to the generated OpenAPI document."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = build()
        _, components = msgspec.json.schema_components(
            HOT_SCHEMAS, ref_template="#/components/schemas/{name}")
        _errors_as_genesys(doc)
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        for name, schema in components.items():
            schemas.setdefault(name, schema)  # keep the richer Pydantic EntityRef
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]


__all__ = ["create_app"]
