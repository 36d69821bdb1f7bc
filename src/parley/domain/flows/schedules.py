"""Schedules: when a contact centre is open, in its own time zone, minus its holidays.

A schedule is read as wall-clock time in its IANA time zone, so "09:00-17:00" opens at nine
local time on both sides of a daylight-saving change (the UTC instant moves, the sign on the
door does not). Holidays close the whole local day. Ranges stay within one day: to span
midnight, close one day at 24:00 and open the next at 00:00; that keeps "which day's hours
apply" obvious.

    businessHours:
      timezone: America/Chicago
      open: {mon-fri: "09:00-17:00", sat: "10:00-13:00"}
      holidays: ["2026-12-25"]

Days not listed are closed. A day's value may hold several ranges: "09:00-12:00, 13:00-17:00"
or a list of such texts.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from parley.domain.errors import InvalidInput

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Day names as written in flows; index = datetime.weekday()."""

_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_HOLIDAYS = 1000

ReportProblem = Callable[[str, str], None]
"""(sub-path within the schedule, message): how a parser reports what is wrong."""


@dataclass(frozen=True, slots=True)
class TimeRange:
    """[start, end) in minutes after local midnight; end may be 1440 (24:00)."""

    start: int
    end: int

    def __contains__(self, minute: int) -> bool:
        return self.start <= minute < self.end

    def __str__(self) -> str:
        return f"{_clock(self.start)}-{_clock(self.end)}"


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True, slots=True)
class Schedule:
    name: str
    zone: ZoneInfo
    hours: tuple[tuple[TimeRange, ...], ...]
    """Seven entries, Monday first: the open ranges of each weekday."""
    holidays: frozenset[date]

    @property
    def timezone(self) -> str:
        return self.zone.key

    def is_open(self, at: datetime) -> bool:
        """Whether the centre is open at the instant `at` (an aware datetime)."""
        if at.tzinfo is None:
            raise ValueError("is_open needs an aware datetime")
        local = at.astimezone(self.zone)
        if local.date() in self.holidays:
            return False
        minute = local.hour * 60 + local.minute
        return any(minute in r for r in self.hours[local.weekday()])

    @classmethod
    def from_config(cls, name: str, config: object) -> Schedule:
        """Build a schedule from plain values (an organisation's schedule sent as JSON)."""
        problems: list[str] = []
        schedule = read_schedule(name, config, lambda sub, msg: problems.append(
            f"{sub}: {msg}" if sub else msg))
        if schedule is None or problems:
            raise InvalidInput(f"schedule '{name}': {problems[0]}", field=name)
        return schedule


def read_schedule(name: str, config: object, report: ReportProblem) -> Schedule | None:
    """Read one schedule from plain values, reporting every problem; None if unusable."""
    if not isinstance(config, Mapping):
        report("", "a schedule must be a mapping with timezone, open and holidays")
        return None
    ok = True
    for key in config:
        if key not in ("timezone", "open", "holidays"):
            report(str(key), f"unknown field '{key}' in a schedule (fields: timezone, open, "
                   "holidays)")
            ok = False
    zone = _zone(config.get("timezone"), report)
    hours = _hours(config.get("open"), report)
    holidays = _holidays(config.get("holidays"), report)
    if not ok or zone is None or hours is None or holidays is None:
        return None
    return Schedule(name, zone, hours, holidays)


def _zone(value: object, report: ReportProblem) -> ZoneInfo | None:
    if value is None:
        report("", "a schedule needs 'timezone', e.g. America/Chicago")
        return None
    if not isinstance(value, str) or not value.strip():
        report("timezone", "must be an IANA time zone name, e.g. America/Chicago")
        return None
    try:
        return ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        report("timezone", f"unknown time zone '{value}'; use an IANA name such as "
               "America/Chicago or Europe/London")
        return None


def _hours(value: object, report: ReportProblem) -> tuple[tuple[TimeRange, ...], ...] | None:
    if value is None:
        report("", "a schedule needs 'open', e.g. {mon-fri: \"09:00-17:00\"}")
        return None
    if not isinstance(value, Mapping):
        report("open", "must map days to hours, e.g. {mon-fri: \"09:00-17:00\"}")
        return None
    week: list[tuple[TimeRange, ...] | None] = [None] * 7
    ok = True
    for spec, ranges_value in value.items():
        sub = f"open.{spec}"
        days = _days(str(spec), sub, report)
        ranges = _ranges(ranges_value, sub, report)
        if days is None or ranges is None:
            ok = False
            continue
        for day in days:
            if week[day] is not None:
                report(sub, f"{WEEKDAYS[day]} is given more than once")
                ok = False
            week[day] = ranges
    if not ok:
        return None
    return tuple(r or () for r in week)


def _days(spec: str, sub: str, report: ReportProblem) -> list[int] | None:
    """'mon-fri', 'sat', 'mon,wed,fri', 'fri-mon' (wrapping over the weekend)."""
    days: list[int] = []
    for part in spec.lower().replace(" ", "").split(","):
        ends = part.split("-")
        if len(ends) > 2 or not all(e in WEEKDAYS for e in ends):
            report(sub, f"'{spec}' is not a day or range of days; use mon, tue, wed, thu, "
                   "fri, sat, sun, e.g. mon-fri or sat,sun")
            return None
        first, last = WEEKDAYS.index(ends[0]), WEEKDAYS.index(ends[-1])
        days.extend((first + i) % 7 for i in range((last - first) % 7 + 1))
    if len(set(days)) != len(days):
        report(sub, f"'{spec}' names a day more than once")
        return None
    return days


def _ranges(value: object, sub: str, report: ReportProblem) -> tuple[TimeRange, ...] | None:
    if isinstance(value, list):
        texts = value
    elif isinstance(value, str):
        texts = value.split(",")
    else:
        report(sub, "must be hours like \"09:00-17:00\" (quote them in YAML)")
        return None
    ranges: list[TimeRange] = []
    for text in texts:
        if not isinstance(text, str):
            report(sub, "must be hours like \"09:00-17:00\"")
            return None
        found = _range(text.strip(), sub, report)
        if found is None:
            return None
        ranges.append(found)
    ranges.sort(key=lambda r: r.start)
    for before, after in itertools.pairwise(ranges):
        if after.start < before.end:
            report(sub, f"{before} and {after} overlap")
            return None
    return tuple(ranges)


def _range(text: str, sub: str, report: ReportProblem) -> TimeRange | None:
    ends = [e.strip() for e in text.split("-")]
    if len(ends) != 2:
        report(sub, f"'{text}' is not a range of hours like 09:00-17:00")
        return None
    start, end = _minutes(ends[0]), _minutes(ends[1])
    if start is None or end is None or start == 1440:
        report(sub, f"'{text}' is not a range of hours like 09:00-17:00 (24-hour clock, "
               "00:00 to 24:00)")
        return None
    if end <= start:
        report(sub, f"'{text}' ends before it starts; to span midnight, close at 24:00 and "
               "open the next day at 00:00")
        return None
    return TimeRange(start, end)


def _minutes(text: str) -> int | None:
    found = _TIME.fullmatch(text)
    if not found:
        return None
    hour, minute = int(found.group(1)), int(found.group(2))
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        return None
    return hour * 60 + minute


def _holidays(value: object, report: ReportProblem) -> frozenset[date] | None:
    if value is None:
        return frozenset()
    if not isinstance(value, list):
        report("holidays", "must be a list of dates like \"2026-12-25\"")
        return None
    if len(value) > MAX_HOLIDAYS:
        report("holidays", f"has {len(value)} dates; the limit is {MAX_HOLIDAYS}")
        return None
    days: set[date] = set()
    ok = True
    for i, item in enumerate(value):
        text = item.isoformat() if isinstance(item, date) else str(item)
        try:
            if not _DATE.fullmatch(text):
                raise ValueError(text)
            days.add(date.fromisoformat(text))
        except ValueError:
            report(f"holidays[{i}]", f"'{text}' is not a date like 2026-12-25")
            ok = False
    return frozenset(days) if ok else None
