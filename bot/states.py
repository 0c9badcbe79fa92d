"""The dialogue as an explicit state table. See ``bot/STATES.md`` for the diagram.

A contact is always in one state. Each inbound message is classified into one event; the pair
(state, event) picks one small handler and the state that follows. ``NEXT_QUESTION`` means:
ask the next follow-up question still unanswered for the case opened in this conversation
(location, then consent), or go back to ``IDLE`` when there is none.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    IDLE = "idle"
    AWAITING_LOCATION = "awaiting_location"
    AWAITING_CONSENT = "awaiting_consent"


class Event(StrEnum):
    EMPTY = "empty"  # no words: empty, only emoji or punctuation, and no attachment
    OPT_OUT = "opt_out"  # STOP, «توقف», «الغاء», «إلغاء»
    START = "start"  # /start (Telegram) or a greeting command
    STATUS_QUERY = "status_query"  # the message is a case reference
    ANSWER = "answer"  # a valid answer to the question the contact was asked
    TEXT = "text"  # anything else: feedback, a complaint, a question


class Next(StrEnum):
    SAME = "same"  # stay in the current state
    NEXT_QUESTION = "next_question"


@dataclass(frozen=True)
class Transition:
    handler: str  # name of a function in bot.engine.HANDLERS
    next: State | Next


# Rows for any state come first; a (state, event) row overrides them.
ANY_STATE: dict[Event, Transition] = {
    Event.EMPTY: Transition("ask_for_content", Next.SAME),
    Event.OPT_OUT: Transition("opt_out", State.IDLE),
    Event.START: Transition("greet", State.IDLE),
    Event.STATUS_QUERY: Transition("answer_status", Next.SAME),
}

TRANSITIONS: dict[tuple[State, Event], Transition] = {
    (State.IDLE, Event.TEXT): Transition("open_or_add_to_case", Next.NEXT_QUESTION),
    (State.AWAITING_LOCATION, Event.ANSWER): Transition("save_location", Next.NEXT_QUESTION),
    (State.AWAITING_LOCATION, Event.TEXT): Transition("add_to_case", Next.NEXT_QUESTION),
    (State.AWAITING_CONSENT, Event.ANSWER): Transition("save_consent", State.IDLE),
    (State.AWAITING_CONSENT, Event.TEXT): Transition("add_to_case", State.IDLE),
}

# The follow-up questions, in the order they are asked after a case is opened.
QUESTIONS: tuple[State, ...] = (State.AWAITING_LOCATION, State.AWAITING_CONSENT)


def transition_for(state: State, event: Event) -> Transition:
    if (state, event) in TRANSITIONS:
        return TRANSITIONS[(state, event)]
    if event in ANY_STATE:
        return ANY_STATE[event]
    # An ANSWER is only ever classified in a state that asked a question.
    raise KeyError(f"no transition for {state} on {event}")
