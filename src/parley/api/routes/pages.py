"""The browser pages `parley serve` hosts: agent desktop, admin console, supervisor view,
handset simulator, and the OAuth callback they share.

This module only serves files and one small piece of configuration; the pages do everything
else through the public API, exactly as any other browser app would (so they prove the API
is enough). Pages are plain HTML and hand-written ES modules under `web/static/`: no build
step, and nothing is loaded from another origin, which the Content-Security-Policy enforces.

It is a route of the API layer like the others (it answers with the same Genesys error
bodies and reaches the server through the same `App` dependency); `web/` holds only the
files it serves.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

from parley.api.errors import error_response
from parley.api.security import App
from parley.domain.directory import OAuthClient
from parley.services.web_login import browser_client_for
from parley.web import STATIC

router = APIRouter(include_in_schema=False)

PAGES = {
    "": "app.html",
    "agent": "agent.html",
    "admin": "admin.html",
    "supervisor": "supervisor.html",
    "handset": "handset.html",
    "callback": "callback.html",
}
CALLBACK_PATH = "/app/callback"


def origin_of(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def security_headers(request: Request) -> dict[str, str]:
    """Same-origin everything: scripts, styles, API calls and the notification websocket."""
    host = request.url.netloc
    csp = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
           f"connect-src 'self' ws://{host} wss://{host}; frame-ancestors 'none'; "
           "base-uri 'none'; form-action 'self'")
    return {"Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"}


@router.get("/app")
async def app_root() -> RedirectResponse:
    return RedirectResponse("/app/", status_code=307)


@router.get("/app/config.json")
async def web_config(request: Request, parley: App) -> Response:
    """The OAuth client the pages sign in with, and where the login comes back to."""
    callback = origin_of(request) + CALLBACK_PATH
    wanted = request.query_params.get("client_id")
    client: OAuthClient | None
    if wanted:
        # Errors (unknown client, callback not registered) are Genesys 400 bodies.
        client = await parley.auth.authorization_client(wanted, callback, "code")
    else:
        client = await browser_client_for(parley.uow, callback)
    if client is None:
        return error_response(
            404, "No OAuth client may sign in to these pages: create one for the browser "
            f"(grant authorization_code and implicit, redirect URI {callback}), e.g. "
            "`parley clients add --org ORG_ID --name Pages --grant implicit --grant "
            f"authorization_code --redirect-uri {callback}`, or run `parley init --demo`",
            code="web.client.missing")
    return JSONResponse({"clientId": client.id, "clientName": client.name,
                         "redirectUri": callback},
                        headers={"Cache-Control": "no-store"})


@router.get("/app/{page}")
async def page(page: str, request: Request) -> Response:
    name = PAGES.get(page.rstrip("/"))
    if name is None:
        return error_response(404, f"there is no page '/app/{page}'; try /app/",
                              code="not.found")
    return FileResponse(STATIC / name, media_type="text/html",
                        headers=security_headers(request))


@router.get("/app/")
async def launcher(request: Request) -> Response:
    return FileResponse(STATIC / PAGES[""], media_type="text/html",
                        headers=security_headers(request))
