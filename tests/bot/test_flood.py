"""A flood from one sender is stored in full but answered only up to the per-minute limit."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.bot.conftest import Person


@pytest.mark.parametrize("settings_overrides", [{"sawti_inbound_per_minute": 3}])
def test_messages_past_the_limit_are_kept_but_not_answered(person: Callable[..., Person]
                                                           ) -> None:
    someone = person()
    replies = [someone.says(text) for text in
               ("لم أستلم السلة", "1", "1", "مرحبا؟", "مرحبا؟؟", "ردوا علي")]
    assert [[r.kind for r in batch] for batch in replies] == [
        ["ack", "question"], ["question"], ["confirmation"], [], [], []]
    [case] = someone.cases
    assert len([m for m in case.messages if m.direction == "in"]) == 6  # nothing lost
