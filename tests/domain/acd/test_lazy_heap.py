"""The lazy-deletion heap under the ACD's indexes, checked against a sorted list."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from parley.domain.acd.lazy_heap import LazyHeap

Entry = tuple[int, str]

ops = st.lists(st.tuples(st.sampled_from(["push", "discard", "pop"]),
                         st.integers(0, 20), st.sampled_from("abcdefgh")), max_size=200)


@settings(max_examples=200, deadline=None)
@given(ops)
def test_behaves_like_a_sorted_mapping(operations: list[tuple[str, int, str]]) -> None:
    heap: LazyHeap[Entry] = LazyHeap()
    model: dict[str, Entry] = {}
    for op, key, item in operations:
        if op == "push":
            heap.push((key, item))
            model[item] = (key, item)
        elif op == "discard":
            heap.discard(item)
            model.pop(item, None)
        else:
            expected = min(model.values()) if model else None
            assert heap.pop() == expected
            if expected is not None:
                del model[expected[1]]
        assert len(heap) == len(model)
        assert heap.peek() == (min(model.values()) if model else None)
        assert heap.ordered() == sorted(model.values())
        assert len(heap._heap) <= 2 * len(model) + 33  # stale entries stay bounded


def test_first_not_in_walks_past_skipped_items_and_keeps_them() -> None:
    heap: LazyHeap[Entry] = LazyHeap()
    for key, item in [(1, "a"), (2, "b"), (3, "c")]:
        heap.push((key, item))
    assert heap.first_not_in(set()) == ((1, "a"), (1, "a"))
    assert heap.first_not_in({"a", "b"}) == ((3, "c"), (1, "a"))
    assert heap.first_not_in({"a", "b", "c"}) == (None, (1, "a"))
    assert heap.ordered() == [(1, "a"), (2, "b"), (3, "c")]
    assert LazyHeap[Entry]().first_not_in({"a"}) == (None, None)


def test_first_where_is_settled_only_when_it_knows() -> None:
    heap: LazyHeap[Entry] = LazyHeap()
    for n in range(10):
        heap.push((n, f"i{n}"))
    assert heap.first_where(lambda e: e[0] >= 3, 8) == ((3, "i3"), True)
    assert heap.first_where(lambda e: e[0] >= 9, 8) == (None, False)
    assert heap.first_where(lambda e: e[0] >= 9, 10) == ((9, "i9"), True)
    assert heap.first_where(lambda e: False, 20) == (None, True)
    assert len(heap) == 10 and heap.peek() == (0, "i0")


def test_rekeying_an_item_replaces_its_entry() -> None:
    heap: LazyHeap[Entry] = LazyHeap()
    heap.push((5, "a"))
    heap.push((1, "b"))
    heap.push((0, "a"))
    assert heap.ordered() == [(0, "a"), (1, "b")]
    assert "a" in heap and heap.entry("a") == (0, "a")
    heap.discard("a")
    heap.discard("missing")
    assert heap.pop() == (1, "b") and heap.pop() is None and not heap
