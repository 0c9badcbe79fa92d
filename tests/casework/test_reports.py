"""KPIs on a hand-built set of cases whose answers are worked out by hand below."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from casework.models import Case, CaseStatus
from casework.reports import kpis
from extensions import db


def _at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def cases(app_context: None) -> None:
    rows = [
        # reference, channel, level, created, closed, due
        ("0000001", "sms", 1, _at(1), _at(3), _at(1) + timedelta(days=15)),    # 2 days, in time
        ("0000002", "telegram", 2, _at(2), _at(6), _at(2) + timedelta(days=15)),  # 4 days
        ("0000003", "telegram", 5, _at(4), _at(10), _at(4) + timedelta(hours=72)),  # 6 d, late
        ("0000004", "whatsapp", None, _at(5), None, _at(5) + timedelta(days=15)),  # open
        ("0000005", "sms", 3, _at(20), None, _at(20) - timedelta(days=1)),  # open, overdue
        ("0000006", "sms", 1, datetime(2026, 2, 27, tzinfo=UTC), _at(2),
         datetime(2026, 3, 14, tzinfo=UTC)),  # created before the period, closed in it: 3.5 d
    ]
    for reference, channel, level, created, closed, due in rows:
        db.session.add(Case(reference=reference, channel=channel, level=level,
                            status=CaseStatus.CLOSED if closed else CaseStatus.OPEN,
                            created_at=created, closed_at=closed, due_at=due,
                            last_activity_at=created))
    db.session.commit()


def test_march_by_hand(cases: None) -> None:
    report = kpis(db.session, date(2026, 3, 1), date(2026, 3, 31))
    assert report.received == 5  # 0000006 was received in February
    assert report.received_by_channel == {"sms": 2, "telegram": 2, "whatsapp": 1}
    assert report.received_by_level == {"1": 1, "2": 1, "5": 1, "untriaged": 1, "3": 1}
    assert report.closed == 4
    assert report.closed_within_deadline == 3  # 0000003 took 6 days against 72 hours
    assert report.closed_within_deadline_share == 0.75
    # days to close: 2, 4, 6 and 3.5 → mean 3.875, median (3.5 + 4) / 2 = 3.75
    assert report.mean_days_to_close == 3.88 and report.median_days_to_close == 3.75
    # both open cases were past due when March ended (0000004 was due on the 20th)
    assert report.open == 2 and report.overdue == 2


@pytest.mark.parametrize(
    ("start", "end", "received", "closed"),
    [
        pytest.param(date(2026, 3, 3), date(2026, 3, 3), 0, 1, id="one-day-edge"),
        pytest.param(date(2026, 3, 20), date(2026, 3, 20), 1, 0, id="created-on-last-day"),
        pytest.param(date(2026, 2, 1), date(2026, 2, 28), 1, 0, id="february"),
    ],
)
def test_period_edges(cases: None, start: date, end: date, received: int, closed: int) -> None:
    report = kpis(db.session, start, end)
    assert (report.received, report.closed) == (received, closed)


def test_nothing_closed_gives_no_data_not_zero(cases: None) -> None:
    report = kpis(db.session, date(2026, 1, 1), date(2026, 1, 31))
    assert report.closed == 0
    assert report.closed_within_deadline_share is None
    assert report.mean_days_to_close is None and report.median_days_to_close is None


def test_period_ending_before_it_starts_is_an_error(app_context: None) -> None:
    with pytest.raises(ValueError, match="ends before"):
        kpis(db.session, date(2026, 3, 2), date(2026, 3, 1))
