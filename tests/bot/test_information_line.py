"""The information line in the dialogue: an approved entry answers a new question right after
the acknowledgement; 1 closes the case, 2 leaves it for an officer; never for a flagged
message, never with an unapproved entry, and a place's entry waits for the place."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.states import State
from casework import accounts, info
from casework.models import CaseStatus, InfoAnswer, InfoEntry, Role, utcnow
from extensions import db
from services import services

ROOT = Path(__file__).resolve().parents[2]
ANSWER = "توزَّع السلال بين اليوم الأول والعاشر من كل شهر."


def _entry(approved: bool = True, **fields: Any) -> InfoEntry:
    officer = accounts.find_user(db.session, "officer@example.org") or accounts.create_user(
        db.session, "officer@example.org", "a long enough password 1", Role.OFFICER, name="O")
    entry = info.save_entry(db.session, officer, None, {
        "code": fields.pop("code", "next_distribution"), "answer_ar": ANSWER,
        "answer_en": "Baskets are handed out between the 1st and the 10th.",
        "keywords": ["توزيع*", "سله*", "distribution"], "asks": ["when"], **fields}, utcnow())
    if approved:
        info.approve(db.session, officer, entry, utcnow())
    return entry


def _kinds(replies: list) -> list[str]:
    return [reply.kind for reply in replies]


def test_a_question_an_entry_answers_gets_the_answer_then_1_closes_the_case(
    person: Callable,
) -> None:
    _entry()
    amal = person()
    replies = amal.says("ايمت التوزيع الجاي؟")
    assert _kinds(replies) == ["ack", "info_answer"]
    assert replies[1].body.startswith(ANSWER)
    assert amal.contact.dialogue_state == State.AWAITING_INFO_FEEDBACK
    replies = amal.says("١")  # Arabic-Indic digit one
    assert _kinds(replies) == ["info_thanks"]
    case = amal.cases[0]
    assert case.status == CaseStatus.CLOSED and case.category == "information_request"
    assert amal.contact.dialogue_state == State.IDLE  # no more questions on a closed case
    answer = db.session.scalars(select(InfoAnswer)).one()
    assert answer.satisfied is True and answer.message_id == case.messages[0].id


def test_2_leaves_the_case_for_an_officer_and_the_questions_follow(person: Callable) -> None:
    _entry()
    amal = person()
    amal.says("شوكت توزيع السلات؟")
    replies = amal.says("2")
    assert _kinds(replies) == ["info_thanks", "question"]  # then: which governorate?
    assert amal.cases[0].status != CaseStatus.CLOSED
    assert db.session.scalars(select(InfoAnswer.satisfied)).one() is False


def test_the_answer_is_in_the_persons_language(person: Callable) -> None:
    _entry()
    replies = person().says("when is the next distribution?")
    assert replies[1].body.startswith("Baskets are handed out")


CASES = [
    ("complaint-not-a-question", "لم أستلم السلة الغذائية هذا الشهر", True),
    ("flagged-by-triage", "متى التوزيع؟ الموظف طلب مني ٢٠ دولار لحتى يحطني بالقائمة", True),
]


@pytest.mark.parametrize(("label", "text", "approved"), CASES, ids=[row[0] for row in CASES])
def test_no_answer(person: Callable, label: str, text: str, approved: bool) -> None:
    _entry(approved=approved)
    replies = person().says(text)
    assert "info_answer" not in _kinds(replies), label
    assert db.session.scalars(select(InfoAnswer).where(InfoAnswer.entry_id.is_not(None))
                              ).all() == []


def test_the_models_flag_alone_restricts_the_case_but_still_answers(person: Callable) -> None:
    _entry(code="not_on_the_list", keywords=["list", "قايمه*"], asks=["why"])
    text = "why my name not in list"
    assessment = services().dialogue.triage.assess(text)
    assert assessment.sensitive and not assessment.flagged_by_a_rule  # the shipped model's
    amal = person()
    replies = amal.says(text)
    assert _kinds(replies) == ["ack", "info_answer"]
    assert amal.cases[0].sensitive  # restricted, and PSEA alerted, all the same


def test_an_unapproved_entry_is_never_sent(person: Callable) -> None:
    _entry(approved=False)
    assert "info_answer" not in _kinds(person().says("ايمت التوزيع؟"))


def test_a_place_s_entry_waits_for_the_location(person: Callable) -> None:
    _entry(locations=["SY-ID"])
    amal = person()
    assert _kinds(amal.says("ايمت التوزيع؟")) == ["ack", "question"]  # which governorate?
    replies = amal.says("1")  # the first governorate in the list: Idlib
    assert amal.contact.location == "SY-ID"
    assert "info_answer" in _kinds(replies)
    assert amal.contact.dialogue_state == State.AWAITING_INFO_FEEDBACK


def test_a_question_nothing_answers_is_kept_for_officers(person: Callable) -> None:
    _entry()
    person().says("وين بقدر لاقي شغل معكم؟")
    unmatched = db.session.scalars(select(InfoAnswer)).one()
    assert unmatched.entry_id is None and unmatched.case_id is not None


def test_a_follow_up_message_is_not_answered_again(person: Callable) -> None:
    _entry()
    amal = person()
    amal.says("لم أستلم السلة")  # a complaint opens the case
    amal.says("1")  # Idlib
    amal.says("1")  # consent
    assert "info_answer" not in _kinds(amal.says("وايمت التوزيع الجاي؟"))


@pytest.mark.parametrize(("text", "kinds", "sensitive"), [
    pytest.param("هل المساعدة مجانية؟", ["ack", "info_answer"], False, id="asks-if-aid-is-free"),
    pytest.param("is the aid free?", ["ack", "info_answer"], False, id="asks-in-english"),
    pytest.param("هل المساعدة مجانية؟ الموظف طلب مني مصاري", ["ack", "question"], True,
                 id="reports-a-demand-for-money"),
])
def test_the_starter_entry_says_aid_is_free_but_never_to_a_report(
        person: Callable, text: str, kinds: list[str], sensitive: bool) -> None:
    officer = accounts.create_user(db.session, "officer@example.org",
                                   "a long enough password 1", Role.OFFICER, name="O")
    info.import_entries(db.session, ROOT / "config" / "info_entries.yaml", officer, utcnow(),
                        approve_all=True)
    db.session.commit()
    someone = person()
    replies = someone.says(text)
    assert _kinds(replies) == kinds
    assert someone.cases[0].sensitive is sensitive
    if "info_answer" in kinds:
        assert ("مجانية" in replies[1].body) or ("free" in replies[1].body)


@pytest.mark.parametrize("feedback", [
    pytest.param("2", id="no-by-number"),
    pytest.param("لا", id="no-in-words"),
    pytest.param("ما عرفت وين", id="skipped-with-text"),
])
@pytest.mark.parametrize("place", [
    pytest.param("1", id="governorate-number"),
    pytest.param("ادلب", id="governorate-name"),
])
def test_the_answer_is_not_sent_again_once_the_location_is_known(
        person: Callable, feedback: str, place: str) -> None:
    # The person said the answer did not help (or moved on): sending it again after they
    # name their governorate, and asking "did this answer?" again, contradicts them.
    _entry()
    amal = person()
    assert _kinds(amal.says("وين وايمت التوزيع؟")) == ["ack", "info_answer"]
    assert _kinds(amal.says(feedback))[-1] == "question"  # which governorate?
    replies = amal.says(place)
    assert _kinds(replies) == ["question"]  # then: may we contact you?
    assert amal.contact.dialogue_state == State.AWAITING_CONSENT
    assert amal.cases[0].status != CaseStatus.CLOSED


def test_thanks_after_the_information_line_closed_the_case_opens_no_case(
        person: Callable) -> None:
    _entry()
    someone = person()
    someone.says("ايمت التوزيع الجاي؟")
    assert _kinds(someone.says("1")) == ["info_thanks"]  # the case is closed
    [reply] = someone.says("شكراً كتير")
    assert reply.kind == "courtesy" and len(someone.cases) == 1
