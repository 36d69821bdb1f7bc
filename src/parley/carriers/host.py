"""What the server hands every carrier adapter it builds from a stored connection.

One record rather than a constructor argument per need, so a kind that needs something new
(a shared HTTP client, a key store) gets it here and in `bootstrap.py`, and the registry of
kinds (`carriers/kinds.py`) stays one line per kind.
"""

from __future__ import annotations

from dataclasses import dataclass

from parley.services.ports import Clock, InboundParts


@dataclass(frozen=True, slots=True)
class CarrierHost:
    clock: Clock
    inbound_parts: InboundParts
    """Where SMPP keeps the parts of multipart texts until the whole text is stored."""
    public_url: str
    """The server's public URL: where HTTP providers call webhooks unless a connection
    names another."""
