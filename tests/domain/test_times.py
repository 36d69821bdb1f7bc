"""Wire timestamps: the cached formatting gives what strftime gives, to the millisecond."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from parley.domain.times import iso


@pytest.mark.parametrize("ms", [0, 1, 999, 1000, 1_796_177_754_593, 1_796_177_754_000,
                                -1, -1500, 4_102_444_799_999])
def test_iso_is_genesys_millisecond_utc(ms: int) -> None:
    expected = datetime.fromtimestamp(ms / 1000, tz=UTC).strftime(
        "%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
    assert iso(ms) == expected
    assert iso(ms) == iso(ms)  # a second call (cached) agrees


def test_none_stays_none() -> None:
    assert iso(None) is None
