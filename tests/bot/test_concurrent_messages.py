"""Two messages from one person handled at the same time, as two web processes would.

A person who writes three messages in a row reaches several web processes at once. The second
must wait for the first (its contact row is locked on PostgreSQL; SQLite has one writer) and
then see the case the first opened, not open a second one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import event, select

from bot.conversation import handle_inbound
from casework.intake import Inbound
from casework.models import Case, CaseStatus, Contact, Direction, Message, utcnow
from extensions import db
from services import services
from tests.bot.conftest import Person

TAB = "tab-concurrent"
WAIT_SECONDS = 10.0
OVERTAKE_SECONDS = 1.0  # long enough for an unblocked second message to finish first


def _inbound(number: int, text: str) -> Inbound:
    return Inbound(channel="simulator", address=TAB, external_id=f"{TAB}:{number}", text=text,
                   received_at=utcnow(), raw={"id": number})


def _handle(app: Flask, inbound: Inbound, before_commit: Callable[[], None] | None,
            failures: list[BaseException]) -> None:
    try:
        with app.app_context():
            if before_commit is not None:
                event.listen(db.session(), "before_commit", lambda _session: before_commit())
            svc = services()
            handle_inbound(db.session, inbound, svc.vault, svc.dialogue)
    except BaseException as error:  # reported by the test, not lost in the thread
        failures.append(error)


def _returning_contact(person: Callable[..., Person]) -> None:
    """Someone who wrote before and whose case is closed: their next message opens a case."""
    someone = person(TAB)
    someone.says("لم أستلم السلة الغذائية")
    contact = someone.contact  # reading it expires the session: before any change
    [case] = someone.cases
    case.status, case.closed_at = CaseStatus.CLOSED, utcnow()
    contact.dialogue_state = "idle"
    db.session.commit()


@pytest.mark.parametrize("second_text", ["وما حدا رد علينا", "1"], ids=["more-words", "a-digit"])
def test_a_second_message_waits_for_the_first_and_joins_its_case(
        app: Flask, person: Callable[..., Person], second_text: str) -> None:
    _returning_contact(person)
    first_flushed, release = threading.Event(), threading.Event()
    second_done = threading.Event()
    failures: list[BaseException] = []

    def hold_first_commit() -> None:
        first_flushed.set()
        release.wait(WAIT_SECONDS)

    first = threading.Thread(target=_handle, args=(
        app, _inbound(2, "المي مقطوعة بالمخيم من اسبوع"), hold_first_commit, failures))
    second = threading.Thread(target=lambda: (
        _handle(app, _inbound(3, second_text), None, failures), second_done.set()))
    first.start()
    assert first_flushed.wait(WAIT_SECONDS)
    second.start()
    overtook = second_done.wait(OVERTAKE_SECONDS)
    release.set()
    first.join(WAIT_SECONDS)
    second.join(WAIT_SECONDS)

    assert not failures, failures
    assert not overtook, "the second message did not wait for the first"
    db.session.expire_all()
    contact = db.session.scalars(select(Contact).where(
        Contact.pseudonym == services().vault.pseudonym("simulator", TAB))).one()
    open_cases = list(db.session.scalars(select(Case).where(
        Case.contact_id == contact.id, Case.status != CaseStatus.CLOSED)))
    assert len(open_cases) == 1
    inbound = db.session.scalars(select(Message.external_id).where(
        Message.case_id == open_cases[0].id, Message.direction == Direction.INBOUND))
    assert sorted(inbound) == [f"{TAB}:2", f"{TAB}:3"]
    acknowledgements = db.session.scalars(select(Message).where(
        Message.contact_id == contact.id, Message.kind == "ack",
        Message.case_id == open_cases[0].id))
    assert len(list(acknowledgements)) == 1
