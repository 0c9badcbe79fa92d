"""The satisfaction survey: sent once per closure after a reply went out, answered in the
dialogue (digits, Arabic-Indic digits, words), an answer of 3 offering to reopen the case.

The person writes through the simulator webhook; the officer's reply goes out through the
dispatcher; the survey job runs with an explicit ``now``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from bot.states import State
from casework import accounts, cases, replies, scheduler, survey
from casework.models import (
    AuditEvent,
    Case,
    CaseStatus,
    Contact,
    DeliveryStatus,
    Direction,
    Message,
    Role,
    User,
    utcnow,
)
from channels.dispatcher import Dispatcher
from extensions import db
from services import services

COMPLAINT = "لم أستلم السلة الغذائية هذا الشهر"


class Person:
    """A beneficiary on the simulator, and what the bot queued for them."""

    def __init__(self, simulate: Callable[..., TestResponse], tab: str) -> None:
        self.simulate, self.tab, self.seen = simulate, tab, 0

    def says(self, text: str) -> list[str]:
        response = self.simulate(text, tab=self.tab)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [message.kind for message in self.new_messages()]

    def new_messages(self) -> list[Message]:
        found = list(db.session.scalars(
            select(Message).where(Message.contact_id == self.contact.id,
                                  Message.direction == Direction.OUTBOUND,
                                  Message.id > self.seen).order_by(Message.id)))
        if found:
            self.seen = found[-1].id
        return found

    @property
    def contact(self) -> Contact:
        db.session.expire_all()
        pseudonym = services().vault.pseudonym("simulator", self.tab)
        return db.session.scalars(select(Contact).where(Contact.pseudonym == pseudonym)).one()

    @property
    def cases(self) -> list[Case]:
        return list(db.session.scalars(
            select(Case).where(Case.contact_id == self.contact.id).order_by(Case.id)))


@pytest.fixture
def officer(app_context: None) -> User:
    return accounts.create_user(db.session, "officer@example.org", "correct horse battery",
                                Role.OFFICER)


@pytest.fixture
def person(app_context: None, simulate: Callable[..., TestResponse]) -> Person:
    someone = Person(simulate, "tab-survey-0001")
    assert someone.says(COMPLAINT) == ["ack", "question"]
    assert someone.says("1") == ["question"]  # governorate
    assert someone.says("1") == ["confirmation"]  # consent: the dialogue is idle again
    return someone


def answer_and_close(person: Person, officer: User, dispatcher: Dispatcher, *,
                     reply: bool = True, deliver: bool = True) -> Case:
    case = person.cases[-1]
    if reply:
        replies.queue_reply(db.session, case, "وصلت السلة إلى مركز التوزيع، تفضل باستلامها",
                            actor=officer.email, now=utcnow())
    if deliver:
        dispatcher.run_once()
    cases.close(db.session, officer, case, "The basket was delivered.", utcnow())
    person.new_messages()  # the reply itself
    return case


def send_surveys(now_offset: timedelta = timedelta(0)) -> int:
    return scheduler.send_surveys(db.session, services(), utcnow() + now_offset)


@pytest.fixture
def surveyed(person: Person, officer: User, dispatcher: Dispatcher) -> Case:
    case = answer_and_close(person, officer, dispatcher)
    assert send_surveys() == 1
    [question] = person.new_messages()
    assert question.kind == "survey" and case.reference in (question.body or "")
    assert question.case_id == case.id and question.language == "ar"
    assert person.contact.dialogue_state == State.AWAITING_SURVEY
    return case


def _satisfaction(case: Case) -> int | None:
    db.session.expire_all()
    return db.session.get(Case, case.id).satisfaction


# --- answering ----------------------------------------------------------------------------


@pytest.mark.parametrize(("answer", "stored"), [
    pytest.param("1", 1, id="satisfied"),
    pytest.param("٢", 2, id="partly-arabic-indic-digit"),
    pytest.param("۱", 1, id="eastern-arabic-indic-digit"),
    pytest.param("راضي", 1, id="satisfied-in-words"),
    pytest.param("نوعاً ما", 2, id="partly-in-words"),
    pytest.param("2.", 2, id="digit-with-punctuation"),
])
def test_an_answer_is_stored_and_thanked_without_opening_a_case(
        person: Person, surveyed: Case, answer: str, stored: int) -> None:
    assert person.says(answer) == ["survey_thanks"]
    assert _satisfaction(surveyed) == stored
    assert len(person.cases) == 1 and person.cases[0].status == CaseStatus.CLOSED
    assert person.contact.dialogue_state == State.IDLE
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "case.satisfaction")).one()
    assert event.case_id == surveyed.id and event.details["satisfaction"] == [None, stored]
    answer_message = db.session.scalars(select(Message).where(
        Message.direction == Direction.INBOUND).order_by(Message.id.desc())).first()
    assert answer_message.case_id == surveyed.id  # in the closed case's timeline


def test_not_satisfied_then_yes_reopens_the_case(person: Person, surveyed: Case) -> None:
    assert person.says("3") == ["survey_reopen_offer"]
    assert _satisfaction(surveyed) == 3
    assert person.contact.dialogue_state == State.AWAITING_REOPEN
    assert person.says("1") == ["survey_reopened"]
    db.session.expire_all()
    case = db.session.get(Case, surveyed.id)
    assert case.status == CaseStatus.OPEN and case.closed_at is None
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "case.reopened")).one()
    assert event.actor == "system" and event.details["reason"] == "survey"
    # The reopened case takes the person's next message.
    assert person.says("وما زلت بلا سلة") == ["added"]
    assert len(person.cases) == 1


@pytest.mark.parametrize("no", ["2", "لا", "٢"])
def test_not_satisfied_then_no_leaves_it_closed(person: Person, surveyed: Case, no: str
                                                ) -> None:
    person.says("غير راضي")
    assert person.says(no) == ["survey_closed"]
    assert person.cases[0].status == CaseStatus.CLOSED and _satisfaction(surveyed) == 3
    assert person.contact.dialogue_state == State.IDLE


def test_something_else_after_not_satisfied_is_a_new_message(person: Person,
                                                             surveyed: Case) -> None:
    person.says("3")
    assert person.says("السلة الجاية كمان ما وصلت") == ["ack"]
    assert [case.status for case in person.cases] == [CaseStatus.CLOSED, CaseStatus.NEW]
    assert person.cases[0].status == CaseStatus.CLOSED


@pytest.mark.parametrize(("text", "kinds", "cases"), [
    pytest.param("والسلة الجاية كمان ما وصلت", ["ack"], 2, id="a-new-complaint"),
    # Thanks alone is answered in kind: a new case (and deadline) for it would be absurd.
    pytest.param("شكراً إلكم", ["courtesy"], 1, id="thanks"),
    pytest.param("ok", ["courtesy"], 1, id="ok"),
])
def test_a_message_that_is_no_answer_is_handled_as_today(
        person: Person, surveyed: Case, text: str, kinds: list[str], cases: int) -> None:
    assert person.says(text) == kinds  # a new case: location and consent are known
    assert _satisfaction(surveyed) is None
    assert len(person.cases) == cases and person.contact.dialogue_state == State.IDLE


@pytest.mark.parametrize("reply_age", [timedelta(0), timedelta(days=4)],
                         ids=["reply-just-sent", "reply-older-than-the-attach-window"])
def test_not_understanding_while_the_survey_waits_still_opens_a_case(
        person: Person, surveyed: Case, reply_age: timedelta) -> None:
    # A question of ours waits: «ما فهمت» is not about nothing, and an officer sees it.
    reply = db.session.scalars(select(Message).where(Message.kind == "reply")).one()
    reply.created_at = utcnow() - reply_age
    db.session.commit()
    assert person.says("ما فهمت") == ["ack"]
    assert len(person.cases) == 2 and _satisfaction(surveyed) is None


@pytest.mark.parametrize("slip", ["4", "٩", "0"])
def test_a_number_that_is_no_answer_asks_again(person: Person, surveyed: Case,
                                              slip: str) -> None:
    assert person.says(slip) == ["question"]  # not a new case for a mistyped digit
    assert len(person.cases) == 1 and _satisfaction(surveyed) is None
    assert person.contact.dialogue_state == State.AWAITING_SURVEY
    assert person.says("2") == ["survey_thanks"]
    assert _satisfaction(surveyed) == 2


def test_a_status_query_keeps_the_survey_open(person: Person, surveyed: Case) -> None:
    assert person.says(surveyed.reference) == ["status"]
    assert person.says("1") == ["survey_thanks"]
    assert _satisfaction(surveyed) == 1


def test_an_answer_days_later_is_a_new_message(person: Person, surveyed: Case) -> None:
    contact = person.contact
    contact.dialogue_updated_at = utcnow() - timedelta(days=4)
    db.session.commit()
    # Only a number, with no open case: kept, no case opened, the person asked for words.
    assert person.says("1") == ["prompt"]
    assert _satisfaction(surveyed) is None and len(person.cases) == 1


def test_an_officer_reopening_first_makes_the_answer_a_follow_up(
        person: Person, surveyed: Case, officer: User) -> None:
    cases.reopen(db.session, officer, surveyed, utcnow())
    assert person.says("1") == ["added"]
    assert _satisfaction(surveyed) is None and len(person.cases) == 1


# --- sending --------------------------------------------------------------------------------


def test_no_survey_when_no_reply_was_sent(person: Person, officer: User,
                                          dispatcher: Dispatcher) -> None:
    answer_and_close(person, officer, dispatcher, reply=False)
    assert send_surveys() == 0


def test_the_survey_waits_until_the_reply_went_out(person: Person, officer: User,
                                                   dispatcher: Dispatcher) -> None:
    answer_and_close(person, officer, dispatcher, deliver=False)
    assert send_surveys() == 0
    dispatcher.run_once()
    assert send_surveys() == 1


def test_no_survey_after_a_reply_that_failed(person: Person, officer: User,
                                             dispatcher: Dispatcher) -> None:
    case = answer_and_close(person, officer, dispatcher, deliver=False)
    reply = db.session.scalars(select(Message).where(Message.kind == "reply")).one()
    reply.status = DeliveryStatus.FAILED
    db.session.commit()
    assert send_surveys() == 0 and case.survey_sent_at is None


def test_one_survey_per_closure(person: Person, officer: User, dispatcher: Dispatcher,
                                surveyed: Case) -> None:
    assert send_surveys() == 0
    assert send_surveys(timedelta(hours=1)) == 0
    # Reopened, answered again and closed again: that closure gets its own survey.
    cases.reopen(db.session, officer, surveyed, utcnow())
    answer_and_close(person, officer, dispatcher)
    assert send_surveys() == 1 and send_surveys() == 0
    count = db.session.scalar(select(func.count(Message.id)).where(Message.kind == "survey"))
    assert count == 2


def test_no_survey_to_a_person_who_opted_out(person: Person, officer: User,
                                             dispatcher: Dispatcher) -> None:
    answer_and_close(person, officer, dispatcher)
    person.says("توقف")
    assert send_surveys() == 0


@pytest.mark.parametrize(("settings_overrides", "language", "opening"), [
    pytest.param({}, "ckb", "دۆسیەکەتمان بە ژمارەی", id="kurdish"),
    pytest.param({"sawti_reply_languages": "ar,en"}, "ar", "أغلقنا حالتك",
                 id="kurdish-replies-off-arabic"),
])
def test_a_kurdish_reader_is_asked_in_kurdish_while_kurdish_replies_are_on(
        person: Person, officer: User, dispatcher: Dispatcher,
        settings_overrides: dict[str, object], language: str, opening: str) -> None:
    contact = person.contact
    contact.language = "ckb"  # they wrote in Kurdish (or did, before replies were turned off)
    db.session.commit()
    case = answer_and_close(person, officer, dispatcher)
    assert send_surveys() == 1
    [question] = person.new_messages()
    assert question.kind == "survey" and question.language == language
    assert (question.body or "").startswith(opening) and case.reference in (question.body or "")


def test_no_survey_for_cases_closed_long_ago(person: Person, officer: User,
                                             dispatcher: Dispatcher) -> None:
    answer_and_close(person, officer, dispatcher)
    assert send_surveys(survey.SURVEY_HORIZON + timedelta(minutes=1)) == 0


def test_the_survey_waits_while_the_person_answers_another_question(
        person: Person, officer: User, dispatcher: Dispatcher,
        simulate: Callable[..., TestResponse]) -> None:
    case = answer_and_close(person, officer, dispatcher)
    contact = person.contact
    contact.dialogue_state, contact.dialogue_updated_at = State.AWAITING_CONSENT, utcnow()
    db.session.commit()
    assert send_surveys() == 0
    assert send_surveys(timedelta(hours=2)) == 1  # the question was forgotten meanwhile
    assert db.session.get(Case, case.id).survey_sent_at is not None


def test_no_survey_on_a_channel_that_cannot_send_now(person: Person, officer: User,
                                                     dispatcher: Dispatcher) -> None:
    case = answer_and_close(person, officer, dispatcher)
    case.channel = "voice"  # the voice line asks by keypad on the reply call instead
    db.session.commit()
    assert send_surveys() == 0


# --- the service the voice line calls -------------------------------------------------------


def test_record_answer_is_audited_and_checks_the_answer(person: Person, officer: User,
                                                        dispatcher: Dispatcher) -> None:
    case = answer_and_close(person, officer, dispatcher)
    now = utcnow()
    survey.record_answer(db.session, case, 2, actor="contact", now=now)
    db.session.commit()
    assert (case.satisfaction, case.satisfaction_at) == (2, now)
    with pytest.raises(ValueError, match="1, 2 or 3"):
        survey.record_answer(db.session, case, 4, actor="contact", now=now)


@pytest.mark.parametrize(("text", "answer"), [
    ("1", 1), ("٣", 3), ("۲", 2), (" 3 ", 3), ("راضية", 1), ("مش راضي", 3), ("غير راضٍ", 3),
    ("Satisfied", 1), ("partly", 2), ("not satisfied", 3), ("13", None), ("", None),
    ("راضي بس", None), ("نعم", None),
])
def test_parse_answer(text: str, answer: int | None) -> None:
    assert survey.parse_answer(text) == answer
