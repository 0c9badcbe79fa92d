"""A reply of only «1», «نعم» or «حلب» after a follow-up question timed out: applied to the open
case it answers (asked within the attach window), never a case of its own; with no such case a
bare number, yes or no opens none, is kept, and the person is asked for their message."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.states import State
from casework.models import CaseStatus, Direction, InfoAnswer, Message, utcnow
from extensions import db

COMPLAINT = "لم أستلم السلة الغذائية هذا الشهر"
QUESTION = "ايمت التوزيع الجاي؟"


def _wait(someone: object, age: timedelta) -> None:
    """Nobody wrote for ``age``: the question was asked, and the case last active, that long
    ago."""
    contact, case = someone.contact, someone.cases[-1]  # type: ignore[attr-defined]
    contact.dialogue_updated_at = utcnow() - age
    case.last_activity_at = utcnow() - age
    db.session.commit()


def _inbound(case: object) -> list[str]:
    return [m.body for m in case.messages if m.direction == "in"]  # type: ignore[attr-defined]


# Within the attach window (SAWTI_CASE_ATTACH_HOURS, 72 by default), past the question's timeout.
HOURS_3, DAYS_2 = timedelta(hours=3), timedelta(days=2)

# Answers given in time, the late reply, how late, what is sent, and (location, consent) of
# the one case afterwards.
LATE = [
    pytest.param([], "1", HOURS_3, ["question"], ("SY-ID", None), State.AWAITING_CONSENT,
                 id="location-by-number-3-hours-later"),
    pytest.param([], "حلب", HOURS_3, ["question"], ("SY-HL", None), State.AWAITING_CONSENT,
                 id="location-by-name-3-hours-later"),
    pytest.param([], "ادلبب", HOURS_3, ["question"], ("SY-ID", None), State.AWAITING_CONSENT,
                 id="misspelt-location-3-hours-later"),
    pytest.param([], "رقم ٢", DAYS_2, ["question"], ("SY-HL", None), State.AWAITING_CONSENT,
                 id="location-raqm-arabic-digit-2-days-later"),
    pytest.param([], "99", HOURS_3, ["question"], (None, None), State.AWAITING_LOCATION,
                 id="location-number-not-in-list-asked-again"),
    pytest.param(["1"], "نعم", HOURS_3, ["confirmation"], ("SY-ID", True), State.IDLE,
                 id="consent-naam-3-hours-later"),
    pytest.param(["1"], "1", DAYS_2, ["confirmation"], ("SY-ID", True), State.IDLE,
                 id="consent-1-2-days-later"),
    pytest.param(["1"], "لا", HOURS_3, ["confirmation"], ("SY-ID", False), State.IDLE,
                 id="consent-la-3-hours-later"),
    # Not only an answer: a message for the open case, as before.
    pytest.param([], "نعم", HOURS_3, ["added"], (None, None), State.IDLE,
                 id="yes-does-not-answer-the-location-question"),
    pytest.param([], "عشرين", HOURS_3, ["added"], (None, None), State.IDLE,
                 id="a-word-near-a-place-is-content"),
    pytest.param([], "انا من حلب وما وصلتني السلة", HOURS_3, ["added"], (None, None),
                 State.IDLE, id="a-sentence-naming-a-place-is-content"),
    pytest.param(["1"], "حلب", HOURS_3, ["added"], ("SY-ID", None), State.IDLE,
                 id="a-place-does-not-answer-the-consent-question"),
]


@pytest.mark.parametrize(("before", "late", "age", "kinds", "stored", "state"), LATE)
def test_a_late_answer_is_applied_to_the_open_case(
        person: Callable, before: list[str], late: str, age: timedelta, kinds: list[str],
        stored: tuple[str | None, bool | None], state: State) -> None:
    someone = person()
    someone.says(COMPLAINT)
    for answer in before:
        someone.says(answer)
    _wait(someone, age)
    assert [r.kind for r in someone.says(late)] == kinds
    [case] = someone.cases  # never a case of its own
    assert (case.location, case.consent_to_contact) == stored
    assert _inbound(case)[-1] == late
    assert someone.contact.dialogue_state == state


@pytest.mark.usefixtures("distribution_entry")
@pytest.mark.parametrize(("late", "kinds", "closed"), [
    pytest.param("1", ["info_thanks"], True, id="yes-closes-the-case"),
    pytest.param("2", ["info_thanks", "question"], False, id="no-keeps-it-for-an-officer"),
])
def test_a_late_answer_to_did_this_answer_your_question(
        person: Callable, late: str, kinds: list[str], closed: bool) -> None:
    amal = person()
    amal.says(QUESTION)
    _wait(amal, HOURS_3)
    assert [r.kind for r in amal.says(late)] == kinds
    [case] = amal.cases
    assert (case.status == CaseStatus.CLOSED) is closed
    assert db.session.scalars(select(InfoAnswer.satisfied)).one() is closed


def _no_case_to_answer(kind: str) -> Callable[[object], None]:
    def arrange(someone: object) -> None:
        someone.says(COMPLAINT)  # type: ignore[attr-defined]
        if kind == "beyond-the-window":
            _wait(someone, timedelta(days=4))
        elif kind == "closed":
            _wait(someone, HOURS_3)
            case = someone.cases[0]  # type: ignore[attr-defined]
            case.status = CaseStatus.CLOSED
            db.session.commit()
    return arrange


# How the person came to have no case to add the reply to; the reply; what is sent; how many
# cases there are afterwards.
NO_CASE = [
    pytest.param(None, "1", ["prompt"], 0, id="first-message-1"),
    pytest.param(None, "نعم", ["prompt"], 0, id="first-message-naam"),
    pytest.param(None, "لا", ["prompt"], 0, id="first-message-la"),
    pytest.param(None, "٢", ["prompt"], 0, id="first-message-arabic-digit"),
    pytest.param("beyond-the-window", "1", ["prompt"], 1, id="question-older-than-window-1"),
    pytest.param("beyond-the-window", "ايه", ["prompt"], 1, id="question-older-than-window-eh"),
    pytest.param("closed", "نعم", ["prompt"], 1, id="case-closed-meanwhile-naam"),
    # Content all the same: it opens a case.
    pytest.param(None, "حلب", ["ack", "question"], 1, id="a-place-alone-may-start-a-complaint"),
    pytest.param("beyond-the-window", "حلب", ["ack", "question"], 2,
                 id="a-place-alone-after-the-window-opens-a-case"),
    pytest.param(None, "0933123456", ["ack", "question"], 1, id="a-phone-number-is-content"),
]


@pytest.mark.parametrize(("before", "text", "kinds", "count"), NO_CASE)
def test_a_bare_answer_with_no_case_opens_none_and_is_kept(
        person: Callable, before: str | None, text: str, kinds: list[str], count: int) -> None:
    someone = person()
    if before is not None:
        _no_case_to_answer(before)(someone)
    replies = someone.says(text)
    assert [r.kind for r in replies] == kinds
    assert len(someone.cases) == count
    stored = db.session.scalars(select(Message).where(
        Message.contact_id == someone.contact.id, Message.direction == Direction.INBOUND)
        .order_by(Message.id.desc())).first()
    assert stored is not None and stored.body == text  # never lost
    if kinds == ["prompt"]:
        assert stored.case_id is None
        assert "يرجى كتابة شكواك أو سؤالك" in replies[0].body
        assert someone.contact.dialogue_state == State.IDLE


def test_after_the_prompt_the_message_itself_opens_the_case(person: Callable) -> None:
    someone = person()
    assert [r.kind for r in someone.says("1")] == ["prompt"]
    assert [r.kind for r in someone.says(COMPLAINT)] == ["ack", "question"]
    [case] = someone.cases
    assert _inbound(case) == [COMPLAINT]
