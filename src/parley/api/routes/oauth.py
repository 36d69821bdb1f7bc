"""OAuth endpoints at the login base the SDKs use: /oauth/token, /oauth/authorize, /logout."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from parley.api.routing_class import genesys_router
from parley.api.security import App
from parley.domain.errors import (
    DomainError,
    Forbidden,
    InvalidInput,
    TooManyRequests,
    Unauthenticated,
)
from parley.services.auth import IssuedToken, OAuthError, parse_basic_auth
from parley.web import TEMPLATES

router = genesys_router(tags=["OAuth"])
templates = Jinja2Templates(directory=str(TEMPLATES))

AUTHORIZE_FIELDS = ("client_id", "redirect_uri", "response_type", "state", "code_challenge",
                    "code_challenge_method")


def _token_response(issued: IssuedToken) -> JSONResponse:
    body: dict[str, Any] = {"access_token": issued.access_token, "token_type": "bearer",
                            "expires_in": issued.expires_in}
    if issued.refresh_token:
        body["refresh_token"] = issued.refresh_token
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.post("/oauth/token", summary="Issue an access token (client credentials, "
             "authorization code with or without PKCE, refresh token)")
async def token(request: Request, parley: App) -> Response:
    content_type = request.headers.get("content-type", "")
    if content_type and not content_type.startswith(("application/x-www-form-urlencoded",
                                                     "multipart/form-data")):
        return _oauth_error(OAuthError("invalid_request", "the body must be "
                                       f"application/x-www-form-urlencoded (got '{content_type}')"))
    try:
        form = await request.form()
    except Exception:
        return _oauth_error(OAuthError("invalid_request", "the body must be "
                                       "application/x-www-form-urlencoded"))
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    basic_id, basic_secret = parse_basic_auth(request.headers.get("authorization"))
    client_id = basic_id or fields.get("client_id")
    secret = basic_secret if basic_id else fields.get("client_secret")
    grant = fields.get("grant_type")
    source = _source(request)
    try:
        if grant == "client_credentials":
            issued = await parley.auth.client_credentials(client_id, secret, source=source)
        elif grant == "authorization_code":
            issued = await parley.auth.exchange_code(
                client_id=client_id, secret=secret, code=fields.get("code"),
                redirect_uri=fields.get("redirect_uri"),
                code_verifier=fields.get("code_verifier"), source=source)
        elif grant == "refresh_token":
            issued = await parley.auth.refresh(client_id=client_id, secret=secret,
                                               refresh_token=fields.get("refresh_token"),
                                               source=source)
        else:
            raise OAuthError("unsupported_grant_type",
                             f"grant_type '{grant}' is not supported: use client_credentials, "
                             "authorization_code or refresh_token")
    except OAuthError as e:
        return _oauth_error(e)
    return _token_response(issued)


def _source(request: Request) -> str | None:
    """The address the request came from, for throttling failed sign-ins."""
    return request.client.host if request.client else None


def _oauth_error(e: OAuthError) -> JSONResponse:
    headers = {"Cache-Control": "no-store"}
    if e.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="parley"'
    if e.retry_after_s is not None:
        headers["Retry-After"] = str(e.retry_after_s)
    return JSONResponse({"error": e.error, "error_description": e.description},
                        status_code=e.status, headers=headers)


def _page(request: Request, *, status: int = 200, error: str | None = None,
          form: bool = True, client_name: str | None = None, hidden: dict[str, str] | None = None,
          username: str | None = None, retry_after_s: int | None = None) -> HTMLResponse:
    headers = {"Cache-Control": "no-store", "X-Frame-Options": "DENY"}
    if retry_after_s is not None:
        headers["Retry-After"] = str(retry_after_s)
    return templates.TemplateResponse(request, "login.html", {
        "error": error, "form": form, "client_name": client_name, "hidden": hidden or {},
        "action": "/oauth/authorize", "username": username}, status_code=status,
        headers=headers)


@router.get("/oauth/authorize", response_class=HTMLResponse,
            summary="The login page (implicit grant and authorization code)")
async def authorize_page(request: Request, parley: App) -> HTMLResponse:
    params = {k: request.query_params[k] for k in AUTHORIZE_FIELDS if k in request.query_params}
    try:
        client = await parley.auth.authorization_client(
            params.get("client_id"), params.get("redirect_uri"), params.get("response_type"))
    except DomainError as e:
        return _page(request, status=400, error=e.message, form=False)
    return _page(request, client_name=client.name, hidden=params,
                 username=request.query_params.get("login_hint"))


@router.post("/oauth/authorize", response_class=HTMLResponse,
             summary="Submit the login form; redirects back to the app")
async def authorize_submit(request: Request, parley: App) -> Response:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    params = {k: fields[k] for k in AUTHORIZE_FIELDS if k in fields}
    try:
        client = await parley.auth.authorization_client(
            params.get("client_id"), params.get("redirect_uri"), params.get("response_type"))
    except DomainError as e:
        return _page(request, status=400, error=e.message, form=False)
    username = fields.get("username", "")
    try:
        if not username or not fields.get("password"):
            raise InvalidInput("enter your email and password")
        user = await parley.auth.login(username, fields.get("password", ""),
                                       source=_source(request))
        target = await parley.auth.authorize(
            client=client, user=user, redirect_uri=params["redirect_uri"],
            response_type=params["response_type"], state=params.get("state"),
            code_challenge=params.get("code_challenge"),
            code_challenge_method=params.get("code_challenge_method"))
    except DomainError as e:
        status = {Unauthenticated: 401, Forbidden: 403, TooManyRequests: 429}.get(type(e), 400)
        return _page(request, status=status, error=e.message, client_name=client.name,
                     hidden=params, username=username,
                     retry_after_s=e.retry_after_s if isinstance(e, TooManyRequests) else None)
    return RedirectResponse(target, status_code=302, headers={"Cache-Control": "no-store"})


@router.get("/logout", response_class=HTMLResponse, summary="Log out (the JS SDK's logout)")
async def logout(request: Request, parley: App) -> Response:
    redirect_uri = request.query_params.get("redirect_uri")
    client_id = request.query_params.get("client_id")
    if redirect_uri and client_id:
        try:
            await parley.auth.authorization_client(client_id, redirect_uri, "token")
        except DomainError:
            pass
        else:
            return RedirectResponse(redirect_uri, status_code=302)
    return _page(request, error="You are signed out. Tokens issued to apps stay valid until "
                 "they expire or the app revokes them.", form=False)
