"""Flows' HTTP data actions (callData): requests an organisation's flow makes from inside the
deployment, so each may reach only what the host rules allow (`domain/flows/data_hosts.py`).

The rules apply where the connection is made, not to the URL's text: the host is resolved
here (getaddrinfo), refused if ANY of its addresses is not public (a name with one private
address among public ones may be answered with it next time), and the socket is opened to an
address that was checked, never to the name again, so a DNS answer that changes between the
check and the connect (rebinding) cannot slip through. The request keeps the name: the Host
header, TLS SNI and the certificate check are the name's, and pooled connections are keyed by
it. httpcore's network backend is that seam; httpx builds and parses the request around it.

Redirects are not followed (a 3xx is the answer: the flow's failure path takes it). The
response is read up to 64 KiB, and the whole call, resolving included, is bounded by the
action's timeout (at most 60 s). A failure is logged with the host and the reason, never the
path or query, which often carry a customer's number or an API key.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from ipaddress import ip_address

import httpcore
import httpx

from parley.domain.flows import CallData, DataFailure, DataHostRules, DataResult
from parley.domain.flows.data_hosts import Address

MAX_RESPONSE_BYTES = 64 * 1024
MAX_TIMEOUT_S = 60.0
log = logging.getLogger(__name__)

Resolver = Callable[[str, int], Awaitable[list[Address]]]


class HostRefused(Exception):
    """A data action's host is, or resolves to, an address the rules refuse."""

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"{host}: {reason}")
        self.host = host
        self.reason = reason


async def resolve(host: str, port: int) -> list[Address]:
    """Every address `host` resolves to (the system resolver, off the event loop)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ip_address(info[4][0]) for info in infos))


class CheckedNetwork(httpcore.AsyncNetworkBackend):
    """Opens connections only to addresses the rules allow, and to exactly those checked."""

    def __init__(self, rules: DataHostRules, resolver: Resolver = resolve,
                 inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._rules = rules
        self._resolve = resolver
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int,
                          timeout: float | None = None,  # noqa: ASYNC109 (httpcore's)
                          local_address: str | None = None,
                          socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
                          ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await self._resolve(host, port)
        except (OSError, ValueError) as e:
            raise httpcore.ConnectError(f"cannot resolve {host}: {e}") from e
        if not addresses:
            raise httpcore.ConnectError(f"{host} resolves to no address")
        if not self._rules.allows_name(host):
            for address in addresses:
                refused = self._rules.refusal(address)
                if refused is not None:
                    raise HostRefused(host, refused)
        failed: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(str(address), port, timeout,
                                                     local_address, socket_options)
            except httpcore.ConnectError as e:
                failed = e
        assert failed is not None
        raise failed

    async def connect_unix_socket(self, path: str,
                                  timeout: float | None = None,  # noqa: ASYNC109
                                  socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
                                  ) -> httpcore.AsyncNetworkStream:
        raise HostRefused(path, "a data action may not use a Unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _Body(httpx.AsyncByteStream):
    def __init__(self, stream: AsyncIterable[bytes]) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            await close()


class CheckedTransport(httpx.AsyncBaseTransport):
    """httpx's request and response over an httpcore pool on the checked network."""

    def __init__(self, network: CheckedNetwork, ssl_context: ssl.SSLContext | None) -> None:
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context, max_connections=50, max_keepalive_connections=10,
            keepalive_expiry=5.0, network_backend=network)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        answer = await self._pool.handle_async_request(httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=request.url.raw_scheme, host=request.url.raw_host,
                             port=request.url.port, target=request.url.raw_path),
            headers=request.headers.raw, content=request.stream,
            extensions=request.extensions))
        assert isinstance(answer.stream, AsyncIterable)
        return httpx.Response(answer.status, headers=answer.headers,
                              stream=_Body(answer.stream), extensions=answer.extensions)

    async def aclose(self) -> None:
        await self._pool.aclose()


_NOT_SENT = frozenset({"host", "content-length", "transfer-encoding", "connection",
                       "accept-encoding"})
"""Set from the URL and the body, not by a flow: a flow's Host header must not point a
checked connection at another virtual host."""


class HttpDataActions:
    def __init__(self, rules: DataHostRules, *, resolver: Resolver = resolve,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        transport = CheckedTransport(CheckedNetwork(rules, resolver), ssl_context)
        self._client = httpx.AsyncClient(transport=transport, follow_redirects=False,
                                         trust_env=False)

    async def call(self, request: CallData) -> DataResult | DataFailure:
        try:
            url = httpx.URL(request.url)
        except httpx.InvalidURL:
            return self._failed("(unreadable URL)", "the URL is not valid")
        if url.scheme not in ("http", "https") or not url.host:
            return self._failed(url.host or "(no host)", "only http and https URLs are called")
        where = f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}"  # no user info
        timeout = min(max(float(request.timeout_seconds), 0.1), MAX_TIMEOUT_S)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _NOT_SENT}
        headers["Accept-Encoding"] = "identity"  # the size cap counts what arrives
        try:
            async with asyncio.timeout(timeout):
                return await self._send(request, url, headers, where, seconds=timeout)
        except HostRefused as e:
            return self._failed(where, f"refused: {e.reason}", refused=True)
        except (TimeoutError, httpx.TimeoutException, httpcore.TimeoutException):
            return self._failed(where, f"no answer within {timeout:g} s")
        except (httpx.HTTPError, httpcore.NetworkError, httpcore.ProtocolError,
                httpcore.UnsupportedProtocol, OSError) as e:
            return self._failed(where, f"{request.method} failed: {e}"[:300])

    async def _send(self, request: CallData, url: httpx.URL, headers: dict[str, str],
                    where: str, *, seconds: float) -> DataResult | DataFailure:
        content = None if request.body is None else request.body.encode()
        async with self._client.stream(request.method, url, headers=headers, content=content,
                                       timeout=seconds) as response:
            raw = bytearray()
            async for chunk in response.aiter_raw():
                raw += chunk
                if len(raw) > MAX_RESPONSE_BYTES:
                    return self._failed(where, f"the response is larger than "
                                        f"{MAX_RESPONSE_BYTES // 1024} KiB")
        try:
            body: object = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        return DataResult(status=response.status_code, body=body)

    @staticmethod
    def _failed(where: str, reason: str, *, refused: bool = False) -> DataFailure:
        """Log and return a failure naming the host only: paths and queries carry data."""
        if refused:
            log.warning("data action to %s %s", where, reason)
        else:
            log.info("data action to %s failed: %s", where, reason)
        return DataFailure(f"{where}: {reason}")

    async def close(self) -> None:
        await self._client.aclose()
