"""Every error is a Genesys ErrorBody: message, code, status, contextId (and details).

Bad input is never a 500: validation errors become 400 with the field named, unknown routes
404, wrong methods 405, and anything unexpected a 500 whose contextId is in the server log.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import msgspec
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from parley.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidFields,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthenticated,
)
from parley.domain.flows import FlowValidationError

log = logging.getLogger(__name__)

_KINDS: dict[type[DomainError], tuple[int, str]] = {
    InvalidInput: (400, "bad.request"),
    NotFound: (404, "not.found"),
    Forbidden: (403, "missing.permissions"),
    Conflict: (409, "conflict"),
    Unauthenticated: (401, "authentication.required"),
    TooManyRequests: (429, "too.many.requests"),
}

_HTTP_CODES = {400: "bad.request", 401: "authentication.required", 403: "missing.permissions",
               404: "not.found", 405: "method.not.allowed", 406: "not.acceptable",
               409: "conflict", 413: "request.entity.too.large",
               415: "unsupported.media.type", 429: "too.many.requests",
               500: "internal.server.error", 501: "not.implemented",
               503: "service.unavailable"}

_encoder = msgspec.json.Encoder()


def error_response(status: int, message: str, *, code: str | None = None,
                   field: str | None = None, params: dict[str, str] | None = None,
                   headers: dict[str, str] | None = None,
                   context_id: str | None = None) -> Response:
    body: dict[str, Any] = {
        "message": message, "code": code or _HTTP_CODES.get(status, "bad.request"),
        "status": status, "contextId": context_id or str(uuid.uuid4()),
        "messageParams": params or {},
    }
    if field:
        body["details"] = [{"errorCode": body["code"], "fieldName": field}]
    return Response(_encoder.encode(body), status_code=status,
                    media_type="application/json", headers=headers)


def domain_error_response(exc: DomainError) -> Response:
    for kind in type(exc).__mro__:
        if kind in _KINDS:
            status, code = _KINDS[kind]
            break
    else:
        status, code = 400, "bad.request"
    response = error_response(status, exc.message, code=code, field=exc.field,
                              params=exc.params)
    if isinstance(exc, InvalidFields):
        body = msgspec.json.decode(response.body)
        body["details"] = [{"errorCode": code, "fieldName": f, "entityName": problem}
                           for f, problem in exc.problems]
        response = Response(_encoder.encode(body), status_code=status,
                            media_type="application/json")
    elif isinstance(exc, FlowValidationError):
        # Every problem of the flow, not only the first, each with its path and line.
        body = msgspec.json.decode(response.body)
        body["details"] = [{"errorCode": code, "fieldName": p.path,
                            "entityName": str(p)} for p in exc.problems]
        response = Response(_encoder.encode(body), status_code=status,
                            media_type="application/json")
    elif isinstance(exc, TooManyRequests):
        response.headers["Retry-After"] = str(exc.retry_after_s)
    return response


def _describe(err: dict[str, Any]) -> tuple[str, str | None]:
    loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
    where = ".".join(loc)
    kind = err.get("type", "")
    if kind == "json_invalid":
        return "the request body is not valid JSON: " + str(err.get("ctx", {}).get(
            "error", err.get("msg", ""))), None
    if kind == "missing":
        return f"{where or 'the request body'} is required", where or None
    if kind in ("model_attributes_type", "dict_type") and not where:
        return "the request body must be a JSON object", None
    if kind == "list_type" and not where:
        return "the request body must be a JSON array, e.g. [{\"id\": \"...\"}]", None
    return (f"{where}: {err.get('msg')}" if where else str(err.get("msg"))), where or None


UNSTORABLE_TEXT = ("the request contains text that cannot be stored: a NUL character (\\u0000) "
                   "or an unpaired UTF-16 surrogate")


def _is_unstorable_text(exc: BaseException | None) -> bool:
    """Text no database column can hold: NUL (PostgreSQL) or a lone surrogate (any driver)."""
    while exc is not None:
        if isinstance(exc, UnicodeEncodeError) or getattr(exc, "sqlstate", None) == "22021":
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def expected_error_response(exc: BaseException) -> Response | None:
    """The Genesys answer to an error that is the request's fault, or None for a real fault."""
    if isinstance(exc, DomainError):
        return domain_error_response(exc)
    if isinstance(exc, UnicodeEncodeError | DBAPIError) and _is_unstorable_text(exc):
        return error_response(400, UNSTORABLE_TEXT)
    return None


def install(app: FastAPI) -> None:
    @app.exception_handler(UnicodeEncodeError)
    @app.exception_handler(DBAPIError)
    async def _unstorable(_: Request, exc: Exception) -> Response:
        if not _is_unstorable_text(exc):
            raise exc
        return error_response(400, UNSTORABLE_TEXT)

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> Response:
        return domain_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        message, field = _describe(errors[0]) if errors else ("invalid request", None)
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more problem(s))"
        return error_response(400, message, field=field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404 and exc.detail == "Not Found":
            message = f"no such resource: {request.method} {request.url.path}"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        else:
            message = str(exc.detail)
        return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        context_id = str(uuid.uuid4())
        log.exception("unhandled error on %s %s (contextId %s)", request.method,
                      request.url.path, context_id, exc_info=exc)
        return error_response(500, "the server failed to handle this request; the error is "
                              "logged under this contextId", context_id=context_id)
