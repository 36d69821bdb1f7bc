"""The in-process event bus of the embedded deployment."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[[str, dict[str, Any], str], None]


class InProcessBus:
    def __init__(self) -> None:
        self._handlers: list[Handler] = []

    def subscribe(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def publish(self, topic: str, body: dict[str, Any], *, org_id: str) -> None:
        for handler in self._handlers:
            try:
                handler(topic, body, org_id)
            except Exception:
                log.exception("event handler failed for %s", topic)
