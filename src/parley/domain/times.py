"""Instants are epoch milliseconds; on the wire they are `yyyy-MM-ddTHH:mm:ss.SSSZ`."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache


@lru_cache(maxsize=4096)
def _second(s: int) -> str:
    return datetime.fromtimestamp(s, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.")


def iso(ms: int | None) -> str | None:
    """Epoch ms -> `yyyy-MM-ddTHH:mm:ss.SSSZ`, the form both Genesys SDKs parse.

    The date part is formatted once per second (cached): every event and response carries
    several timestamps, mostly of the last few seconds, and strftime is slow.
    """
    if ms is None:
        return None
    s, frac = divmod(ms, 1000)
    return f"{_second(s)}{frac:03d}Z"
