"""The time the use cases read, as a port so tests can move it by hand.

Leases, deadlines, offers and receipts are all decided on milliseconds since the epoch; a
service that read the system clock itself could not be tested at a chosen instant, nor a
timeout without waiting for it. `SystemClock` is the one the server runs with.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int: ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000
