"""The dialogue as an explicit state table. See ``bot/STATES.md`` for the diagram.

A contact is always in one state. Each inbound message is classified into one event; the pair
(state, event) picks one small handler and the state that follows. ``NEXT_QUESTION`` means:
ask the next follow-up question still unanswered for the case opened in this conversation
(location, then consent), or go back to ``IDLE`` when there is none.

When an information entry answers a new message (``casework.info``), the answer follows the
acknowledgement and the contact is in ``AWAITING_INFO_FEEDBACK``: 1 closes the case as
answered automatically, 2 leaves it for an officer; then the usual questions follow.

A person who says they did not understand («ما فهمت», «شو يعني؟») is not skipping a question:
the information line's answer did not help them (as 2, an officer explains), and the location,
consent or survey question is asked once more in simpler words.

A question is forgotten after ``DialogueSettings.question_timeout``, except by a message that
is only an answer to it («1», «نعم», «حلب»), while its case is open and within the attach
window: that message arrives in the question's state. With no case to add it to, a message
that is only a number, a yes or a no opens none: it is kept, and the person is asked to write
their complaint or question. So does a message that only says the person did not understand,
when no question waits: they are told what the line is for.

The satisfaction survey is sent by a scheduled job (``casework.survey``), which puts the
contact in ``AWAITING_SURVEY``; an answer of 3 leads to ``AWAITING_REOPEN``. Anything that is
not an answer there is handled as in ``IDLE``: a survey answer never opens a case, and a new
message is never mistaken for an answer. A first «ما فهمت» to the survey is the exception: the
question is asked once more in simpler words; a second is handled as in ``IDLE``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    IDLE = "idle"
    AWAITING_LOCATION = "awaiting_location"
    AWAITING_CONSENT = "awaiting_consent"
    AWAITING_SURVEY = "awaiting_survey"  # 1 satisfied, 2 partly, 3 not satisfied
    AWAITING_REOPEN = "awaiting_reopen"  # after 3: reopen the case? 1 yes, 2 no
    # The information line answered the question: did it? 1 yes (case closed), 2 no
    AWAITING_INFO_FEEDBACK = "awaiting_info_feedback"


class Event(StrEnum):
    EMPTY = "empty"  # no words: empty, only emoji or punctuation, and no attachment
    OPT_OUT = "opt_out"  # STOP, «توقف», «الغاء», «إلغاء»
    START = "start"  # /start (Telegram) or a greeting command
    STATUS_QUERY = "status_query"  # the message is a case reference
    ANSWER = "answer"  # a valid answer to the question the contact was asked
    # One or two digits that are none of the question's choices (a slip: "3" to "1 or 2"),
    # or no words at all (👍) while such a question waits
    NOT_A_CHOICE = "not_a_choice"
    NOT_SATISFIED = "not_satisfied"  # the survey answered with 3
    # «ما فهمت», «شو يعني؟», "I don't understand" to a follow-up question: to the location,
    # consent or survey question only while it was not already asked again in simpler words
    CONFUSED = "confused"
    LINK = "link"  # "/link CODE" on Telegram: a staff member links their chat for alerts
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
    Event.LINK: Transition("link_staff_account", State.IDLE),
}

TRANSITIONS: dict[tuple[State, Event], Transition] = {
    (State.IDLE, Event.TEXT): Transition("open_or_add_to_case", Next.NEXT_QUESTION),
    (State.AWAITING_LOCATION, Event.ANSWER): Transition("save_location", Next.NEXT_QUESTION),
    (State.AWAITING_LOCATION, Event.TEXT): Transition("add_to_case", Next.NEXT_QUESTION),
    (State.AWAITING_CONSENT, Event.ANSWER): Transition("save_consent", State.IDLE),
    (State.AWAITING_CONSENT, Event.TEXT): Transition("add_to_case", State.IDLE),
    (State.AWAITING_SURVEY, Event.ANSWER): Transition("save_satisfaction", State.IDLE),
    (State.AWAITING_SURVEY, Event.NOT_SATISFIED): Transition("offer_reopen",
                                                             State.AWAITING_REOPEN),
    (State.AWAITING_SURVEY, Event.TEXT): Transition("open_or_add_to_case", Next.NEXT_QUESTION),
    (State.AWAITING_REOPEN, Event.ANSWER): Transition("answer_reopen_offer", State.IDLE),
    (State.AWAITING_REOPEN, Event.TEXT): Transition("open_or_add_to_case", Next.NEXT_QUESTION),
    (State.AWAITING_INFO_FEEDBACK, Event.ANSWER): Transition("save_info_feedback",
                                                             Next.NEXT_QUESTION),
    (State.AWAITING_INFO_FEEDBACK, Event.TEXT): Transition("add_to_case", Next.NEXT_QUESTION),
    # Not understanding the answer is not being helped by it: as 2, and an officer explains.
    (State.AWAITING_INFO_FEEDBACK, Event.CONFUSED): Transition("info_not_understood",
                                                               Next.NEXT_QUESTION),
    **{(state, Event.CONFUSED): Transition("ask_more_simply", Next.SAME)
       for state in (State.AWAITING_LOCATION, State.AWAITING_CONSENT, State.AWAITING_SURVEY,
                     State.AWAITING_REOPEN)},
    **{(state, Event.NOT_A_CHOICE): Transition("ask_again", Next.SAME)
       for state in (State.AWAITING_LOCATION, State.AWAITING_CONSENT, State.AWAITING_SURVEY,
                     State.AWAITING_REOPEN, State.AWAITING_INFO_FEEDBACK)},
}

# States whose question may be answered hours later (DialogueSettings.survey_timeout).
SURVEY_STATES: frozenset[State] = frozenset({State.AWAITING_SURVEY, State.AWAITING_REOPEN})

# The follow-up questions, in the order they are asked after a case is opened. The information
# line's "did this answer your question?" comes first, when an entry answered the message.
QUESTIONS: tuple[State, ...] = (State.AWAITING_INFO_FEEDBACK, State.AWAITING_LOCATION,
                                State.AWAITING_CONSENT)


def transition_for(state: State, event: Event) -> Transition:
    if (state, event) in TRANSITIONS:
        return TRANSITIONS[(state, event)]
    if event in ANY_STATE:
        return ANY_STATE[event]
    # An ANSWER, NOT_A_CHOICE or CONFUSED is only classified in a state that asked a question.
    raise KeyError(f"no transition for {state} on {event}")
