"""The state table is complete: every handler exists, every state is in the diagram."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine import HANDLERS
from bot.states import ANY_STATE, SURVEY_STATES, TRANSITIONS, Event, State, transition_for

DIAGRAM = (Path(__file__).resolve().parents[2] / "bot" / "STATES.md").read_text(
    encoding="utf-8")


@pytest.mark.parametrize("transition", [*TRANSITIONS.values(), *ANY_STATE.values()],
                         ids=lambda transition: transition.handler)
def test_every_transition_has_a_handler(transition: object) -> None:
    assert transition.handler in HANDLERS  # type: ignore[attr-defined]


@pytest.mark.parametrize("state", list(State), ids=str)
def test_every_state_is_in_the_diagram_and_handles_text(state: State) -> None:
    assert f" {state.value}" in DIAGRAM
    assert transition_for(state, Event.TEXT).handler in HANDLERS
    assert transition_for(state, Event.LINK).handler == "link_staff_account"


@pytest.mark.parametrize("state", sorted(SURVEY_STATES), ids=str)
def test_no_survey_answer_opens_a_case(state: State) -> None:
    answers = [event for (row_state, event) in TRANSITIONS if row_state is state
               and event is not Event.TEXT]
    assert answers and all(transition_for(state, event).handler != "open_or_add_to_case"
                           for event in answers)
