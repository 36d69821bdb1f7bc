"""callData: an HTTP data action; the run pauses while the service makes the request.

    lookup:
      callData:
        url: "https://crm.example.com/customers?phone={{ message.sender }}"
        method: GET                  # GET (default), POST, PUT, PATCH or DELETE
        headers: {Authorization: "Bearer {{ participant.token }}"}
        body: {phone: "{{ message.sender }}"}   # a mapping is sent as JSON; or a text template
        timeoutSeconds: 10           # default 10, at most 60
        saveAs: customer             # the decoded response, read as customer.tier etc.
        failure: toSupport           # optional: where to go when the call fails
      next: greetByName

The URL must start with a literal http:// or https:// and its host, so the author, not the
data, picks where requests go; values placed in it are URL-encoded. Where the deployment's
host rules are given (publishing; `data_hosts.DataHostRules`), a host written as a loopback,
private or other non-public address is refused. The step ends with a CallData event;
the service performs the request (enforcing the timeout and the host rules) and resumes
the run with DataResult(status, body) or DataFailure(reason). A 2xx result goes to `next`;
anything else, including a request that could not be built, goes to `failure`, or without
one to the flow's error path.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import quote, urlsplit

from parley.domain.flows.actions.base import ActionType, FlowFailure, Outcome, Runtime
from parley.domain.flows.events import CallData
from parley.domain.flows.expressions import Template
from parley.domain.flows.runs import (
    MAX_SAVED_CHARACTERS,
    DataFailure,
    DataResult,
    ResumeInput,
    RunStatus,
)
from parley.domain.flows.source import Fields

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}")
MAX_URL = 2048
MAX_HEADERS = 20
MAX_BODY = 10_000
_AUTHORITY = re.compile(r"(?i)https?://([^/?#]*)")


@dataclass(frozen=True, slots=True)
class CallDataAction:
    waits_for: ClassVar[RunStatus] = RunStatus.WAITING_FOR_DATA
    url: Template
    method: str
    headers: tuple[tuple[str, Template], ...]
    body: Template | None
    json_body: tuple[tuple[str, Template], ...] | None
    timeout_seconds: int
    save_as: str | None
    failure: str | None
    next: str

    @classmethod
    def parse(cls, config: Fields, next_id: str | None) -> CallDataAction:
        url = config.template("url", required=True, max_length=MAX_URL)
        first = url.parts[0] if url.parts else ""
        if url.source and not (isinstance(first, str)
                               and first.lower().startswith(("http://", "https://"))):
            config.source.error(config.at("url"), "must start with http:// or https:// "
                                "(written out, not from an expression)")
        elif url.source:
            config.source.hosts.append((config.at("url"), _written_host(url)))
        method = config.choice("method", METHODS, default="GET")
        headers = _templates(config, "headers", name=HEADER_NAME, limit=MAX_HEADERS)
        body: Template | None = None
        json_body: tuple[tuple[str, Template], ...] | None = None
        raw_body = config.values.get("body")
        if isinstance(raw_body, dict):
            json_body = _templates(config, "body", name=None, limit=100)
        elif raw_body is not None:
            body = config.template("body", max_length=MAX_BODY)
        else:
            config.known.append("body")
        if method == "GET" and raw_body is not None:
            config.source.error(config.at("body"), "a GET request has no body; use POST")
        return cls(url=url, method=method, headers=headers, body=body, json_body=json_body,
                   timeout_seconds=config.integer("timeoutSeconds", default=10, low=1, high=60),
                   save_as=config.variable("saveAs"), failure=config.target("failure"),
                   next=next_id or "")

    def targets(self) -> tuple[str, ...]:
        return (self.next,) if self.failure is None else (self.next, self.failure)

    def execute(self, runtime: Runtime) -> Outcome:
        try:
            request = self._request(runtime)
        except FlowFailure as exc:
            return self._failed(runtime, exc.reason)
        return Outcome((request,), wait=self.waits_for)

    def _request(self, runtime: Runtime) -> CallData:
        url = runtime.render(self.url, escape=lambda value: quote(value, safe=""))
        if len(url) > MAX_URL or any(c.isspace() or ord(c) < 32 for c in url):
            shown = url.split("?", 1)[0][:80]  # the query may carry a key or a number
            raise FlowFailure(f"callData URL '{shown}' is not valid")
        headers = {name: runtime.render(t) for name, t in self.headers}
        if any("\r" in v or "\n" in v for v in headers.values()):
            raise FlowFailure("callData header values may not contain line breaks")
        body = runtime.render(self.body) if self.body is not None else None
        if self.json_body is not None:
            body = json.dumps({k: runtime.render(t) for k, t in self.json_body},
                              ensure_ascii=False)
            if not any(name.lower() == "content-type" for name in headers):
                headers["Content-Type"] = "application/json"
        return CallData(self.method, url, headers, body, self.timeout_seconds)

    def resume(self, runtime: Runtime, given: ResumeInput) -> Outcome:
        if isinstance(given, DataFailure):
            return self._failed(runtime, given.reason)
        if not isinstance(given, DataResult):  # the interpreter matches inputs to waits
            raise FlowFailure(f"callData cannot take {type(given).__name__}")
        if not 200 <= given.status <= 299:
            return self._failed(runtime, f"HTTP status {given.status}")
        try:
            encoded = json.dumps(given.body, allow_nan=False)
        except (TypeError, ValueError, RecursionError):
            return self._failed(runtime, "the response is not JSON-compatible data")
        if len(encoded) > MAX_SAVED_CHARACTERS:
            return self._failed(runtime, f"the response is larger than {MAX_SAVED_CHARACTERS} "
                                "characters")
        if self.save_as:
            runtime.save(self.save_as, json.loads(encoded))
        return Outcome(next=self.next)

    def _failed(self, runtime: Runtime, reason: str) -> Outcome:
        if self.failure is None:
            raise FlowFailure(f"callData failed: {reason}")
        if self.save_as:
            runtime.save(self.save_as, None)
        return Outcome(next=self.failure)


def _written_host(url: Template) -> str | None:
    """The URL's host when the text written holds all of it, else None (an expression
    would pick or extend it: `https://{{ x }}/`, `https://crm.{{ x }}`)."""
    first = url.parts[0]
    assert isinstance(first, str)
    found = _AUTHORITY.match(first)
    if found is None or (found.end() == len(first) and len(url.parts) > 1):
        return None
    try:
        host = urlsplit(f"//{found.group(1)}").hostname
    except ValueError:
        return found.group(1)
    return host if host else None


def _templates(config: Fields, key: str, *, name: re.Pattern[str] | None,
               limit: int) -> tuple[tuple[str, Template], ...]:
    table = config.mapping(key, key)
    if table is None:
        return ()
    out: list[tuple[str, Template]] = []
    for field_name in list(table.keys()):
        path = table.at(field_name)
        if name is not None and not name.fullmatch(field_name):
            table.source.error(path, f"'{field_name}' is not a valid header name", at_key=True)
            continue
        value = table.values[field_name]
        if isinstance(value, bool | int | float):
            value = table.source.raw.get(path, str(value))
        if not isinstance(value, str):
            table.source.error(path, "must be text (a template)")
            continue
        out.append((field_name, table.compile_template(path, value)))
    if len(table.values) > limit:
        table.source.error(table.path, f"has {len(table.values)} entries; the limit is {limit}")
    return tuple(out)


ACTION = ActionType("callData", takes_next=True, parse=CallDataAction.parse,
                    summary="call an HTTP data action and save the response")
