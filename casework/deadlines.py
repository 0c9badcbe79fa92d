"""When a case is due, and what "today" and "the next days" mean where the organisation works.

A case's clock starts at its first inbound message (``Case.created_at``); its deadline is the
grid's deadline for its level (the untriaged deadline until it is graded). Deadlines are kept
in UTC; calendar questions — is it due today, which cases fall in this morning's digest, is it
morning yet — are answered in the organisation's time zone (``SAWTI_TIMEZONE``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from config.data import Grid


def due_at(started: datetime, level: int | None, grid: Grid) -> datetime:
    """The deadline of a case started at ``started`` and graded ``level`` (None: untriaged)."""
    return started + grid.deadline_for(level)


def local_date(moment: datetime, timezone: str) -> date:
    """The calendar day ``moment`` falls on where the organisation works."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def local_hour(moment: datetime, timezone: str) -> int:
    return moment.astimezone(ZoneInfo(timezone)).hour


def day_start(day: date, timezone: str) -> datetime:
    """Local midnight at the start of ``day``, in UTC (time-zone changes included)."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def due_today(due: datetime, now: datetime, timezone: str) -> bool:
    return local_date(due, timezone) == local_date(now, timezone)


def days_left(due: datetime, now: datetime, timezone: str) -> int:
    """Calendar days from today to the due day (0 today, 1 tomorrow, negative when past)."""
    return (local_date(due, timezone) - local_date(now, timezone)).days


def window_end(now: datetime, timezone: str, days_ahead: int) -> datetime:
    """The end of the ``days_ahead``-th local day after today (exclusive), in UTC: cases due
    before it are due today or within the next ``days_ahead`` days."""
    return day_start(local_date(now, timezone) + timedelta(days=days_ahead + 1), timezone)
