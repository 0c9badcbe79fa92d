"""The reply language a message leaves the conversation in (bot/conversation.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.conversation import LanguageSignal
from config.data import load_org_data

PLACES = load_org_data(Path(__file__).resolve().parents[2] / "config").place_names


# A place's name alone is an answer to the location question, read in any language: it keeps
# the language so far, as yes and no do; in a sentence, the sentence's language counts.
@pytest.mark.parametrize(("text", "previous", "expected"), [
    pytest.param("هەولێر", "ckb", "ckb", id="kurdish-spelling-arabic-writes-too-keeps-sorani"),
    pytest.param("دهۆک", "ckb", "ckb", id="duhok-keeps-sorani"),
    pytest.param("حلب", "en", "en", id="arabic-name-keeps-english"),
    pytest.param("Erbil", "ar", "ar", id="english-name-keeps-arabic"),
    pytest.param("هەولێر", None, "ar", id="first-message-arabic"),
    pytest.param("انا من دهۆک", "ckb", "ar", id="arabic-sentence-switches"),
    pytest.param("وين المساعدات", "ckb", "ar", id="not-a-place-switches"),
])
def test_a_place_name_alone_keeps_the_language(text: str, previous: str | None,
                                               expected: str) -> None:
    assert LanguageSignal.of(text, PLACES).reply_language(previous) == expected
