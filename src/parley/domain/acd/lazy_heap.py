"""A binary min-heap whose items can be removed or re-keyed in O(log n), by lazy deletion.

The ACD keeps every ordering it needs (waiting conversations by priority and age, available
agents by idleness, offers by deadline) in one of these. `heapq` is C code, so a push is a
fraction of a microsecond, far cheaper than keeping a balanced tree in step; the price is that
removing an item only forgets it, and its stale entry is dropped when it reaches the top. The
heap is rebuilt from the live entries when stale ones outnumber them, so memory stays within a
constant factor of the live size and every operation stays amortised O(log n).

An entry is a tuple whose last element is the item's id; tuples compare element by element,
so the leading elements are the sort key and the id breaks ties.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Container, Hashable, Iterator
from typing import Generic, TypeVar

E = TypeVar("E", bound=tuple[object, ...])

# Rebuild when the heap holds more than twice the live entries plus this slack, so small heaps
# are not rebuilt over and over for one or two stale entries.
_COMPACT_SLACK = 32


class LazyHeap(Generic[E]):
    """Min-heap of entries `(key..., item_id)`; at most one live entry per item id."""

    __slots__ = ("_heap", "_live")

    def __init__(self) -> None:
        self._heap: list[E] = []
        self._live: dict[Hashable, E] = {}

    def __len__(self) -> int:
        return len(self._live)

    def __bool__(self) -> bool:
        return bool(self._live)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._live

    def ids(self) -> Iterator[Hashable]:
        """The live item ids, in no particular order."""
        return iter(self._live)

    def entry(self, item_id: Hashable) -> E | None:
        return self._live.get(item_id)

    def push(self, entry: E) -> None:
        """Add an item, or re-key it if it is already in (its old entry goes stale)."""
        self._live[entry[-1]] = entry
        heapq.heappush(self._heap, entry)
        if len(self._heap) > 2 * len(self._live) + _COMPACT_SLACK:
            self._compact()

    def discard(self, item_id: Hashable) -> None:
        """Forget an item if present; its entry is dropped when it surfaces (or on compaction)."""
        if self._live.pop(item_id, None) is not None and (
                len(self._heap) > 2 * len(self._live) + _COMPACT_SLACK):
            self._compact()

    def peek(self) -> E | None:
        """The smallest live entry, or None when empty."""
        heap, live = self._heap, self._live
        while heap:
            top = heap[0]
            if live.get(top[-1]) is top:
                return top
            heapq.heappop(heap)
        return None

    def pop(self) -> E | None:
        """Remove and return the smallest live entry, or None when empty."""
        top = self.peek()
        if top is not None:
            heapq.heappop(self._heap)
            del self._live[top[-1]]
        return top

    def first_not_in(self, skip: Container[object]) -> tuple[E | None, E | None]:
        """`(smallest live entry whose id is not in skip, smallest live entry)`.

        Walks the heap in order, so it costs O((k + 1) log n) for k skipped items at the top;
        callers pass small sets (the agents who declined one conversation).
        """
        first = self.peek()
        if first is None or first[-1] not in skip:
            return first, first
        held: list[E] = []
        found: E | None = None
        while True:
            top = self.peek()
            if top is None:
                break
            if top[-1] not in skip:
                found = top
                break
            held.append(heapq.heappop(self._heap))
        for entry in held:
            heapq.heappush(self._heap, entry)
        return found, first

    def first_where(self, accept: Callable[[E], bool], limit: int) -> tuple[E | None, bool]:
        """`(smallest live entry accepted, settled)`, looking at no more than `limit` entries.

        `settled` is False only when `limit` entries were looked at and none was accepted:
        the answer is then unknown, and the caller needs another way to find it.
        """
        held: list[E] = []
        found: E | None = None
        settled = True
        while True:
            top = self.peek()
            if top is None:
                break
            if accept(top):
                found = top
                break
            if len(held) + 1 >= limit:
                settled = False
                break
            held.append(heapq.heappop(self._heap))
        for entry in held:
            heapq.heappush(self._heap, entry)
        return found, settled

    def ordered(self) -> list[E]:
        """Every live entry, smallest first (O(n log n); for views and tests, not routing)."""
        return sorted(self._live.values())

    def _compact(self) -> None:
        self._heap = list(self._live.values())
        heapq.heapify(self._heap)
