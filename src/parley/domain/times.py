"""Instants are epoch milliseconds; on the wire they are `yyyy-MM-ddTHH:mm:ss.SSSZ`."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(ms: int | None) -> str | None:
    """Epoch ms -> `yyyy-MM-ddTHH:mm:ss.SSSZ`, the form both Genesys SDKs parse."""
    if ms is None:
        return None
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
