"""Schedules read as local wall-clock time: weekdays, holidays, and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from parley.domain.errors import InvalidInput
from parley.domain.flows import Schedule

CHICAGO = Schedule.from_config("businessHours", {
    "timezone": "America/Chicago",
    "open": {"mon-fri": "09:00-17:00", "sat": "10:00-13:00"},
    "holidays": ["2026-12-25", "2027-01-01"],
})


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(("at", "is_open"), [
    pytest.param("2026-03-02T14:59:59", False, id="mon-08:59:59-before-opening"),
    pytest.param("2026-03-02T15:00:00", True, id="mon-09:00-opens"),
    pytest.param("2026-03-02T22:59:59", True, id="mon-16:59:59-still-open"),
    pytest.param("2026-03-02T23:00:00", False, id="mon-17:00-closed"),
    pytest.param("2026-03-07T16:30:00", True, id="sat-10:30-short-day"),
    pytest.param("2026-03-07T19:30:00", False, id="sat-13:30-after-short-day"),
    pytest.param("2026-03-01T18:00:00", False, id="sunday-not-listed-is-closed"),
    pytest.param("2026-03-03T03:30:00", False, id="utc-tuesday-is-chicago-monday-night"),
])
def test_weekday_hours(at: str, is_open: bool) -> None:
    assert CHICAGO.is_open(utc(at)) is is_open


def test_daylight_saving_keeps_local_opening_time() -> None:
    # Chicago moves from UTC-6 to UTC-5 on Sunday 2026-03-08: 09:00 local is 15:00Z the
    # Friday before and 14:00Z the Monday after.
    assert not CHICAGO.is_open(utc("2026-03-06T14:30:00"))  # Fri 08:30 CST
    assert CHICAGO.is_open(utc("2026-03-09T14:30:00"))  # Mon 09:30 CDT
    assert CHICAGO.is_open(utc("2026-03-06T22:30:00"))  # Fri 16:30 CST
    assert not CHICAGO.is_open(utc("2026-03-09T22:30:00"))  # Mon 17:30 CDT


def test_the_repeated_hour_when_clocks_go_back() -> None:
    night = Schedule.from_config("night", {"timezone": "America/Chicago",
                                           "open": {"sun": "01:00-02:00"}})
    # 01:30 happens twice on 2026-11-01: at 06:30Z (CDT) and at 07:30Z (CST).
    assert night.is_open(utc("2026-11-01T06:30:00"))
    assert night.is_open(utc("2026-11-01T07:30:00"))
    assert not night.is_open(utc("2026-11-01T08:30:00"))


def test_the_skipped_hour_when_clocks_go_forward() -> None:
    skipped = Schedule.from_config("skipped", {"timezone": "America/Chicago",
                                               "open": {"sun": "02:00-03:00"}})
    # 02:00-03:00 does not exist on 2026-03-08: 07:59Z is 01:59 CST, 08:00Z is 03:00 CDT.
    instants = [utc("2026-03-08T07:00:00") + timedelta(minutes=m) for m in range(0, 120)]
    assert not any(skipped.is_open(at) for at in instants)


def test_holidays_close_the_whole_local_day() -> None:
    always = Schedule.from_config("always", {"timezone": "America/Chicago",
                                             "open": {"mon-sun": "00:00-24:00"},
                                             "holidays": ["2026-12-25"]})
    assert always.is_open(utc("2026-12-25T05:30:00"))  # 23:30 on the 24th in Chicago
    assert not always.is_open(utc("2026-12-25T06:30:00"))  # 00:30 on the 25th
    assert not always.is_open(utc("2026-12-26T05:59:00"))  # 23:59 on the 25th
    assert always.is_open(utc("2026-12-26T06:00:00"))  # midnight on the 26th
    assert not CHICAGO.is_open(utc("2026-12-25T16:00:00"))  # a Friday, 10:00, holiday
    assert not CHICAGO.is_open(utc("2027-01-01T16:00:00"))


def test_several_ranges_a_day_and_a_list_form() -> None:
    lunch = Schedule.from_config("lunch", {"timezone": "Europe/London", "open": {
        "mon": "09:00-12:00, 13:00-17:30", "tue": ["09:00-12:00", "13:00-17:30"]}})
    for day in ("2026-06-01", "2026-06-02"):  # BST: UTC+1
        assert lunch.is_open(utc(f"{day}T10:59:00"))
        assert not lunch.is_open(utc(f"{day}T11:30:00"))
        assert lunch.is_open(utc(f"{day}T16:29:00"))
        assert not lunch.is_open(utc(f"{day}T16:30:00"))


def test_day_ranges_may_wrap_over_the_weekend() -> None:
    weekend = Schedule.from_config("weekend", {"timezone": "UTC",
                                               "open": {"fri-mon": "10:00-11:00"}})
    opened = [d for d in range(7) if weekend.hours[d]]
    assert opened == [0, 4, 5, 6]
    lists = Schedule.from_config("lists", {"timezone": "UTC", "open": {"sat, sun": "10:00-11:00"}})
    assert [d for d in range(7) if lists.hours[d]] == [5, 6]


def test_any_aware_datetime_is_accepted_and_naive_is_refused() -> None:
    tokyo = timezone(timedelta(hours=9))
    assert CHICAGO.is_open(datetime(2026, 3, 3, 0, 30, tzinfo=tokyo))  # Mon 09:30 Chicago
    with pytest.raises(ValueError, match="aware"):
        CHICAGO.is_open(datetime(2026, 3, 2, 10, 0))


@pytest.mark.parametrize(("config", "message"), [
    pytest.param([], "a schedule must be a mapping", id="not-a-mapping"),
    pytest.param({"timezone": "Nowhere/City", "open": {}}, "timezone: unknown time zone "
                 "'Nowhere/City'", id="bad-zone"),
    pytest.param({"timezone": "UTC", "open": {"weekdays": "09:00-17:00"}},
                 "open.weekdays: 'weekdays' is not a day or range of days", id="bad-day"),
    pytest.param({"timezone": "UTC", "open": {"mon,mon": "09:00-17:00"}},
                 "'mon,mon' names a day more than once", id="day-repeated"),
    pytest.param({"timezone": "UTC", "open": {"mon": "17:00-09:00"}},
                 "ends before it starts; to span midnight", id="overnight"),
    pytest.param({"timezone": "UTC", "open": {"mon": "24:00-24:00"}},
                 "is not a range of hours", id="starts-at-24"),
    pytest.param({"timezone": "UTC", "open": {"mon": "09:60-10:00"}},
                 "is not a range of hours", id="minute-60"),
    pytest.param({"timezone": "UTC", "open": {"mon": 9}},
                 "must be hours like", id="number"),
    pytest.param({"timezone": "UTC", "open": {"mon": "09:00-17:00"}, "holidays": ["25/12"]},
                 "holidays[0]: '25/12' is not a date", id="bad-holiday"),
])
def test_bad_schedules_are_refused(config: object, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Schedule.from_config("hours", config)
    assert message in str(caught.value)
    assert str(caught.value).startswith("schedule 'hours': ")
