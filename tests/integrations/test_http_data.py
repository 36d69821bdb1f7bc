"""The HTTP data action adapter against a real server on a loopback socket.

Loopback is exactly what the adapter refuses by default, so the tests that must reach the
server opt in the way a deployment does: an allow-list (`DataHostRules.parse`, what
PARLEY_DATA_ACTION_ALLOW holds). Names are resolved by a resolver the test hands in where it
needs a name that the machine's DNS cannot know; everything else goes through getaddrinfo.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from ipaddress import ip_address

import pytest
import trustme

from parley.bootstrap import Parley
from parley.domain.flows import CallData, DataFailure, DataHostRules, DataResult
from parley.domain.flows.data_hosts import Address
from parley.integrations.http_data import MAX_RESPONSE_BYTES, HttpDataActions, resolve

LOOPBACK = DataHostRules.parse("127.0.0.1")
Answer = Callable[["Seen"], Awaitable[bytes]]


@dataclass
class Seen:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Server:
    port: int
    seen: list[Seen] = field(default_factory=list)
    answer: Answer | None = None


def response(status: int, body: bytes = b"", headers: str = "") -> bytes:
    return (f"HTTP/1.1 {status} X\r\ncontent-length: {len(body)}\r\n{headers}\r\n").encode() \
        + body


async def json_answer(seen: Seen) -> bytes:
    return response(200, json.dumps({"tier": "gold", "path": seen.target}).encode(),
                    "content-type: application/json\r\n")


@contextlib.asynccontextmanager
async def http_server(tls: ssl.SSLContext | None = None) -> AsyncIterator[Server]:
    state = Server(port=0)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                line, *rest = head.decode().split("\r\n")
                method, target, _ = line.split(" ", 2)
                headers = {k.lower(): v.strip() for k, _, v in
                           (h.partition(":") for h in rest if h)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                seen = Seen(method, target, headers, body)
                state.seen.append(seen)
                writer.write(await (state.answer or json_answer)(seen))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
    state.port = server.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        server.close()


def get(url: str, *, timeout: int = 5, headers: dict[str, str] | None = None,
        method: str = "GET", body: str | None = None) -> CallData:
    return CallData(method, url, headers or {}, body, timeout)


def names(table: dict[str, list[str]], calls: list[str]
          ) -> Callable[[str, int], Awaitable[list[Address]]]:
    """A resolver that knows some made-up names (and resolves the rest for real)."""
    async def lookup(host: str, port: int) -> list[Address]:
        calls.append(host)
        if host in table:
            return [ip_address(a) for a in table[host]]
        return await resolve(host, port)
    return lookup


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    async with http_server() as s:
        yield s


# -- refused ------------------------------------------------------------------------------


LOOPBACK_RULE = "127.0.0.1 is a loopback address"


@pytest.mark.parametrize(("host", "rule"), [
    ("127.0.0.1", LOOPBACK_RULE), ("2130706433", LOOPBACK_RULE),
    ("localhost", "is a loopback address"),  # 127.0.0.1 or ::1, as /etc/hosts has it
    ("0x7f.1", LOOPBACK_RULE), ("127.1", LOOPBACK_RULE),
    ("[::ffff:127.0.0.1]", "::ffff:7f00:1 carries 127.0.0.1, a loopback address"),
])
async def test_loopback_is_refused_in_any_spelling_and_nothing_is_sent(
        server: Server, host: str, rule: str, caplog: pytest.LogCaptureFixture) -> None:
    actions = HttpDataActions(DataHostRules())
    try:
        with caplog.at_level(logging.INFO, "parley.integrations.http_data"):
            got = await actions.call(get(f"http://{host}:{server.port}/c?phone=%2B13125550100"
                                         "&key=sekrit"))
    finally:
        await actions.close()

    assert isinstance(got, DataFailure)
    assert got.reason.startswith(f"http://{host}:{server.port}: refused: ")
    assert got.reason.endswith(rule)
    assert server.seen == []
    [line] = [r.getMessage() for r in caplog.records if r.name == "parley.integrations.http_data"]
    assert line == f"data action to {got.reason.replace(': refused', ' refused', 1)}"
    assert "sekrit" not in got.reason and "13125550100" not in got.reason


async def test_a_name_is_refused_if_any_of_its_addresses_is_not_public(server: Server) -> None:
    calls: list[str] = []
    actions = HttpDataActions(LOOPBACK, resolver=names(
        {"crm.test": ["127.0.0.1", "10.0.0.7"]}, calls))
    try:
        got = await actions.call(get(f"http://crm.test:{server.port}/c"))
    finally:
        await actions.close()
    assert got == DataFailure(f"http://crm.test:{server.port}: refused: 10.0.0.7 is a private "
                              "address")
    assert server.seen == []


async def test_a_redirect_is_the_answer_not_followed(server: Server) -> None:
    async def redirect(seen: Seen) -> bytes:
        return response(302, headers=f"location: http://127.0.0.1:{server.port}/inner\r\n")
    server.answer = redirect
    actions = HttpDataActions(LOOPBACK)
    try:
        got = await actions.call(get(f"http://127.0.0.1:{server.port}/outer"))
    finally:
        await actions.close()
    assert got == DataResult(status=302, body=None)
    assert [s.target for s in server.seen] == ["/outer"]


async def test_a_response_past_the_cap_is_a_failure(server: Server) -> None:
    async def big(seen: Seen) -> bytes:
        return response(200, b"x" * (MAX_RESPONSE_BYTES + 1))
    server.answer = big
    actions = HttpDataActions(LOOPBACK)
    try:
        got = await actions.call(get(f"http://127.0.0.1:{server.port}/"))
        server.answer = None
        after = await actions.call(get(f"http://127.0.0.1:{server.port}/small"))
    finally:
        await actions.close()
    assert got == DataFailure(f"http://127.0.0.1:{server.port}: the response is larger than "
                              "64 KiB")
    assert isinstance(after, DataResult) and after.status == 200


async def test_a_server_that_does_not_answer_is_a_failure_within_the_timeout(
        server: Server) -> None:
    async def never(seen: Seen) -> bytes:
        await asyncio.sleep(30)
        return b""
    server.answer = never
    actions = HttpDataActions(LOOPBACK)
    try:
        got = await asyncio.wait_for(
            actions.call(get(f"http://127.0.0.1:{server.port}/slow", timeout=1)), 10)
    finally:
        await actions.close()
    assert got == DataFailure(f"http://127.0.0.1:{server.port}: no answer within 1 s")


# -- allowed ------------------------------------------------------------------------------


async def test_an_allowed_address_is_called_and_the_flow_cannot_choose_the_host_header(
        server: Server) -> None:
    actions = HttpDataActions(LOOPBACK)
    try:
        got = await actions.call(get(f"http://127.0.0.1:{server.port}/c?x=1", method="POST",
                                     body='{"a": 1}',
                                     headers={"Host": "admin.internal", "X-Key": "k"}))
    finally:
        await actions.close()
    assert got == DataResult(status=200, body={"tier": "gold", "path": "/c?x=1"})
    [seen] = server.seen
    assert (seen.method, seen.body) == ("POST", b'{"a": 1}')
    assert seen.headers["host"] == f"127.0.0.1:{server.port}"
    assert seen.headers["x-key"] == "k"


async def test_the_connection_goes_to_the_address_checked_with_the_name_as_host(
        server: Server) -> None:
    """Resolved once, checked, connected to: the server sees the name, not a new lookup."""
    calls: list[str] = []
    actions = HttpDataActions(LOOPBACK, resolver=names({"crm.test": ["127.0.0.1"]}, calls))
    try:
        got = await actions.call(get(f"http://crm.test:{server.port}/c"))
    finally:
        await actions.close()
    assert isinstance(got, DataResult) and got.status == 200
    assert calls == ["crm.test"]
    assert [s.headers["host"] for s in server.seen] == [f"crm.test:{server.port}"]


async def test_https_is_pinned_to_the_address_with_the_names_certificate() -> None:
    """TLS to the checked address, with the name as SNI and as the certificate's subject:
    a certificate for the name passes, the same server under another name does not."""
    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("crm.test").configure_cert(server_tls)
    client_tls = ssl.create_default_context()
    ca.configure_trust(client_tls)
    calls: list[str] = []
    table = {"crm.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]}
    async with http_server(server_tls) as server:
        actions = HttpDataActions(LOOPBACK, resolver=names(table, calls),
                                  ssl_context=client_tls)
        try:
            good = await actions.call(get(f"https://crm.test:{server.port}/c"))
            wrong = await actions.call(get(f"https://other.test:{server.port}/c"))
        finally:
            await actions.close()
    assert isinstance(good, DataResult) and good.status == 200
    assert isinstance(wrong, DataFailure) and "certificate" in wrong.reason.lower()
    assert [s.headers["host"] for s in server.seen] == [f"crm.test:{server.port}"]


async def test_an_allowed_name_may_resolve_to_an_internal_address(server: Server) -> None:
    actions = HttpDataActions(DataHostRules.parse("crm.internal"),
                              resolver=names({"crm.internal": ["127.0.0.1"]}, []))
    try:
        got = await actions.call(get(f"http://crm.internal:{server.port}/c"))
    finally:
        await actions.close()
    assert isinstance(got, DataResult) and got.status == 200


async def test_a_call_puts_no_url_in_the_log(parley: Parley, server: Server,
                                             caplog: pytest.LogCaptureFixture) -> None:
    """httpx logs every request's URL at INFO; a server Parley composed (the `parley`
    fixture) keeps it quiet, as the query may carry a key or a customer's number."""
    actions = HttpDataActions(LOOPBACK)
    try:
        with caplog.at_level(logging.INFO):
            got = await actions.call(get(f"http://127.0.0.1:{server.port}/c?key=sekrit-123"))
    finally:
        await actions.close()
    assert isinstance(got, DataResult) and got.status == 200
    assert not [r.getMessage() for r in caplog.records if "sekrit" in r.getMessage()]
