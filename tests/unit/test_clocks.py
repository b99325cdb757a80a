"""Periods counted in days (DOMAIN R25, 民事诉讼法 第85条) on China's 2026 calendar.

The holidays and swapped working days come from the ``chinesecalendar`` package. The
2026 arrangement (国务院办公厅 2025年11月 notice) as the package carries it: National Day
1–7 October; Saturdays and Sundays worked instead: 4 Jan, 14 Feb, 28 Feb, 9 May,
20 Sep, 10 Oct.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import chinese_calendar
import pytest

from mediation.clocks import SHANGHAI, days_elapsed, is_working_day, local_date, period_end, start_of_day

SWAPPED_WORKING_DAYS_2026 = [date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9),
                             date(2026, 9, 20), date(2026, 10, 10)]


def test_the_package_knows_2026_as_this_file_describes_it():
    """The facts the tests below rely on, checked against the package itself."""
    assert sorted(d for d in chinese_calendar.workdays if d.year == 2026) == SWAPPED_WORKING_DAYS_2026
    assert all(chinese_calendar.is_holiday(date(2026, 10, d)) for d in range(1, 8))
    assert chinese_calendar.is_workday(date(2026, 10, 8))


def test_an_ordinary_period_ends_on_its_nominal_last_day():
    """R25 (民事诉讼法 第85条): the starting day is not counted; 2 March + 15 days = Tuesday 17 March."""
    end = period_end(date(2026, 3, 2), 15)
    assert (end.last_day, end.provisional) == (date(2026, 3, 17), False)


def test_the_starting_day_is_not_counted():
    """R25 (民事诉讼法 第85条): a one-day period triggered on Monday ends on Tuesday."""
    assert period_end(date(2026, 3, 2), 1).last_day == date(2026, 3, 3)


@pytest.mark.parametrize(("days", "weekday"), [(5, "Saturday"), (6, "Sunday")])
def test_a_last_day_on_a_weekend_moves_to_monday(days, weekday):
    """R25 (民事诉讼法 第85条): a rest day at the end moves the end to the next working day."""
    nominal = date(2026, 3, 2) + timedelta(days=days)
    assert nominal.strftime("%A") == weekday
    assert period_end(date(2026, 3, 2), days).last_day == date(2026, 3, 9)


@pytest.mark.parametrize("last", [date(2026, 10, d) for d in range(1, 8)])
def test_a_last_day_in_the_national_day_holiday_moves_to_8_october(last):
    """R25 (民事诉讼法 第85条): a statutory holiday at the end (国庆节 1–7 Oct 2026) moves it past."""
    end = period_end(last - timedelta(days=15), 15)
    assert (end.last_day, end.provisional) == (date(2026, 10, 8), False)


def test_a_last_day_in_the_spring_festival_moves_past_it():
    """R25 (民事诉讼法 第85条): 春节 2026 runs 15–23 February; Tuesday 24 February is the first working day."""
    assert period_end(date(2026, 2, 5), 10).last_day == date(2026, 2, 24)


@pytest.mark.parametrize("last", SWAPPED_WORKING_DAYS_2026, ids=str)
def test_a_swapped_working_day_at_the_weekend_is_not_moved(last):
    """R25 (民事诉讼法 第85条): a Saturday or Sunday worked in exchange for a holiday (调休上班) is a working day."""
    assert last.weekday() >= 5
    end = period_end(last - timedelta(days=10), 10)
    assert (end.last_day, end.provisional) == (last, False)


def test_a_year_the_package_does_not_know_counts_weekends_only_and_is_provisional():
    """R25 (民事诉讼法 第85条): for a year without published holidays, count weekends only and say so; never crash."""
    end = period_end(date(2031, 1, 1), 10)  # Saturday 11 January 2031
    assert (end.last_day, end.provisional) == (date(2031, 1, 13), True)
    weekday = period_end(date(2031, 9, 24), 7)  # 1 October 2031 is a Wednesday: not known as a holiday
    assert (weekday.last_day, weekday.provisional) == (date(2031, 10, 1), True)


def test_a_period_running_into_an_unknown_year_is_provisional():
    """R25 (民事诉讼法 第85条): a period that starts in a known year and ends in an unknown one is provisional."""
    year = max(d.year for d in chinese_calendar.holidays) + 1
    end = period_end(date(year - 1, 12, 25), 15)
    assert end.provisional is True
    assert is_working_day(date(year, 1, 5)) == (date(year, 1, 5).weekday() < 5, False)


def test_a_known_day_says_it_is_known():
    assert is_working_day(date(2026, 10, 1)) == (False, True)
    assert is_working_day(date(2026, 10, 10)) == (True, True)


def test_zero_days_ends_today_and_negative_days_are_refused():
    assert period_end(date(2026, 3, 2), 0).last_day == date(2026, 3, 2)
    with pytest.raises(ValueError):
        period_end(date(2026, 3, 2), -1)


def test_a_period_lapses_at_midnight_in_shanghai_after_its_last_day():
    """A period ending 17 March 2026 has run out at 18 March 00:00 Asia/Shanghai (16:00 UTC on the 17th)."""
    lapses = period_end(date(2026, 3, 2), 15).lapses_at
    assert lapses == datetime(2026, 3, 18, tzinfo=SHANGHAI)
    assert lapses.utcoffset() == timedelta(hours=8)
    assert start_of_day(date(2026, 3, 18)) == lapses


def test_the_local_date_of_an_instant_is_its_shanghai_date():
    """17:00 UTC on 1 March is 01:00 on 2 March in Asia/Shanghai."""
    assert local_date(datetime(2026, 3, 1, 17, 0, tzinfo=SHANGHAI).astimezone(SHANGHAI)) == date(2026, 3, 1)
    from datetime import UTC
    assert local_date(datetime(2026, 3, 1, 17, 0, tzinfo=UTC)) == date(2026, 3, 2)


def test_days_elapsed_excludes_the_starting_day_and_paused_days():
    assert days_elapsed(date(2026, 3, 2), date(2026, 3, 2)) == 0
    assert days_elapsed(date(2026, 3, 2), date(2026, 3, 17)) == 15
    assert days_elapsed(date(2026, 3, 2), date(2026, 3, 17), paused_days=6) == 9
    assert days_elapsed(date(2026, 3, 2), date(2026, 3, 4), paused_days=6) == 0
