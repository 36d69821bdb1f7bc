"""A local stand-in for a Twilio-style REST API: a real HTTP server on 127.0.0.1.

It speaks the part of the 2010-04-01 API the adapter uses (the account, Messages.json,
IncomingPhoneNumbers and its Local/TollFree/Mobile lists, with paging), checks Basic auth,
records every request, and can be told to answer errors (with Twilio's error body) or to be
slow for the next requests.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

API = "/2010-04-01"
TYPE_LISTS = {"Local": "local", "TollFree": "tollfree", "Mobile": "mobile"}


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    authorization: str | None


@dataclass
class Failure:
    status: int
    code: int | None
    message: str
    path_contains: str


@dataclass
class FakeTwilio:
    account_sid: str
    auth_token: str
    numbers: dict[str, str] = field(default_factory=dict)
    """phone number -> its type (local, tollfree, mobile)"""
    no_sms: set[str] = field(default_factory=set)
    typed_lists: bool = True
    """False: answer 404 to IncomingPhoneNumbers/Local.json etc., as some providers do."""
    page_size_cap: int = 2
    """Pages as small as this, so listings go through the SDK's paging."""
    requests: list[Recorded] = field(default_factory=list)
    sids: list[str] = field(default_factory=list)
    """The sids it gave the texts it took, oldest first."""
    _failures: deque[Failure] = field(default_factory=deque)
    _delays: deque[float] = field(default_factory=deque)
    _runner: web.AppRunner | None = None
    url: str = ""

    # -- control ------------------------------------------------------------------------------

    def fail_next(self, status: int, code: int | None = None, message: str = "failure",
                  *, times: int = 1, path_contains: str = "Messages.json") -> None:
        for _ in range(times):
            self._failures.append(Failure(status, code, message, path_contains))

    def slow_next(self, seconds: float, *, times: int = 1) -> None:
        self._delays.extend([seconds] * times)

    def add_number(self, e164: str, kind: str = "local", *, sms: bool = True) -> None:
        self.numbers[e164] = kind
        if not sms:
            self.no_sms.add(e164)

    @property
    def messages(self) -> list[Recorded]:
        """The Messages.json POSTs it took (or refused), oldest first."""
        return [r for r in self.requests
                if r.method == "POST" and r.path.endswith("/Messages.json")]

    # -- life cycle ---------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- the API ------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.requests.append(Recorded(request.method, request.path, dict(request.query), form,
                                      request.headers.get("Authorization")))
        if self._delays:
            await asyncio.sleep(self._delays.popleft())
        if not self._authorised(request.headers.get("Authorization")):
            return _error(401, 20003, "Authenticate")
        if self._failures and self._failures[0].path_contains in request.path:
            f = self._failures.popleft()
            if f.code is None:
                return web.Response(status=f.status, text="upstream trouble")
            return _error(f.status, f.code, f.message)
        prefix = f"{API}/Accounts/{self.account_sid}"
        path = request.path
        if not path.startswith(f"{API}/Accounts/"):
            return _error(404, 20404, "The requested resource was not found")
        if path == prefix + ".json" and request.method == "GET":
            return web.json_response({"sid": self.account_sid, "friendly_name": "Fake",
                                      "status": "active", "type": "Full"})
        if path == prefix + "/Messages.json" and request.method == "POST":
            return self._create_message(form)
        if path.startswith(prefix + "/IncomingPhoneNumbers") and request.method == "GET":
            return self._list_numbers(request, path[len(prefix):])
        return _error(404, 20404, f"The requested resource {path} was not found")

    def _authorised(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return user == self.account_sid and password == self.auth_token

    def _create_message(self, form: dict[str, str]) -> web.Response:
        if "To" not in form or not ("From" in form or "MessagingServiceSid" in form):
            return _error(400, 21604, "A 'To' phone number is required.")
        sid = "SM" + uuid.uuid4().hex
        self.sids.append(sid)
        return web.json_response({
            "sid": sid, "account_sid": self.account_sid, "to": form["To"],
            "from": form.get("From"), "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": form.get("Body", ""), "status": "queued", "num_segments": "1",
            "direction": "outbound-api", "api_version": "2010-04-01",
            "uri": f"{API}/Accounts/{self.account_sid}/Messages/{sid}.json"}, status=201)

    def _list_numbers(self, request: web.Request, rest: str) -> web.Response:
        listed = rest.removeprefix("/IncomingPhoneNumbers").removesuffix(".json").lstrip("/")
        if listed and (listed not in TYPE_LISTS or not self.typed_lists):
            return _error(404, 20404, "The requested resource was not found")
        wanted = TYPE_LISTS.get(listed)
        filter_digits = "".join(c for c in request.query.get("PhoneNumber", "") if c.isdigit())
        numbers = [n for n, kind in sorted(self.numbers.items())
                   if (wanted is None or kind == wanted) and filter_digits in n]
        size = min(int(request.query.get("PageSize", "50")), self.page_size_cap)
        page = int(request.query.get("Page", "0"))
        chunk = numbers[page * size:(page + 1) * size]
        base = f"{API}/Accounts/{self.account_sid}{rest}"
        more = (page + 1) * size < len(numbers)
        body: dict[str, Any] = {
            "incoming_phone_numbers": [{
                "sid": "PN" + uuid.uuid5(uuid.NAMESPACE_URL, n).hex,
                "account_sid": self.account_sid, "phone_number": n, "friendly_name": n,
                "capabilities": {"voice": True, "sms": n not in self.no_sms, "mms": False,
                                 "fax": False}} for n in chunk],
            "page": page, "page_size": size, "start": page * size,
            "end": page * size + len(chunk) - 1, "uri": f"{base}?PageSize={size}&Page={page}",
            "first_page_uri": f"{base}?PageSize={size}&Page=0",
            "previous_page_uri": f"{base}?PageSize={size}&Page={page - 1}" if page else None,
            "next_page_uri": f"{base}?PageSize={size}&Page={page + 1}" if more else None,
        }
        if filter_digits:
            for key in ("uri", "first_page_uri", "previous_page_uri", "next_page_uri"):
                if body[key]:
                    body[key] += f"&PhoneNumber=%2B{filter_digits}"
        return web.json_response(body)


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message, "status": status,
                              "more_info": f"https://www.twilio.com/docs/errors/{code}"},
                             status=status)
