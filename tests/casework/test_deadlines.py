"""Deadlines: from the grid by level, from the first message, and calendar days in the
organisation's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.conversation import handle_inbound
from casework import accounts, cases, deadlines
from casework.intake import Inbound
from casework.models import AuditEvent, Case, Role, User
from extensions import db
from services import services

HOUR = timedelta(hours=1)
FIRST_MESSAGE = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def officer(app_context: None) -> User:
    return accounts.create_user(db.session, "officer@example.org", "correct horse battery",
                                Role.OFFICER)


def _case_from_message(received_at: datetime, external_id: str = "m1") -> Case:
    svc = services()
    inbound = Inbound(channel="simulator", address=f"tab-{external_id}",
                      external_id=external_id, text="لم أستلم السلة الغذائية",
                      received_at=received_at)
    handled = handle_inbound(db.session, inbound, svc.vault, svc.dialogue)
    return db.session.scalars(select(Case).where(Case.reference == handled.case_reference)
                              ).one()


def test_the_clock_starts_at_the_first_message_with_the_untriaged_deadline(
        app_context: None) -> None:
    case = _case_from_message(FIRST_MESSAGE)
    assert case.created_at == FIRST_MESSAGE
    assert case.due_at == FIRST_MESSAGE + 360 * HOUR  # untriaged_deadline_hours in grid.yaml


@pytest.mark.parametrize(("levels", "hours"), [
    pytest.param([5, 2, 5], [72, 360, 72], id="sensitive-then-programme-then-sensitive"),
    pytest.param([1, 4], [360, 360], id="programme-levels-keep-15-days"),
    pytest.param([3, 5], [360, 72], id="escalated-to-sensitive"),
])
def test_each_level_change_recomputes_the_deadline_from_the_first_message(
        officer: User, levels: list[int], hours: list[int]) -> None:
    case = _case_from_message(FIRST_MESSAGE)
    org = services().org_data
    now = FIRST_MESSAGE + 5 * HOUR
    for level, expected in zip(levels, hours, strict=True):
        cases.triage(db.session, officer, case, {"level": level}, now, org_data=org)
        assert case.due_at == FIRST_MESSAGE + expected * HOUR
        assert case.due_at == deadlines.due_at(case.created_at, level, org.grid)
        now += HOUR


def test_the_history_keeps_the_old_and_the_new_deadline(officer: User) -> None:
    case = _case_from_message(FIRST_MESSAGE)
    org = services().org_data
    for level in (5, 2, 5):
        cases.triage(db.session, officer, case, {"level": level}, FIRST_MESSAGE + HOUR,
                     org_data=org)
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.case_id == case.id, AuditEvent.action == "case.triaged")
        .order_by(AuditEvent.id)).all()
    dues = [event.details["changes"]["due_at"] for event in events]
    d15, d3 = (FIRST_MESSAGE + 360 * HOUR).isoformat(), (FIRST_MESSAGE + 72 * HOUR).isoformat()
    # 5 from untriaged (15 days) → 3 days; 2 → back to 15 days; 5 → 3 days again.
    assert dues == [[d15, d3], [d3, d15], [d15, d3]]
    assert [event.details["changes"]["level"] for event in events] == [
        [None, 5], [5, 2], [2, 5]]


def test_a_level_change_keeping_the_deadline_records_no_due_change(officer: User) -> None:
    case = _case_from_message(FIRST_MESSAGE)
    org = services().org_data
    cases.triage(db.session, officer, case, {"level": 2}, FIRST_MESSAGE, org_data=org)
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "case.triaged")).one()
    assert "due_at" not in event.details["changes"] and case.due_at == FIRST_MESSAGE + 360 * HOUR


# --- calendar days where the organisation works ---------------------------------------------

DUE = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)


@pytest.mark.parametrize(("zone", "now", "today"), [
    # 22:30 UTC on 1 December is 01:30 on 2 December in Damascus (UTC+3).
    pytest.param("Asia/Damascus", datetime(2026, 12, 2, 6, 0, tzinfo=UTC), True,
                 id="damascus-next-morning-is-the-due-day"),
    pytest.param("UTC", datetime(2026, 12, 2, 6, 0, tzinfo=UTC), False,
                 id="utc-next-morning-is-past-the-due-day"),
    pytest.param("UTC", datetime(2026, 12, 1, 8, 0, tzinfo=UTC), True, id="utc-same-day"),
    pytest.param("Asia/Damascus", datetime(2026, 12, 1, 8, 0, tzinfo=UTC), False,
                 id="damascus-the-day-before"),
    pytest.param("America/New_York", datetime(2026, 12, 1, 23, 0, tzinfo=UTC), True,
                 id="new-york-evening"),
])
def test_due_today_is_a_local_day(zone: str, now: datetime, today: bool) -> None:
    assert deadlines.due_today(DUE, now, zone) is today


@pytest.mark.parametrize(("zone", "now", "days"), [
    pytest.param("Asia/Damascus", datetime(2026, 11, 29, 21, 30, tzinfo=UTC), 2,
                 id="damascus-after-local-midnight"),
    pytest.param("UTC", datetime(2026, 11, 29, 21, 30, tzinfo=UTC), 2, id="utc"),
    pytest.param("Asia/Damascus", datetime(2026, 11, 29, 20, 30, tzinfo=UTC), 3,
                 id="damascus-before-local-midnight"),
    pytest.param("Asia/Damascus", datetime(2026, 12, 3, 6, 0, tzinfo=UTC), -1,
                 id="overdue-since-yesterday"),
])
def test_days_left_counts_local_calendar_days(zone: str, now: datetime, days: int) -> None:
    assert deadlines.days_left(DUE, now, zone) == days


@pytest.mark.parametrize(("zone", "now", "end"), [
    pytest.param("Asia/Damascus", datetime(2026, 12, 1, 5, 0, tzinfo=UTC),
                 datetime(2026, 12, 4, 21, 0, tzinfo=UTC), id="damascus-utc-plus-3"),
    pytest.param("UTC", datetime(2026, 12, 1, 5, 0, tzinfo=UTC),
                 datetime(2026, 12, 5, 0, 0, tzinfo=UTC), id="utc"),
    # Europe/Berlin leaves summer time on 25 October 2026: the window's end is in winter time.
    pytest.param("Europe/Berlin", datetime(2026, 10, 23, 6, 0, tzinfo=UTC),
                 datetime(2026, 10, 26, 23, 0, tzinfo=UTC), id="across-a-clock-change"),
])
def test_the_window_of_the_next_three_days_ends_at_local_midnight(
        zone: str, now: datetime, end: datetime) -> None:
    assert deadlines.window_end(now, zone, 3) == end


def test_day_start_is_local_midnight_in_utc() -> None:
    assert deadlines.day_start(date(2026, 12, 1), "Asia/Damascus") == datetime(
        2026, 11, 30, 21, 0, tzinfo=UTC)
    assert deadlines.local_hour(datetime(2026, 12, 1, 4, 0, tzinfo=UTC), "Asia/Damascus") == 7
