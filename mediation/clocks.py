"""Statutory and service clocks (法定期限与办理时限) and the sweep that acts on them.

Periods are counted by DOMAIN R25 (Civil Procedure Law art. 85): the starting day is
not counted; a last day that is a rest day (a statutory holiday, or a weekend that is
not a swapped working day 调休上班) moves to the next working day. Holidays come from
the maintained ``chinesecalendar`` package; for a year it does not know yet, only
weekends count as rest days and the end date is marked provisional.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local_date(instant: datetime) -> date:
    """The calendar date of an aware instant in Asia/Shanghai."""
    return instant.astimezone(SHANGHAI).date()


def start_of_day(day: date) -> datetime:
    """00:00 Asia/Shanghai of ``day``, as an aware datetime."""
    return datetime.combine(day, time(0, 0), tzinfo=SHANGHAI)


def is_working_day(day: date) -> tuple[bool, bool]:
    """``(working, known)``: whether ``day`` is a working day, and whether the calendar knows its year."""
    try:
        return bool(chinese_calendar.is_workday(day)), True
    except NotImplementedError:
        return day.weekday() < 5, False


@dataclass(frozen=True)
class PeriodEnd:
    """The last day of a period and whether it rests on a calendar the package knows."""

    last_day: date
    provisional: bool

    @property
    def lapses_at(self) -> datetime:
        """The instant the period has run out: 00:00 Asia/Shanghai after the last day."""
        return start_of_day(self.last_day + timedelta(days=1))


def period_end(start: date, days: int) -> PeriodEnd:
    """The end of a period of ``days`` days triggered on ``start`` (DOMAIN R25).

    The nominal last day is ``start + days``; while it is a rest day it moves to the
    next day. ``provisional`` is true when a year the calendar does not know was consulted.
    Raises ``ValueError`` for a negative ``days``.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    last = start + timedelta(days=days)
    provisional = False
    while True:
        working, known = is_working_day(last)
        provisional = provisional or not known
        if working:
            return PeriodEnd(last, provisional)
        last += timedelta(days=1)


def days_elapsed(started_on: date, today: date, paused_days: int = 0) -> int:
    """Days counted so far: the starting day excluded, paused days not counted."""
    return max(0, (today - started_on).days - paused_days)
