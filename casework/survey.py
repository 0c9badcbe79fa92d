"""The satisfaction survey after a case is closed with an answer.

Once a closed case's reply has gone out (sent, delivered or read), ``send_surveys`` queues one
short question on the case's own channel, in the person's language: 1 satisfied, 2 partly,
3 not satisfied. It is sent once per closure (``Case.survey_sent_at`` later than
``Case.closed_at``), only while the channel can deliver a free-text message now, and only when
the person is not in the middle of another dialogue; cases closed longer ago than
``SURVEY_HORIZON`` are left alone (so switching the feature on does not survey the past).

The answer is the dialogue's business (``bot.engine``); it and the voice line's keypad both
store it with ``record_answer``. An answer of 3 is followed by an offer to reopen the case; a
first «ما فهمت» to the question, by the question in simpler words.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from bot.language import SUPPORTED, reply_in
from bot.states import QUESTIONS, State
from casework import audit, outbox
from casework.cases import deliverability, reopen_in_transaction
from casework.models import Case, CaseStatus, Contact, DeliveryStatus, Direction, Message
from casework.text import normalize_for_matching

SATISFIED, PARTLY, NOT_SATISFIED = 1, 2, 3
ANSWERS = (SATISFIED, PARTLY, NOT_SATISFIED)
SURVEY_KIND = "survey"
SURVEY_HORIZON = timedelta(days=7)
SENT_STATES = (DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ)
# The system reopens a case when the person asks for it after answering "not satisfied".
SYSTEM_ACTOR = "system"
CONTACT_ACTOR = "contact"  # the person answered themselves (a message, the voice keypad)
SURVEY_BATCH = 100
QUESTION_STATES = frozenset(state.value for state in QUESTIONS)


def _keys(*words: str) -> frozenset[str]:
    return frozenset(normalize_for_matching(word) for word in words)


# The question asks "Are you satisfied...?": a plain yes or no answers it too. A bare "ok" is
# not taken as one (people send it to close a conversation); it is thanked as before.
YES_ANSWERS = ("نعم", "ايوه", "أيوه", "ايوا", "أيوا", "اي", "إي", "ايه", "إيه", "اي نعم",
               "نعم شكرا", "اي والله", "ايه والله", "yes", "yeah", "yep", "yes thanks",
               "yes thank you", "aywa", "na3am", "eh", "بەڵێ", "بەلێ", "بەلی", "بەڵی", "ئەرێ")
NO_ANSWERS = ("لا", "لاء", "لأ", "كلا", "لا والله", "no", "nope", "la", "la2", "laa", "نەخێر",
              "نەخیر", "نا")
ANSWER_WORDS: dict[int, frozenset[str]] = {
    SATISFIED: _keys("1", "راضي", "راض", "راضيه", "راضية", "مبسوط", "ممتاز", "satisfied",
                     "radi", *YES_ANSWERS),
    PARTLY: _keys("2", "نوعا ما", "نوعاً ما", "جزئيا", "جزئياً", "راضي جزئيا", "شوي",
                  "partly", "partially", "somewhat", "partly satisfied"),
    NOT_SATISFIED: _keys("3", "غير راضي", "غير راض", "غير راضية", "مو راضي", "مش راضي",
                         "ما راضي", "not satisfied", "unsatisfied", "dissatisfied", *NO_ANSWERS),
}


def parse_answer(text: str) -> int | None:
    """1, 2 or 3 from digits (Arabic-Indic too) or words; None for anything else."""
    key = normalize_for_matching(text)
    return next((answer for answer, words in ANSWER_WORDS.items() if key in words), None)


def record_answer(session: Session, case: Case, answer: int, *, actor: str, now: datetime
                  ) -> None:
    """Store the person's answer on the case, audited; in the caller's transaction.

    ``actor`` is who recorded it: "contact" when the person answered themselves (a message,
    the voice keypad). Raises ValueError for an answer that is not 1, 2 or 3.
    """
    if answer not in ANSWERS:
        raise ValueError(f"a survey answer is 1, 2 or 3, not {answer!r}")
    previous = case.satisfaction
    case.satisfaction, case.satisfaction_at = answer, now
    audit.record(session, "case.satisfaction", case=case, actor=actor,
                 satisfaction=[previous, answer])


def reopen_on_request(session: Session, case: Case, now: datetime) -> bool:
    """The person answered "not satisfied" and asked to reopen; False if it is open already."""
    if case.status != CaseStatus.CLOSED:
        return False
    reopen_in_transaction(session, case, now, actor=SYSTEM_ACTOR, reason="survey")
    return True


def awaits_answer(case: Case | None) -> bool:
    """Whether ``case`` is a closed case whose survey went out for its latest closure."""
    return (case is not None and case.status == CaseStatus.CLOSED
            and case.survey_sent_at is not None and case.closed_at is not None
            and case.survey_sent_at >= case.closed_at)


def unanswered_since_closure(case: Case) -> bool:
    """Whether ``case`` is closed (not as a duplicate) and nobody has answered the survey for
    this closure yet: the voice line asks on the reply call itself."""
    return (case.status == CaseStatus.CLOSED and case.closed_at is not None
            and case.merged_into_id is None
            and (case.satisfaction_at is None or case.satisfaction_at < case.closed_at))


# --- the sending job ----------------------------------------------------------------------


def due_cases(session: Session, now: datetime, limit: int = SURVEY_BATCH) -> list[Case]:
    """Closed cases whose reply went out and whose survey for this closure has not."""
    reply_sent = exists().where(
        Message.case_id == Case.id, Message.direction == Direction.OUTBOUND,
        Message.kind == "reply", Message.status.in_(list(SENT_STATES)),
        or_(Case.survey_sent_at.is_(None), Message.created_at > Case.survey_sent_at))
    return list(session.scalars(
        select(Case).join(Contact, Case.contact_id == Contact.id)
        .where(Case.status == CaseStatus.CLOSED, Case.merged_into_id.is_(None),
               Case.closed_at >= now - SURVEY_HORIZON,
               or_(Case.survey_sent_at.is_(None), Case.survey_sent_at < Case.closed_at),
               Contact.opted_out.is_(False), Contact.address_encrypted.is_not(None),
               reply_sent)
        .order_by(Case.closed_at).limit(limit).with_for_update(skip_locked=True)))


def send_surveys(session: Session, now: datetime, *, adapters: Mapping[str, Any],
                 question: Callable[[str, str], str], dialogue_timeout: timedelta,
                 languages: Collection[str] = SUPPORTED) -> int:
    """Queue the survey for every case that is due one; commits; returns how many.

    ``question(language, reference)`` words the question (the bot's catalogue), in the
    person's language if replies in it are on (``languages``), else in Arabic. A case whose
    channel cannot take a message now (WhatsApp's window, the voice line), or whose person is
    answering another question, is tried again at the next run.
    """
    sent = 0
    try:
        for case in due_cases(session, now):
            contact = case.contact
            assert contact is not None  # joined
            if not deliverability(case, now, adapters).can_send_now:
                continue
            if _in_dialogue(contact, now, dialogue_timeout):
                continue
            language = reply_in(contact.language, languages)
            outbox.enqueue(session, contact, case, question(language, case.reference),
                           kind=SURVEY_KIND, language=language, now=now)
            case.survey_sent_at = now
            contact.dialogue_state = State.AWAITING_SURVEY.value
            contact.dialogue_case = case
            contact.dialogue_updated_at = now
            audit.record(session, "survey.sent", case=case, channel=case.channel)
            sent += 1
        session.commit()
    except Exception:
        session.rollback()
        raise
    return sent


def _in_dialogue(contact: Contact, now: datetime, timeout: timedelta) -> bool:
    """Answering a follow-up question now (an unanswered earlier survey does not count)."""
    if contact.dialogue_state not in QUESTION_STATES or contact.dialogue_updated_at is None:
        return False
    return now - contact.dialogue_updated_at <= timeout
