"""Dialogue handlers: each turns one classified message into replies and state changes.

``step`` classifies the message, looks the transition up in ``bot.states`` and runs it.
Handlers only change the session's objects; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.messages import Speaker
from bot.states import QUESTIONS, Event, Next, State, transition_for
from casework import audit, intake
from casework.models import Case, Contact, Message
from casework.references import ReferenceCheck, find_reference_query
from casework.text import has_words, normalize_for_matching
from config.data import Location, OrgData


def _keys(*words: str) -> frozenset[str]:
    return frozenset(normalize_for_matching(word) for word in words)


OPT_OUT_WORDS = _keys("stop", "توقف", "الغاء", "إلغاء", "unsubscribe")
START_WORDS = {"/start", "start"}
YES_WORDS = _keys("1", "نعم", "ايوه", "أيوه", "اي", "موافق", "yes", "y", "ok", "aywa", "na3am")
NO_WORDS = _keys("2", "لا", "كلا", "مو موافق", "no", "n", "la")


@dataclass(frozen=True)
class DialogueSettings:
    org_name: str
    org_data: OrgData
    attach_window: timedelta
    followup_ack_interval: timedelta
    question_timeout: timedelta
    inbound_per_minute: int = 20


@dataclass(frozen=True)
class Reply:
    body: str
    kind: str


@dataclass
class Turn:
    """One inbound message being handled: what we know, and what we will say."""

    session: Session
    settings: DialogueSettings
    contact: Contact
    message: Message
    now: datetime
    speaker: Speaker
    case: Case | None = None
    opened_case: bool = False
    resumed: bool = False  # the contact had opted out and wrote again
    confirm_addition: bool = False  # say "we added your message" unless a question follows
    replies: list[Reply] = field(default_factory=list)

    def say(self, body: str, kind: str) -> None:
        self.replies.append(Reply(body, kind))


def step(turn: Turn) -> list[Reply]:
    state = current_state(turn)
    event = classify(turn, state)
    transition = transition_for(state, event)
    HANDLERS[transition.handler](turn)
    if transition.next is Next.SAME:
        next_state = state
    elif transition.next is Next.NEXT_QUESTION:
        next_state = _next_question(turn, after=state)
    else:
        next_state = transition.next
    _enter(turn, next_state, ask=next_state is not state)
    return turn.replies


def current_state(turn: Turn) -> State:
    contact = turn.contact
    updated = contact.dialogue_updated_at
    if updated is None or turn.now - updated > turn.settings.question_timeout:
        return State.IDLE
    return State(contact.dialogue_state)


def classify(turn: Turn, state: State) -> Event:
    text = turn.message.body or ""
    key = normalize_for_matching(text)
    if not has_words(text) and not turn.message.attachments and turn.message.kind != "location":
        return Event.EMPTY
    if key in OPT_OUT_WORDS:
        return Event.OPT_OUT
    if text.strip().lower() in START_WORDS:
        return Event.START
    if find_reference_query(text):
        return Event.STATUS_QUERY
    if state is State.AWAITING_LOCATION and match_location(turn.settings.org_data, key):
        return Event.ANSWER
    if state is State.AWAITING_CONSENT and (key in YES_WORDS or key in NO_WORDS):
        return Event.ANSWER
    return Event.TEXT


def match_location(org_data: OrgData, key: str) -> Location | None:
    """A governorate chosen by its number in the list, or a governorate or district by name."""
    governorates = org_data.governorates
    if key.isdigit():
        index = int(key) - 1
        return governorates[index] if 0 <= index < len(governorates) else None
    districts = [district for governorate in governorates for district in governorate.districts]
    return next((place for place in (*governorates, *districts) if key in place.match_keys()),
                None)


# --- handlers ---------------------------------------------------------------------------

def ask_for_content(turn: Turn) -> None:
    turn.case = _case_of_dialogue(turn) or intake.current_case(
        turn.session, turn.contact, turn.now, turn.settings.attach_window)
    if turn.case is not None:
        intake.attach(turn.case, turn.message, turn.now)
    turn.say(turn.speaker._("We received an empty message. Please write your complaint, "
                            "question or feedback, or send a voice note."), "prompt")


def opt_out(turn: Turn) -> None:
    turn.contact.opted_out = True
    turn.contact.opted_out_at = turn.now
    audit.record(turn.session, "contact.opted_out", contact_id=turn.contact.id)
    turn.say(turn.speaker._("You will not receive any more messages from us. If you write to "
                            "us again, we will answer you."), "opt_out")


def greet(turn: Turn) -> None:
    turn.say(turn.speaker._(
        "Welcome to %(org)s. You can send us a complaint, a question or feedback here, in "
        "writing or as a voice note. What you share is confidential.",
        org=turn.settings.org_name), "greeting")


def answer_status(turn: Turn) -> None:
    found = find_reference_query(turn.message.body or "")
    assert found is not None  # classified as STATUS_QUERY
    reference, check = found
    speaker = turn.speaker
    if check is ReferenceCheck.BAD_CHECK_DIGIT:
        turn.say(speaker._("The number %(reference)s seems to be mistyped. Please check your "
                           "case number and send it again.", reference=reference), "status")
        return
    case = intake.find_case(turn.session, reference)
    if case is None or case.contact_id != turn.contact.id:
        turn.say(speaker._("We could not find a case with the number %(reference)s for you. "
                           "Please check the number, or write your message and we will open "
                           "a new case.", reference=reference), "status")
        return
    intake.attach(case, turn.message, turn.now)
    turn.case = case
    turn.say(speaker._("Your case %(reference)s is %(status)s.", reference=reference,
                       status=speaker.status_name(case.status)), "status")


def open_or_add_to_case(turn: Turn) -> None:
    existing = intake.current_case(turn.session, turn.contact, turn.now,
                                   turn.settings.attach_window)
    if existing is not None:
        turn.case = existing
        _add(turn)
        return
    case = intake.open_case(turn.session, turn.contact, turn.message,
                            turn.settings.org_data.grid, turn.now)
    turn.case, turn.opened_case = case, True
    speaker = turn.speaker
    body = "\n".join((
        speaker._("Thank you for contacting %(org)s. We received your message and opened "
                  "case number %(reference)s. Keep this number to ask about your case.",
                  org=turn.settings.org_name, reference=case.reference),
        speaker.deadline(case.due_at - case.created_at),
        speaker._("What you share is confidential: we never share your name or number "
                  "without your permission."),
    ))
    turn.say(body, "ack")


def add_to_case(turn: Turn) -> None:
    turn.case = _case_of_dialogue(turn) or intake.current_case(
        turn.session, turn.contact, turn.now, turn.settings.attach_window)
    if turn.case is None:  # the case was closed meanwhile: this is a new conversation
        open_or_add_to_case(turn)
        return
    turn.opened_case = turn.case is turn.contact.dialogue_case
    _add(turn)


def save_location(turn: Turn) -> None:
    key = normalize_for_matching(turn.message.body or "")
    location = match_location(turn.settings.org_data, key)
    assert location is not None  # classified as ANSWER
    turn.contact.location = location.code
    turn.case = _case_of_dialogue(turn)
    turn.opened_case = turn.case is not None
    if turn.case is not None:
        intake.attach(turn.case, turn.message, turn.now)
        if turn.case.location is None:
            turn.case.location = location.code


def save_consent(turn: Turn) -> None:
    consent = normalize_for_matching(turn.message.body or "") in YES_WORDS
    turn.contact.consent_to_contact = consent
    turn.case = _case_of_dialogue(turn)
    if turn.case is not None:
        intake.attach(turn.case, turn.message, turn.now)
        turn.case.consent_to_contact = consent
        audit.record(turn.session, "case.consent", case=turn.case, consent=consent)
    reference = turn.case.reference if turn.case else ""
    if consent:
        body = turn.speaker._("Thank you. Our team may contact you about case %(reference)s.",
                              reference=reference)
    else:
        body = turn.speaker._("Understood. We will only answer you here about case "
                              "%(reference)s.", reference=reference)
    turn.say(body, "confirmation")


HANDLERS: dict[str, Callable[[Turn], None]] = {
    handler.__name__: handler
    for handler in (ask_for_content, opt_out, greet, answer_status, open_or_add_to_case,
                    add_to_case, save_location, save_consent)
}


# --- helpers ------------------------------------------------------------------------------

def _add(turn: Turn) -> None:
    """Attach the message; say so, but not after every message of a burst."""
    case = turn.case
    assert case is not None
    intake.attach(case, turn.message, turn.now)
    last = case.last_followup_ack_at
    in_burst = last is not None and turn.now - last < turn.settings.followup_ack_interval
    if in_burst and not turn.resumed:
        return
    case.last_followup_ack_at = turn.now
    turn.confirm_addition = True


def _case_of_dialogue(turn: Turn) -> Case | None:
    case = turn.contact.dialogue_case
    return case if case is not None and case.is_open else None


def _next_question(turn: Turn, after: State) -> State:
    if not turn.opened_case:
        return State.IDLE
    later = QUESTIONS[QUESTIONS.index(after) + 1:] if after in QUESTIONS else QUESTIONS
    for question in later:
        if not _answered(turn.contact, question):
            return question
    return State.IDLE


def _answered(contact: Contact, question: State) -> bool:
    if question is State.AWAITING_LOCATION:
        return contact.location is not None
    return contact.consent_to_contact is not None


def _enter(turn: Turn, state: State, ask: bool) -> None:
    """Move to the state, asking its question when it is newly entered."""
    contact = turn.contact
    if ask and state is State.AWAITING_LOCATION:
        turn.say(_location_question(turn), "question")
    elif ask and state is State.AWAITING_CONSENT:
        turn.say(turn.speaker._("May someone from our team contact you about your case if "
                                "needed? Reply 1 for yes or 2 for no."), "question")
    elif turn.confirm_addition and turn.case is not None:
        turn.say(turn.speaker._("Thank you. We added your message to case %(reference)s.",
                                reference=turn.case.reference), "added")
    contact.dialogue_state = state.value
    contact.dialogue_updated_at = turn.now
    if turn.case is not None and turn.opened_case:
        contact.dialogue_case = turn.case
    elif state is State.IDLE:
        contact.dialogue_case = None


def _location_question(turn: Turn) -> str:
    speaker = turn.speaker
    lines = [speaker._("Which governorate are you in? Reply with its number:")]
    for number, governorate in enumerate(turn.settings.org_data.governorates, start=1):
        lines.append(f"{number}. {governorate.name(speaker.language)}")
    lines.append(speaker._("If you prefer not to say, just continue writing."))
    return "\n".join(lines)
