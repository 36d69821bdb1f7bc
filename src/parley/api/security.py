"""Bearer-token authentication and CORS for browser apps."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parley.bootstrap import Parley
from parley.domain.access import Principal
from parley.domain.directory import is_loopback_http, origin_of


def parley_of(request: Request) -> Parley:
    app: Parley = request.app.state.parley
    return app


def header(scope: Scope, name: bytes) -> str | None:
    """A request header straight from the ASGI scope (`name` in lower case)."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def principal_of(request: Request) -> Principal:
    return await parley_of(request).auth.authenticate(
        bearer_token(request.headers.get("authorization")))


CurrentPrincipal = Annotated[Principal, Depends(principal_of)]
App = Annotated[Parley, Depends(parley_of)]


class OriginPolicy:
    """Which origins may call the API from a browser: those of OAuth clients' redirect URIs.

    Rebuilt from the store at most every `ttl_s`, and at once when this node changes clients.
    """

    def __init__(self, parley: Parley, ttl_s: float = 10.0) -> None:
        self._parley = parley
        self._ttl_ms = int(ttl_s * 1000)
        self._until = 0
        self._exact: set[str] = set()
        self._loopback = False

    def invalidate(self) -> None:
        self._until = 0

    async def allows(self, origin: str) -> bool:
        now = self._parley.clock.now_ms()
        if now >= self._until:
            clients = await self._parley.directory.browser_clients()
            self._exact = set()
            self._loopback = False
            for c in clients:
                self._exact.update(origin_of(u) for u in c.redirect_uris)
                self._loopback = self._loopback or c.allow_loopback_redirects
            self._until = now + self._ttl_ms
        if origin in self._exact:
            return True
        return self._loopback and is_loopback_http(origin)


class CorsMiddleware:
    """CORS for allowed origins; preflights are answered here, before routing."""

    ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"
    ALLOW_HEADERS = "Authorization, Content-Type, Accept, purecloud-sdk, X-Requested-With"

    def __init__(self, app: ASGIApp, policy: OriginPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = header(scope, b"origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        allowed = await self.policy.allows(origin)
        if scope["method"] == "OPTIONS":
            headers = [(b"vary", b"Origin")]
            if allowed:
                headers += [
                    *self._headers(origin),
                    (b"access-control-allow-methods", self.ALLOW_METHODS.encode()),
                    (b"access-control-allow-headers", self.ALLOW_HEADERS.encode()),
                    (b"access-control-max-age", b"600")]
            await send({"type": "http.response.start", "status": 204 if allowed else 403,
                        "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        if not allowed:
            await self.app(scope, receive, send)
            return
        extra = [*self._headers(origin), (b"vary", b"Origin")]

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        await self.app(scope, receive, send_with_cors)

    @staticmethod
    def _headers(origin: str) -> list[tuple[bytes, bytes]]:
        return [(b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-allow-credentials", b"true"),
                (b"access-control-expose-headers", b"ININ-Correlation-Id, Retry-After")]
