"""Closing and reopening (casework.cases): a reopened case has no resolution, and the one
staff wrote before is kept in its history as a note by whoever closed it. Whether staff have
acted on a case Sawti opened by itself (``touched_by_staff``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from casework import accounts, audit, cases
from casework.models import (
    AuditEvent,
    Case,
    CaseStatus,
    Contact,
    DeliveryStatus,
    Direction,
    Message,
    Note,
    Referral,
    Role,
    User,
)
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


# --- whether staff have acted on a case Sawti opened by itself ----------------------------

@pytest.fixture
def missed_call_case(app_context: None) -> Case:
    """New and ungraded, as the voice line opens a case for someone it could not call back;
    its only message is the call-back that failed."""
    contact = Contact(channel="voice", pseudonym="p-voice-1", address_encrypted="x",
                      language="ar")
    case = Case(reference="0000039", contact=contact, channel="voice", status=CaseStatus.NEW,
                created_at=OPENED, due_at=OPENED + timedelta(days=15), last_activity_at=OPENED)
    db.session.add_all([case, Message(
        contact=contact, case=case, direction=Direction.OUTBOUND, channel="voice",
        kind="callback", body="", status=DeliveryStatus.FAILED, created_at=OPENED)])
    audit.record(db.session, "case.created", case=case, channel="voice")
    db.session.commit()
    return case


def _event(action: str, actor: str = "officer", **details: object
           ) -> Callable[[Case, User], None]:
    def record(case: Case, officer: User) -> None:
        who = cases.actor_name(officer) if actor == "officer" else actor
        audit.record(db.session, action, case=case, actor=who, **details)
    return record


def _assigned(case: Case, officer: User) -> None:
    case.assignee_id = officer.id


def _referred(case: Case, officer: User) -> None:
    db.session.add(Referral(case=case, to_user_id=officer.id, created_by_id=officer.id,
                            message="يرجى المتابعة", due_at=REOPENED, created_at=CLOSED))


def _noted(case: Case, officer: User) -> None:
    db.session.add(Note(case=case, author_id=officer.id, body="اتصلت ولم يرد", created_at=CLOSED))


def _replied(case: Case, officer: User) -> None:
    db.session.add(Message(contact=case.contact, case=case, direction=Direction.OUTBOUND,
                           channel="voice", kind="reply", body="سنتصل بك غداً",
                           status=DeliveryStatus.QUEUED, created_at=CLOSED))


def _graded(case: Case, officer: User) -> None:
    case.level = 2


def _status(status: CaseStatus) -> Callable[[Case, User], None]:
    def change(case: Case, officer: User) -> None:
        case.status = status
    return change


def _closed_by_sawti_on_reaching_the_caller(case: Case, officer: User) -> None:
    case.status, case.closed_at = CaseStatus.CLOSED, CLOSED
    audit.record(db.session, "case.closed", case=case, caller_reached=True,
                 status=["new", "closed"])


def _reopened_by_staff_after_sawti_closed_it(case: Case, officer: User) -> None:
    _closed_by_sawti_on_reaching_the_caller(case, officer)
    cases.reopen_in_transaction(db.session, case, REOPENED, actor=cases.actor_name(officer))


def _by_a_user_since_disabled(case: Case, officer: User) -> None:
    _event("case.triaged", changes={"category": [None, "distribution"]})(case, officer)
    officer.active = False


# Each row is one kind of touch, done alone in the data: whether it counts.
TOUCHES = [
    pytest.param(lambda case, officer: None, False, id="untouched"),
    pytest.param(_assigned, True, id="assigned"),
    pytest.param(_referred, True, id="referral"),
    pytest.param(_noted, True, id="note"),
    pytest.param(_replied, True, id="officer-reply"),
    pytest.param(_graded, True, id="level-given"),
    pytest.param(_status(CaseStatus.OPEN), True, id="status-open"),
    pytest.param(_status(CaseStatus.REFERRED), True, id="status-referred"),
    pytest.param(_status(CaseStatus.CLOSED), True, id="status-closed-not-by-sawti"),
    pytest.param(_closed_by_sawti_on_reaching_the_caller, False,
                 id="closed-by-sawti-on-reaching-the-caller"),
    pytest.param(_reopened_by_staff_after_sawti_closed_it, True,
                 id="reopened-by-staff-after-sawti-closed-it"),
    pytest.param(_event("contact.revealed"), True, id="audit-event-by-a-user"),
    pytest.param(_event("case.viewed"), False, id="only-viewed-by-a-user"),
    pytest.param(_event("document.downloaded"), False, id="only-a-download-by-a-user"),
    pytest.param(_event("voice.callback_queued", actor="system"), False,
                 id="audit-event-by-the-system"),
    pytest.param(_event("case.flagged_urgent", actor="triage-assistant"), False,
                 id="audit-event-by-the-triage-assistant"),
    pytest.param(_by_a_user_since_disabled, True, id="audit-event-by-a-user-since-disabled"),
]


@pytest.mark.parametrize(("touch", "touched"), TOUCHES)
def test_touched_by_staff(missed_call_case: Case, officer: User,
                          touch: Callable[[Case, User], None], touched: bool) -> None:
    touch(missed_call_case, officer)
    db.session.commit()
    db.session.expire_all()
    assert cases.touched_by_staff(db.session, missed_call_case) is touched


def test_a_user_whose_email_the_audit_trail_cut_short_is_still_staff(
        missed_call_case: Case) -> None:
    long_email = "a.very.long.name.of.an.accountability.officer@field-office.example.org"
    assert len(long_email) > cases.ACTOR_LENGTH
    officer = accounts.create_user(db.session, long_email, "correct horse battery",
                                   Role.OFFICER)
    _event("contact.revealed")(missed_call_case, officer)
    db.session.commit()
    assert cases.touched_by_staff(db.session, missed_call_case) is True
