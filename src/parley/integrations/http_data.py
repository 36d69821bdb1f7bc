"""Flows' HTTP data actions (callData), made with httpx."""

from __future__ import annotations

import json

import httpx

from parley.domain.flows import CallData, DataFailure, DataResult

MAX_RESPONSE_BYTES = 256 * 1024


class HttpDataActions:
    def __init__(self, client: httpx.AsyncClient | None = None) -> None:
        self._client = client or httpx.AsyncClient(follow_redirects=False)

    async def call(self, request: CallData) -> DataResult | DataFailure:
        try:
            response = await self._client.request(
                request.method, request.url, headers=request.headers,
                content=None if request.body is None else request.body.encode(),
                timeout=request.timeout_seconds)
        except httpx.TimeoutException:
            return DataFailure(f"no answer from {request.url} within "
                               f"{request.timeout_seconds} s")
        except httpx.HTTPError as e:
            return DataFailure(f"{request.method} {request.url} failed: {e}")
        raw = response.content[:MAX_RESPONSE_BYTES]
        try:
            body: object = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        return DataResult(status=response.status_code, body=body)

    async def close(self) -> None:
        await self._client.aclose()
