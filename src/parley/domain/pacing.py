"""Send pacing: how fast a number and a connection may go, counted in segments.

Each limit is a generic cell rate algorithm (GCRA): it remembers the theoretical time at which
its traffic so far would have finished at exactly the allowed rate, and a text may go once that
time is no more than one second ahead of now (a burst of one second's worth, at least one
segment). A 3-segment text on a 1 segment/s long code pushes the next one out by 3 s: carriers
count segments, and pacing by messages is how gateways get throttled or blocked (peers.md §8).

O(1) per decision, no timers: the sender asks `ready_at` and sleeps until then.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Pace:
    rate: float
    """segments per second; 0 or less: no limit"""
    tat_ms: float = 0.0
    """theoretical arrival time: when the traffic so far would be done at `rate`"""

    @property
    def limited(self) -> bool:
        return self.rate > 0

    def _burst_ms(self) -> float:
        return max(1000.0, 1000.0 / self.rate)

    def ready_at(self, now_ms: float) -> float:
        """The earliest time a text may go (now, or later)."""
        if not self.limited:
            return now_ms
        return max(now_ms, self.tat_ms - self._burst_ms() + 1000.0 / self.rate)

    def take(self, segments: int, now_ms: float) -> None:
        """Count `segments` as sent at `now_ms` (call once `ready_at(now) <= now`)."""
        if self.limited:
            self.tat_ms = max(self.tat_ms, now_ms) + segments * 1000.0 / self.rate


def ready_at(paces: tuple[Pace, ...], now_ms: float) -> float:
    return max((p.ready_at(now_ms) for p in paces), default=now_ms)
