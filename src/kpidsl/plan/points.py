"""Schedules: which point of a yearly schedule is the most recent on a date. Shared by every
engine (the SQL engines receive the points as columns of their as-of dates)."""

from __future__ import annotations

import datetime as dt

import attrs
from dateutil.relativedelta import relativedelta

from kpidsl.classes import fields_methods
from kpidsl.language import ast


@attrs.frozen
@fields_methods
class PointValue:
    """The most recent point of a schedule: its label, its date and its year."""

    label: str
    date: dt.date
    year_start: dt.date
    year_end: dt.date


def _day(year: int, month: int, day: int) -> dt.date:
    """A day of a year; 29 February is 28 February in a year without it."""
    return dt.date(year, month, 1) + relativedelta(day=day)


def current_point(schedule: ast.Schedule, as_of: dt.date) -> PointValue | None:
    """The schedule's most recent point on or before ``as_of``.

    A year starts on the schedule's start day; its first point is the first such day on or
    after the start, each later point the first such day after the one before (so R14 on 31
    October follows R12 on 31 July into the next calendar year)."""
    best: PointValue | None = None
    for year in range(max(dt.MINYEAR, as_of.year - 2), min(dt.MAXYEAR - 1, as_of.year) + 1):
        try:
            start = _day(year, schedule.start_month, schedule.start_day)
            end = _day(year + 1, schedule.start_month, schedule.start_day) - dt.timedelta(days=1)
            previous = start - dt.timedelta(days=1)
            for p in schedule.points:
                day = _day(previous.year, p.month, p.day)
                if day <= previous:
                    day = _day(previous.year + 1, p.month, p.day)
                previous = day
                if day <= as_of and (best is None or day > best.date):
                    best = PointValue(p.label, day, start, end)
        except (OverflowError, ValueError):
            continue  # a year, or its points, reaching outside years 1 to 9999: not there
    return best
