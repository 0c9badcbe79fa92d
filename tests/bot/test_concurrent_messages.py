"""Work on one person's case done at the same time by two processes, as several web
processes do: each waits for the other (row locks on PostgreSQL; SQLite has one writer)
and then acts on what the other left, never on what it read before."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import event, select

from bot.conversation import handle_inbound
from casework import accounts, cases
from casework.intake import Inbound
from casework.models import (
    AuditEvent,
    Case,
    CaseStatus,
    Contact,
    Direction,
    Message,
    Role,
    User,
    utcnow,
)
from extensions import db
from services import services
from tests.bot.conftest import Person

TAB = "tab-concurrent"
WAIT_SECONDS = 10.0
OVERTAKE_SECONDS = 1.0  # long enough for a second transaction that is not blocked to finish


def _inbound(number: int, text: str) -> Inbound:
    return Inbound(channel="simulator", address=TAB, external_id=f"{TAB}:{number}", text=text,
                   received_at=utcnow(), raw={"id": number})


def _in_thread(app: Flask, work: Callable[[], object], failures: list[BaseException],
               before_commit: Callable[[], None] | None = None) -> threading.Thread:
    def run() -> None:
        try:
            with app.app_context():
                if before_commit is not None:  # its writes flushed: their row locks held
                    event.listen(db.session(), "before_commit",
                                 lambda session: (session.flush(), before_commit()))
                work()
        except BaseException as error:  # reported by the test, not lost in the thread
            failures.append(error)

    return threading.Thread(target=run)


def _message(inbound: Inbound) -> Callable[[], object]:
    def work() -> object:
        svc = services()
        return handle_inbound(db.session, inbound, svc.vault, svc.dialogue)
    return work


@contextmanager
def _first_holds_its_commit(app: Flask, first: Callable[[], object],
                            second: Callable[[], object]) -> Iterator[list[BaseException]]:
    """Run ``first`` up to its commit and hold it there while ``second`` starts; the second
    must not finish before the first is let go. Yields the threads' failures once both end."""
    flushed, release, second_done = threading.Event(), threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def hold() -> None:
        flushed.set()
        release.wait(WAIT_SECONDS)

    def second_then_done() -> None:
        second()
        second_done.set()

    one = _in_thread(app, first, failures, before_commit=hold)
    two = _in_thread(app, second_then_done, failures)
    one.start()
    assert flushed.wait(WAIT_SECONDS)
    two.start()
    overtook = second_done.wait(OVERTAKE_SECONDS)
    release.set()
    one.join(WAIT_SECONDS)
    two.join(WAIT_SECONDS)
    assert not overtook, "the second did not wait for the first"
    yield failures


def _contact() -> Contact:
    db.session.expire_all()
    return db.session.scalars(select(Contact).where(
        Contact.pseudonym == services().vault.pseudonym("simulator", TAB))).one()


def _open_cases(contact: Contact) -> list[Case]:
    return list(db.session.scalars(select(Case).where(
        Case.contact_id == contact.id, Case.status != CaseStatus.CLOSED)))


def _inbound_ids(case: Case) -> list[str]:
    return sorted(db.session.scalars(select(Message.external_id).where(
        Message.case_id == case.id, Message.direction == Direction.INBOUND)))


def _acknowledgements(case: Case) -> int:
    return len(list(db.session.scalars(select(Message.id).where(
        Message.case_id == case.id, Message.kind == "ack"))))


def _wrote_before(person: Callable[..., Person], *, close_it: bool) -> Case:
    """Someone who wrote before (their case closed, or open); no question pending."""
    someone = person(TAB)
    someone.says("لم أستلم السلة الغذائية")
    contact = someone.contact  # reading it expires the session: before any change
    [case] = someone.cases
    if close_it:
        case.status, case.closed_at = CaseStatus.CLOSED, utcnow()
    contact.dialogue_state = "idle"
    db.session.commit()
    return case


@pytest.mark.parametrize("second_text", ["وما حدا رد علينا", "1"], ids=["more-words", "a-digit"])
def test_a_second_message_waits_for_the_first_and_joins_its_case(
        app: Flask, person: Callable[..., Person], second_text: str) -> None:
    _wrote_before(person, close_it=True)
    with _first_holds_its_commit(app, _message(_inbound(2, "المي مقطوعة بالمخيم من اسبوع")),
                                 _message(_inbound(3, second_text))) as failures:
        pass
    assert not failures, failures
    [case] = _open_cases(_contact())
    assert _inbound_ids(case) == [f"{TAB}:2", f"{TAB}:3"]
    assert _acknowledgements(case) == 1


def test_a_message_while_an_officer_closes_the_case_opens_a_new_one(
        app: Flask, person: Callable[..., Person]) -> None:
    earlier = _wrote_before(person, close_it=False)
    officer = accounts.create_user(db.session, "officer@example.org", "a long enough password 1",
                                   Role.OFFICER)
    officer_id, case_id = officer.id, earlier.id

    def close() -> None:
        actor = db.session.get_one(User, officer_id)
        cases.close(db.session, actor, db.session.get_one(Case, case_id), "Answered.", utcnow())

    with _first_holds_its_commit(app, close,
                                 _message(_inbound(2, "وكمان ما وصلنا الطحين"))) as failures:
        pass
    assert not failures, failures
    closed = db.session.get_one(Case, case_id)
    db.session.refresh(closed)
    assert closed.status == CaseStatus.CLOSED
    assert _inbound_ids(closed) == [f"{TAB}:m1"]  # the message did not go into a closed case
    [new_case] = _open_cases(_contact())
    assert _inbound_ids(new_case) == [f"{TAB}:2"]
    assert _acknowledgements(new_case) == 1


def test_two_officers_closing_at_once_close_it_once(
        app: Flask, person: Callable[..., Person]) -> None:
    case_id = _wrote_before(person, close_it=False).id
    officer_ids = [accounts.create_user(db.session, f"officer{n}@example.org",
                                        "a long enough password 1", Role.OFFICER).id
                   for n in (1, 2)]
    refusals: list[str] = []

    def close_as(officer_id: int, resolution: str) -> Callable[[], None]:
        def close() -> None:
            actor = db.session.get_one(User, officer_id)
            try:
                cases.close(db.session, actor, db.session.get_one(Case, case_id), resolution,
                            utcnow())
            except cases.CaseActionRefused as refused:
                refusals.append(refused.reason)
        return close

    with _first_holds_its_commit(app, close_as(officer_ids[0], "Answered by the first."),
                                 close_as(officer_ids[1], "Answered by the second.")
                                 ) as failures:
        pass
    assert not failures, failures
    assert refusals == ["already_closed"]
    closed = db.session.get_one(Case, case_id)
    db.session.refresh(closed)
    assert closed.resolution == "Answered by the first."
    closings = db.session.scalars(select(AuditEvent.id).where(
        AuditEvent.case_id == case_id, AuditEvent.action == "case.closed"))
    assert len(list(closings)) == 1
