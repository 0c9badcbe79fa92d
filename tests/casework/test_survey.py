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
COMPLAINTS = {"ar": COMPLAINT, "en": "I did not receive the food basket this month"}


class Person:
    """A beneficiary on the simulator, and what the bot queued for them."""

    def __init__(self, simulate: Callable[..., TestResponse], tab: str) -> None:
        self.simulate, self.tab, self.seen = simulate, tab, 0

    def says(self, text: str) -> list[str]:
        return [message.kind for message in self.is_answered(text)]

    def is_answered(self, text: str) -> list[Message]:
        """What the bot queued for them in answer to ``text``."""
        response = self.simulate(text, tab=self.tab)
        assert response.status_code == 200, response.get_data(as_text=True)
        return self.new_messages()

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
def person(app_context: None, simulate: Callable[..., TestResponse],
           request: pytest.FixtureRequest) -> Person:
    """Someone who complained (in Arabic, or in the language given by indirect
    parametrization) and answered the follow-up questions."""
    someone = Person(simulate, "tab-survey-0001")
    assert someone.says(COMPLAINTS[getattr(request, "param", "ar")]) == ["ack", "question"]
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
    assert question.case_id == case.id and question.language == person.contact.language
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
    # "Are you satisfied...?" is a yes-or-no question too.
    pytest.param("نعم", 1, id="yes"),
    pytest.param("ايوه", 1, id="yes-syrian"),
    pytest.param("yes", 1, id="yes-english"),
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


@pytest.mark.parametrize("not_satisfied", ["3", "لا", "no"])
def test_not_satisfied_then_yes_reopens_the_case(person: Person, surveyed: Case,
                                                 not_satisfied: str) -> None:
    assert person.says(not_satisfied) == ["survey_reopen_offer"]
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


SIMPLER_SURVEY = {
    "ar": "لا مشكلة. نودّ أن نعرف هل أنت راضٍ عن طريقة تعاملنا مع حالتك %(reference)s، حتى "
          "نحسّن عملنا. أرسل 1 إذا كنت راضياً، أو 2 إذا كنت راضياً نوعاً ما، أو 3 إذا لم تكن "
          "راضياً. الإجابة ليست إلزامية.",
    "en": "No problem. We would like to know if you are happy with how we handled case "
          "%(reference)s, so that we can do better. Send 1 if you are happy, 2 if partly, 3 if "
          "you are not happy. You do not have to answer.",
}


def _last_inbound(person: Person) -> Message:
    found = db.session.scalars(select(Message).where(
        Message.contact_id == person.contact.id, Message.direction == Direction.INBOUND)
        .order_by(Message.id.desc())).first()
    assert found is not None
    return found


# The language the person wrote their complaint in (so the survey's); what they say to the
# survey; the language of the simpler question.
NOT_UNDERSTOOD = [
    pytest.param("ar", "ما فهمت", "ar", id="ma-fhemt"),
    pytest.param("ar", "شو يعني؟", "ar", id="shu-yani"),
    pytest.param("ar", "والله ما فهمت شي", "ar", id="wallah-ma-fhemt-shi"),
    pytest.param("ar", "شنو يعني", "ar", id="iraqi-shnu-yani"),
    pytest.param("ar", "ما فهمت السؤال", "ar", id="ma-fhemt-the-question"),
    pytest.param("en", "I don't understand", "en", id="english"),
    pytest.param("en", "What do you mean?", "en", id="english-what-do-you-mean"),
    pytest.param("ar", "sorry, I didn't understand the question", "en",
                 id="english-to-an-arabic-survey"),
]


@pytest.mark.parametrize(("person", "text", "language"), NOT_UNDERSTOOD,
                         indirect=["person"])
def test_not_understanding_the_survey_asks_it_more_simply(
        person: Person, surveyed: Case, text: str, language: str) -> None:
    [again] = person.is_answered(text)
    assert (again.kind, again.language, again.case_id) == ("question_simpler", language,
                                                           surveyed.id)
    assert again.body == SIMPLER_SURVEY[language] % {"reference": surveyed.reference}
    said = _last_inbound(person)
    assert (said.body, said.case_id) == (text, surveyed.id)  # kept on the surveyed case
    assert [case.id for case in person.cases] == [surveyed.id]  # no case opened
    assert person.cases[0].status == CaseStatus.CLOSED and _satisfaction(surveyed) is None
    assert person.contact.dialogue_state == State.AWAITING_SURVEY
    assert person.contact.dialogue_case_id == surveyed.id


@pytest.mark.parametrize(("person", "answer", "kinds", "stored", "state"), [
    pytest.param("ar", "1", ["survey_thanks"], 1, State.IDLE, id="satisfied"),
    pytest.param("ar", "٢", ["survey_thanks"], 2, State.IDLE, id="partly-arabic-indic-digit"),
    pytest.param("ar", "نوعاً ما", ["survey_thanks"], 2, State.IDLE, id="partly-in-words"),
    pytest.param("ar", "3", ["survey_reopen_offer"], 3, State.AWAITING_REOPEN,
                 id="not-satisfied-offers-to-reopen"),
    pytest.param("en", "1", ["survey_thanks"], 1, State.IDLE, id="english-satisfied"),
    pytest.param("en", "not satisfied", ["survey_reopen_offer"], 3, State.AWAITING_REOPEN,
                 id="english-not-satisfied"),
], indirect=["person"])
def test_the_simpler_survey_is_answered_as_usual(
        person: Person, surveyed: Case, answer: str, kinds: list[str], stored: int,
        state: State) -> None:
    assert person.says("I don't understand" if person.contact.language == "en"
                       else "ما فهمت") == ["question_simpler"]
    assert person.says(answer) == kinds
    assert _satisfaction(surveyed) == stored
    assert [case.id for case in person.cases] == [surveyed.id]
    assert person.contact.dialogue_state == state
    assert _last_inbound(person).case_id == surveyed.id


# Not understanding the simpler question either: handled as any other text while the survey
# waits (a question of ours waits, so it is not about nothing; an officer sees it).
NOT_UNDERSTOOD_TWICE = [
    pytest.param("ar", "شو يعني؟", "ما فهمت", timedelta(0), "ar",
                 id="reply-just-sent"),
    pytest.param("ar", "ما فهمت", "ما فهمت شي", timedelta(days=4), "ar",
                 id="reply-older-than-the-attach-window"),
    pytest.param("en", "I don't understand", "sorry, I didn't understand the question",
                 timedelta(0), "en", id="english"),
]


@pytest.mark.parametrize(("person", "first", "second", "reply_age", "language"),
                         NOT_UNDERSTOOD_TWICE, indirect=["person"])
def test_not_understanding_the_survey_twice_opens_a_case(
        person: Person, surveyed: Case, first: str, second: str, reply_age: timedelta,
        language: str) -> None:
    reply = db.session.scalars(select(Message).where(Message.kind == "reply")).one()
    reply.created_at = utcnow() - reply_age
    db.session.commit()
    assert person.says(first) == ["question_simpler"]
    [ack] = person.is_answered(second)
    new_case = person.cases[-1]
    assert [case.id for case in person.cases] == [surveyed.id, new_case.id]
    assert (ack.kind, ack.language, ack.case_id) == ("ack", language, new_case.id)
    assert new_case.reference in (ack.body or "")
    said = _last_inbound(person)
    assert (said.body, said.case_id) == (second, new_case.id)
    assert _satisfaction(surveyed) is None and person.cases[0].status == CaseStatus.CLOSED
    assert person.contact.dialogue_state == State.IDLE


SIMPLER_REOPEN = {
    "ar": "لا مشكلة. أخبرتنا أنك لست راضياً عن طريقة تعاملنا مع حالتك %(reference)s. هل تريد "
          "أن نفتحها من جديد وننظر فيها مرة أخرى؟ أرسل 1 للموافقة أو 2 للرفض.",
    "en": "No problem. You told us you are not happy with how we handled case %(reference)s. "
          "Should we open it again and look at it once more? Send 1 for yes or 2 for no.",
}


@pytest.mark.parametrize(("person", "text", "language"), NOT_UNDERSTOOD,
                         indirect=["person"])
def test_not_understanding_the_reopen_offer_asks_it_more_simply(
        person: Person, surveyed: Case, text: str, language: str) -> None:
    assert person.says("3") == ["survey_reopen_offer"]
    [again] = person.is_answered(text)
    assert (again.kind, again.language, again.case_id) == ("question_simpler", language,
                                                           surveyed.id)
    assert again.body == SIMPLER_REOPEN[language] % {"reference": surveyed.reference}
    assert (_last_inbound(person).body, _last_inbound(person).case_id) == (text, surveyed.id)
    assert [case.id for case in person.cases] == [surveyed.id]  # no case opened
    assert person.contact.dialogue_state == State.AWAITING_REOPEN


@pytest.mark.parametrize(("answer", "kinds", "status"), [
    pytest.param("1", ["survey_reopened"], CaseStatus.OPEN, id="yes-reopens"),
    pytest.param("نعم", ["survey_reopened"], CaseStatus.OPEN, id="yes-in-words-reopens"),
    pytest.param("2", ["survey_closed"], CaseStatus.CLOSED, id="no-keeps-it-closed"),
])
def test_the_simpler_reopen_offer_is_answered_as_usual(
        person: Person, surveyed: Case, answer: str, kinds: list[str], status: str) -> None:
    person.says("3")
    assert person.says("ما فهمت") == ["question_simpler"]
    assert person.says(answer) == kinds
    db.session.expire_all()
    assert db.session.get(Case, surveyed.id).status == status
    assert [case.id for case in person.cases] == [surveyed.id]


def test_not_understanding_the_reopen_offer_twice_opens_a_case(person: Person,
                                                               surveyed: Case) -> None:
    person.says("3")
    assert person.says("ما فهمت") == ["question_simpler"]
    assert person.says("والله ما فهمت شي") == ["ack"]
    assert len(person.cases) == 2 and person.cases[0].status == CaseStatus.CLOSED


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


@pytest.mark.parametrize("text", ["1", "ما فهمت"], ids=["an-answer", "not-understood"])
def test_an_officer_reopening_first_makes_the_answer_a_follow_up(
        person: Person, surveyed: Case, officer: User, text: str) -> None:
    cases.reopen(db.session, officer, surveyed, utcnow())
    assert person.says(text) == ["added"]  # no survey waits: not asked more simply either
    assert _satisfaction(surveyed) is None and len(person.cases) == 1
    assert _last_inbound(person).case_id == surveyed.id


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
    ("راضي بس", None), ("نعم", 1), ("اي والله", 1), ("Yes", 1), ("na3am", 1), ("لا", 3),
    ("no", 3), ("ok", None), ("تمام", None), ("لا ما بعرف", None), ("بەڵێ", 1), ("نەخێر", 3),
])
def test_parse_answer(text: str, answer: int | None) -> None:
    assert survey.parse_answer(text) == answer
