"""«ما فهمت» / «شو يعني؟» to a follow-up question is not a skip: the information line's answer
did not help (as 2, an officer explains), and the location or consent question is asked once
more in simpler words."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from bot.engine import did_not_understand
from bot.states import State
from casework.models import CaseStatus, InfoAnswer
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
