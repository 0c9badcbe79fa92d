"""«ما فهمت» / «شو يعني؟» to a follow-up question is not a skip: the information line's answer
did not help (as 2, an officer explains), and the location or consent question is asked once
more in simpler words. Said with no open case and no question waiting, it opens no case: it is
kept, and the person is told what the line is for."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.engine import did_not_understand
from bot.states import State
from casework.models import Case, CaseStatus, Direction, InfoAnswer, Message, utcnow
from casework.replies import queue_reply
from casework.text import normalize_for_matching
from extensions import db

COMPLAINT = "لم أستلم السلة الغذائية هذا الشهر"
QUESTION = "ايمت التوزيع الجاي؟"


def _inbound(someone: object) -> list[str]:
    case = someone.cases[0]  # type: ignore[attr-defined]
    return [m.body for m in case.messages if m.direction == "in"]


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("ما فهمت", True, id="ma-fhemt"),
    pytest.param("مو فاهم", True, id="mu-fahem"),
    pytest.param("ما فهمت شي", True, id="ma-fhemt-shi"),
    pytest.param("مافهمت!!", True, id="joined-with-marks"),
    pytest.param("I don't understand", True, id="english"),
    pytest.param("sorry, I didn't understand the question", True, id="english-sorry-question"),
    pytest.param("What do you mean?", True, id="what-do-you-mean"),
    pytest.param("شو يعني؟", True, id="shu-yani"),
    pytest.param("شنو يعني", True, id="iraqi-shnu-yani"),
    pytest.param("ما افتهمت", True, id="iraqi-ma-ftahamt"),
    pytest.param("والله ما فهمت عليكم", True, id="wallah-with-alaykum"),
    pytest.param("لا ما فهمت الجواب", True, id="no-did-not-understand-the-answer"),
    pytest.param("لم أفهم السؤال", True, id="msa-the-question"),
    pytest.param("شو؟", True, id="shu-alone"),
    pytest.param("ما فهمت ليش ما وصلتني السلة", False, id="a-complaint-after-it"),
    pytest.param("شو صار بشكواي", False, id="a-status-question"),
    pytest.param("ما وصلت", False, id="it-did-not-arrive"),
    pytest.param("لا", False, id="a-plain-no"),
    pytest.param("والله", False, id="filler-alone"),
    pytest.param("what about my basket", False, id="what-about-content"),
])
def test_what_reads_as_not_understanding(text: str, expected: bool) -> None:
    assert did_not_understand(normalize_for_matching(text)) is expected


@pytest.mark.usefixtures("distribution_entry")
@pytest.mark.parametrize(("reply", "language"), [
    pytest.param("ما فهمت", "ar", id="ma-fhemt"),
    pytest.param("مو فاهم", "ar", id="mu-fahem"),
    pytest.param("ما فهمت شي", "ar", id="ma-fhemt-shi"),
    pytest.param("والله ما فهمت عليكم", "ar", id="wallah-ma-fhemt-alaykum"),
    pytest.param("شو يعني؟", "ar", id="shu-yani"),
    pytest.param("لا ما فهمت", "ar", id="la-ma-fhemt"),
    pytest.param("I don't understand", "en", id="english-answered-in-english"),
])
def test_not_understanding_the_answer_is_a_no(person: Callable, reply: str,
                                              language: str) -> None:
    # A person who did not understand the answer was not helped by it: the case stays for an
    # officer (as after 2), never skipped as if the question did not matter.
    amal = person()
    amal.says(QUESTION)
    replies = amal.says(reply)
    assert [r.kind for r in replies] == ["info_unclear", "question"]  # then: which governorate?
    assert replies[0].language == language
    assert ("سيشرحه" if language == "ar" else "will explain") in replies[0].body
    assert db.session.scalars(select(InfoAnswer.satisfied)).one() is False
    assert amal.cases[0].status != CaseStatus.CLOSED
    assert _inbound(amal)[-1] == reply
    assert amal.contact.dialogue_state == State.AWAITING_LOCATION


@pytest.mark.usefixtures("distribution_entry")
@pytest.mark.parametrize(("reply", "kinds", "satisfied"), [
    pytest.param("2", ["info_thanks", "question"], False, id="two-is-still-no"),
    pytest.param("1", ["info_thanks"], True, id="one-is-still-yes"),
    pytest.param("ما فهمت ليش ما وصلتني السلة", ["question"], None,
                 id="a-complaint-still-skips"),
])
def test_other_replies_to_the_answer_are_unchanged(person: Callable, reply: str,
                                                   kinds: list[str], satisfied: bool | None
                                                   ) -> None:
    amal = person()
    amal.says(QUESTION)
    assert [r.kind for r in amal.says(reply)] == kinds
    assert db.session.scalars(select(InfoAnswer.satisfied)).one() is satisfied


# Before: replies up to the question; then the confused reply, what is sent, a fragment of it,
# and the state after.
QUESTIONS = [
    pytest.param([], "شو يعني؟", "مثلاً: إدلب", State.AWAITING_LOCATION,
                 id="location-shu-yani"),
    pytest.param([], "ما فهمت", "الإجابة ليست إلزامية", State.AWAITING_LOCATION,
                 id="location-ma-fhemt"),
    pytest.param([], "what do you mean?", "for example: Idlib", State.AWAITING_LOCATION,
                 id="location-english"),
    pytest.param(["1"], "مو فاهم", "إذا نعم، أرسل 1", State.AWAITING_CONSENT,
                 id="consent-mu-fahem"),
    pytest.param(["1"], "شو قصدك؟", "سنردّ عليك هنا", State.AWAITING_CONSENT,
                 id="consent-shu-asdak"),
]


@pytest.mark.parametrize(("before", "reply", "fragment", "state"), QUESTIONS)
def test_not_understanding_a_question_asks_it_more_simply(
        person: Callable, before: list[str], reply: str, fragment: str, state: State) -> None:
    someone = person()
    someone.says(COMPLAINT)
    for answer in before:
        someone.says(answer)
    [again] = someone.says(reply)
    assert again.kind == "question_simpler" and fragment in again.body
    assert someone.contact.dialogue_state == state
    assert _inbound(someone)[-1] == reply  # kept on the case
    assert someone.contact.location is None or before  # not taken as an answer


@pytest.mark.parametrize(("before", "answer", "kinds", "stored"), [
    pytest.param([], "حلب", ["question"], ("SY-HL", None), id="location-then-named"),
    pytest.param([], "2", ["question"], ("SY-HL", None), id="location-then-numbered"),
    pytest.param(["1"], "1", ["confirmation"], ("SY-ID", True), id="consent-then-yes"),
    pytest.param(["1"], "لا", ["confirmation"], ("SY-ID", False), id="consent-then-no"),
])
def test_the_simpler_question_is_answered_as_usual(
        person: Callable, before: list[str], answer: str, kinds: list[str],
        stored: tuple[str | None, bool | None]) -> None:
    someone = person()
    someone.says(COMPLAINT)
    for reply in (*before, "ما فهمت"):
        someone.says(reply)
    assert [r.kind for r in someone.says(answer)] == kinds
    case = someone.cases[0]
    assert (case.location, case.consent_to_contact) == stored


@pytest.mark.parametrize(("before", "kinds", "state"), [
    pytest.param([], ["question"], State.AWAITING_CONSENT, id="location-skipped-to-consent"),
    pytest.param(["1"], ["added"], State.IDLE, id="consent-skipped"),
])
def test_not_understanding_twice_skips_the_question(
        person: Callable, before: list[str], kinds: list[str], state: State) -> None:
    # The simpler words did not help: the question is not asked a third time.
    someone = person()
    someone.says(COMPLAINT)
    for reply in before:
        someone.says(reply)
    assert [r.kind for r in someone.says("شو يعني؟")] == ["question_simpler"]
    assert [r.kind for r in someone.says("ما فهمت شي")] == kinds
    assert someone.contact.dialogue_state == state
    assert _inbound(someone)[-2:] == ["شو يعني؟", "ما فهمت شي"]
    assert len(someone.cases) == 1


# --- «ما فهمت» about nothing we asked -------------------------------------------------------

EXPLANATION = {
    "ar": "لا مشكلة. هنا يمكنك أن ترسل إلى صوتي شكوى أو سؤالاً أو ملاحظة. اكتبها ببضع كلمات، "
          "أو أرسل رسالة صوتية، وسنردّ عليك.",
    "en": "No problem. Here you can send Sawti a complaint, a question or feedback. Write it in "
          "a few words, or send a voice note, and we will answer you.",
}


def _no_open_case(how: str | None) -> Callable[[object], None]:
    """How the person comes to have no open case to add the message to."""
    def arrange(someone: object) -> None:
        if how is None:
            return  # their first message
        if how == "greeted":
            someone.says("مرحبا")  # type: ignore[attr-defined]
            return
        someone.says(COMPLAINT)  # type: ignore[attr-defined]
        contact, case = someone.contact, someone.cases[-1]  # type: ignore[attr-defined]
        if how == "officer-replied-then-closed":
            queue_reply(db.session, case, "تم تسليم السلة.", actor="officer@example.org",
                        now=utcnow())
        if how == "beyond-the-window":  # SAWTI_CASE_ATTACH_HOURS, 72 by default
            case.last_activity_at = utcnow() - timedelta(days=4)
        else:
            case.status = CaseStatus.CLOSED
        contact.dialogue_updated_at = utcnow() - timedelta(days=4)  # no question waits
        db.session.commit()
        someone.new_replies()  # type: ignore[attr-defined]
    return arrange


# How the person came to have no open case; what they write; the language of the answer.
EXPLAINED = [
    pytest.param(None, "ما فهمت", "ar", id="first-message-ma-fhemt"),
    pytest.param(None, "شو يعني؟", "ar", id="first-message-shu-yani"),
    pytest.param(None, "والله ما فهمت شي", "ar", id="first-message-wallah-ma-fhemt-shi"),
    pytest.param(None, "شنو يعني", "ar", id="first-message-iraqi-shnu-yani"),
    pytest.param(None, "مافهمت!!", "ar", id="first-message-joined-with-marks"),
    pytest.param(None, "I don't understand", "en", id="first-message-english"),
    pytest.param(None, "What do you mean?", "en", id="first-message-what-do-you-mean"),
    pytest.param("greeted", "شو قصدك؟", "ar", id="after-the-welcome"),
    pytest.param("closed", "مو فاهم", "ar", id="case-closed-since"),
    pytest.param("beyond-the-window", "ما فهمت", "ar", id="case-older-than-the-window"),
]


@pytest.mark.parametrize(("before", "text", "language"), EXPLAINED)
def test_not_understanding_with_no_case_is_told_what_the_line_is_for(
        person: Callable, before: str | None, text: str, language: str) -> None:
    someone = person()
    _no_open_case(before)(someone)
    cases_before = _all_cases()
    [reply] = someone.says(text)
    assert (reply.kind, reply.language, reply.body) == ("explanation", language,
                                                        EXPLANATION[language])
    assert reply.case_id is None
    assert _all_cases() == cases_before  # no case opened
    stored = db.session.scalars(select(Message).where(
        Message.contact_id == someone.contact.id, Message.direction == Direction.INBOUND)
        .order_by(Message.id.desc())).first()
    assert stored is not None and (stored.body, stored.case_id) == (text, None)  # kept
    assert someone.contact.dialogue_state == State.IDLE


# Where «ما فهمت» may be about something we said, or says more: as before, it goes to a case.
NOT_EXPLAINED = [
    pytest.param(None, "ما فهمت ليش ما وصلتني السلة", ["ack", "question"], 1,
                 id="a-complaint-after-it-opens-a-case"),
    pytest.param("officer-replied-then-closed", "ما فهمت", ["ack", "question"], 2,
                 id="after-an-officers-reply-it-opens-a-case-for-an-officer"),
    pytest.param("greeted", "ما فهمت عليكم، ما وصلني شي من التوزيع", ["ack", "question"], 1,
                 id="more-than-not-understanding-opens-a-case"),
]


@pytest.mark.parametrize(("before", "text", "kinds", "count"), NOT_EXPLAINED)
def test_not_understanding_that_may_need_an_officer_opens_a_case(
        person: Callable, before: str | None, text: str, kinds: list[str], count: int) -> None:
    someone = person()
    _no_open_case(before)(someone)
    assert [reply.kind for reply in someone.says(text)] == kinds
    cases = someone.cases
    assert len(cases) == count
    assert _inbound_of(cases[-1]) == [text]


def test_not_understanding_with_an_open_case_joins_it(person: Callable) -> None:
    someone = person()
    someone.says(COMPLAINT)
    someone.contact.dialogue_updated_at = utcnow() - timedelta(hours=3)  # no question waits
    db.session.commit()
    assert [reply.kind for reply in someone.says("ما فهمت")] == ["added"]
    [case] = someone.cases
    assert _inbound_of(case) == [COMPLAINT, "ما فهمت"]


@pytest.mark.parametrize(("first", "complaint", "language"), [
    pytest.param("ما فهمت", COMPLAINT, "ar", id="arabic"),
    pytest.param("I don't understand", "I did not receive the food basket this month", "en",
                 id="english"),
])
def test_after_the_explanation_the_complaint_opens_the_case(
        person: Callable, first: str, complaint: str, language: str) -> None:
    someone = person()
    assert [reply.kind for reply in someone.says(first)] == ["explanation"]
    replies = someone.says(complaint)
    assert [reply.kind for reply in replies] == ["ack", "question"]
    assert replies[0].language == language
    [case] = someone.cases
    assert _inbound_of(case) == [complaint]  # the «ما فهمت» before it stays with no case
    assert replies[0].case_id == case.id and case.reference in replies[0].body


def _all_cases() -> list[int]:
    return list(db.session.scalars(select(Case.id).order_by(Case.id)))


def _inbound_of(case: object) -> list[str]:
    return [m.body for m in case.messages if m.direction == "in"]  # type: ignore[attr-defined]
