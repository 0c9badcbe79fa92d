"""Key performance indicators, computed once here for the console, the API and reports.

Definitions (dates are whole UTC days, both ends included):
- received: cases created in the period; by channel and by level ("untriaged" if none);
- closed: cases closed in the period; within deadline: of those, closed_at <= due_at;
- days to close: (closed_at - created_at) in days for cases closed in the period — mean and
  median; None when nothing closed (never 0, never an error);
- open / overdue: cases not closed at the end of the period / of those, due before it ended.
Only counts and durations leave this module: no case content, so sensitive cases appear as
numbers only.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.models import Case, CaseStatus

SECONDS_PER_DAY = 86400


@dataclass(frozen=True)
class KpiReport:
    start: date
    end: date
    received: int
    received_by_channel: dict[str, int]
    received_by_level: dict[str, int]
    closed: int
    closed_within_deadline: int
    closed_within_deadline_share: float | None
    mean_days_to_close: float | None
    median_days_to_close: float | None
    open: int
    overdue: int


def kpis(session: Session, start: date, end: date) -> KpiReport:
    begin, finish = _bounds(start, end)
    created = (Case.created_at >= begin) & (Case.created_at < finish)
    closed_in = (Case.closed_at >= begin) & (Case.closed_at < finish)
    by_channel = dict(session.execute(
        select(Case.channel, func.count()).where(created).group_by(Case.channel)).all())
    by_level = {
        str(level) if level is not None else "untriaged": count
        for level, count in session.execute(
            select(Case.level, func.count()).where(created).group_by(Case.level)).all()
    }
    closures = session.execute(select(Case.created_at, Case.closed_at, Case.due_at)
                               .where(closed_in)).all()
    days = [(closed - opened).total_seconds() / SECONDS_PER_DAY
            for opened, closed, _due in closures]
    within = sum(1 for _opened, closed, due in closures if closed <= due)
    still_open = (Case.created_at < finish) & (
        (Case.status != CaseStatus.CLOSED) | (Case.closed_at >= finish))
    open_count = session.scalar(select(func.count()).select_from(Case).where(still_open)) or 0
    overdue = session.scalar(select(func.count()).select_from(Case)
                             .where(still_open, Case.due_at < min(finish, _now()))) or 0
    return KpiReport(
        start=start, end=end, received=sum(by_channel.values()),
        received_by_channel=by_channel, received_by_level=by_level, closed=len(closures),
        closed_within_deadline=within,
        closed_within_deadline_share=round(within / len(closures), 4) if closures else None,
        mean_days_to_close=round(statistics.fmean(days), 2) if days else None,
        median_days_to_close=round(statistics.median(days), 2) if days else None,
        open=open_count, overdue=overdue,
    )


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    if end < start:
        raise ValueError("the period ends before it starts")
    begin = datetime.combine(start, time.min, tzinfo=UTC)
    return begin, datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC)
