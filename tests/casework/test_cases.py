"""Closing and reopening (casework.cases): a reopened case has no resolution, and the one
staff wrote before is kept in its history as a note by whoever closed it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from casework import accounts, cases
from casework.models import AuditEvent, Case, CaseStatus, Note, Role, User
from extensions import db

OPENED = datetime(2026, 3, 1, 8, tzinfo=UTC)
CLOSED = OPENED + timedelta(days=2)
REOPENED = OPENED + timedelta(days=5)


@pytest.fixture
def officer(app_context: None) -> User:
    return accounts.create_user(db.session, "officer@example.org", "correct horse battery",
                                Role.OFFICER)


@pytest.fixture
def other_officer(app_context: None) -> User:
    return accounts.create_user(db.session, "second@example.org", "correct horse battery",
                                Role.OFFICER)


@pytest.fixture
def case(app_context: None) -> Case:
    stored = Case(reference="0000013", channel="sms", status=CaseStatus.OPEN,
                  created_at=OPENED, due_at=OPENED + timedelta(days=15),
                  last_activity_at=OPENED)
    db.session.add(stored)
    db.session.commit()
    return stored


def _notes(case: Case) -> list[tuple[str, int | None, datetime]]:
    rows = db.session.scalars(select(Note).where(Note.case_id == case.id).order_by(Note.id))
    return [(note.body, note.author_id, note.created_at.replace(tzinfo=UTC)) for note in rows]


@pytest.mark.parametrize("reopened_by", ["closer", "someone-else"])
def test_reopening_keeps_the_resolution_as_the_closers_note(
        case: Case, officer: User, other_officer: User, reopened_by: str) -> None:
    cases.close(db.session, officer, case, "  Basket delivered on 3 March. ", CLOSED)
    reopener = officer if reopened_by == "closer" else other_officer
    cases.reopen(db.session, reopener, case, REOPENED)
    db.session.expire_all()
    stored = db.session.get_one(Case, case.id)
    assert (stored.status, stored.resolution, stored.closed_at) == (CaseStatus.OPEN, None, None)
    assert cases.resolution(db.session, stored) is None
    assert _notes(stored) == [("Basket delivered on 3 March.", officer.id, CLOSED)]
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "case.reopened")).one()
    assert event.actor == reopener.email
    assert event.details["resolution_note_id"] == _note_id(stored)


def _note_id(case: Case) -> int:
    return db.session.scalars(select(Note.id).where(Note.case_id == case.id)).one()


def test_closing_again_writes_a_new_resolution_and_keeps_both(case: Case,
                                                              officer: User) -> None:
    cases.close(db.session, officer, case, "First answer", CLOSED)
    cases.reopen(db.session, officer, case, REOPENED)
    cases.close(db.session, officer, case, "Second answer", REOPENED + timedelta(days=1))
    cases.reopen(db.session, officer, case, REOPENED + timedelta(days=2))
    db.session.expire_all()
    assert [body for body, _, _ in _notes(case)] == ["First answer", "Second answer"]
    body_order = [entry.item.body for entry in cases.timeline(db.session, case)
                  if entry.kind == "note"]
    assert body_order == ["First answer", "Second answer"]


@pytest.mark.parametrize("how", ["merged", "closed-by-a-user-since-removed"])
def test_nothing_written_or_no_closer_left(case: Case, officer: User, how: str) -> None:
    if how == "merged":
        target = Case(reference="0000021", channel="sms", status=CaseStatus.OPEN,
                      created_at=OPENED, due_at=OPENED + timedelta(days=15),
                      last_activity_at=OPENED)
        db.session.add(target)
        db.session.commit()
        cases.merge(db.session, officer, case, target.reference, CLOSED)
    else:
        cases.close(db.session, officer, case, "Answered by phone", CLOSED)
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "case.closed")).one()
        event.actor = "gone@example.org"
        db.session.commit()
    cases.reopen(db.session, officer, case, REOPENED)
    db.session.expire_all()
    expected = [] if how == "merged" else [("Answered by phone", None, CLOSED)]
    assert _notes(case) == expected
