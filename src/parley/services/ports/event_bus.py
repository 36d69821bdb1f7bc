"""The event bus: how a use case announces a change without knowing who listens.

Use cases publish their conversation, user and queue events here once their change is
stored; the notification hub subscribes and pushes each to the websockets that want it. The
adapter is in `bus/` (in-process for the embedded server; across nodes later).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class EventBus(Protocol):
    def publish(self, topic: str, body: dict[str, Any], *, org_id: str) -> None: ...

    def subscribe(self, handler: Callable[[str, dict[str, Any], str], None]) -> None: ...

