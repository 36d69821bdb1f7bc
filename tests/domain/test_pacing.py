"""Pacing by segments: a limit lets a second's worth go at once, then spaces the rest."""

from __future__ import annotations

import pytest

from parley.domain.pacing import Pace, ready_at

# (rate, texts as segment counts all handed in at t=0) -> the time each may go
CASES = [
    pytest.param(1.0, [1, 1, 1], [0, 1000, 2000], id="long-code-1-per-second"),
    pytest.param(1.0, [3, 1], [0, 3000], id="a-3-part-text-counts-3"),
    pytest.param(3.0, [1, 1, 1, 1, 1], [0, 0, 0, 333, 667], id="toll-free-burst-of-3"),
    pytest.param(100.0, [1] * 101, [0] * 100 + [10], id="short-code-burst-of-100"),
    pytest.param(0.0, [5, 5, 5], [0, 0, 0], id="no-limit"),
    pytest.param(0.5, [1, 1], [0, 2000], id="slower-than-one-a-second"),
]


@pytest.mark.parametrize(("rate", "texts", "expected"), CASES)
def test_when_each_text_may_go(rate: float, texts: list[int], expected: list[int]) -> None:
    pace = Pace(rate)
    got = []
    for segments in texts:
        at = ready_at((pace,), 0)
        pace.take(segments, at)
        got.append(round(at))
    assert got == expected


def test_idle_time_earns_no_more_than_one_burst() -> None:
    pace = Pace(1.0)
    pace.take(1, 0)
    assert pace.ready_at(60_000) == 60_000, "after a minute idle it may go at once"
    pace.take(1, 60_000)
    assert pace.ready_at(60_000) == 61_000, "but only one a second again"


def test_the_strictest_pace_decides() -> None:
    number, link = Pace(1.0), Pace(100.0)
    for p in (number, link):
        p.take(1, 0)
    assert ready_at((number, link), 0) == 1000
    assert ready_at((), 5) == 5
