"""How an answer to the location question is matched to a governorate or district."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine import match_location
from casework.text import normalize_for_matching
from config.data import load_org_data

ORG = load_org_data(Path(__file__).resolve().parents[2] / "config")


@pytest.mark.parametrize(("answer", "code"), [
    pytest.param("1", "SY-ID", id="number-in-the-list"),
    pytest.param("١", "SY-ID", id="arabic-indic-number"),
    pytest.param("99", None, id="number-past-the-list"),
    pytest.param("رقم 2", "SY-HL", id="raqm-and-a-number"),
    pytest.param("الرقم ٣", "IQ-NI", id="al-raqm-arabic-indic"),
    pytest.param("number 1", "SY-ID", id="english-number"),
    pytest.param("رقم 99", None, id="raqm-past-the-list"),
    pytest.param("الموصل", "IQ-NI-01", id="district-name"),
    pytest.param("حلب", "SY-HL", id="governorate-name"),
    pytest.param("انا من الباب", "SY-HL-04", id="in-a-sentence"),
    pytest.param("أنا ساكن في عين العرب", "SY-HL-07", id="two-word-name-in-a-sentence"),
    pytest.param("نحنا نازحين بحارم هلق", "SY-ID-02", id="prefixed-ba"),
    pytest.param("ساكنين بالموصل", "IQ-NI-01", id="prefixed-ba-with-article"),
    pytest.param("بحلب", "SY-HL", id="one-prefixed-word"),
    pytest.param("we are in Dibis camp", "IQ-KI-04", id="english-sentence"),
    pytest.param("من حلب ساكن بإدلب", None, id="two-places-ambiguous"),
    pytest.param("لم أستلم السلة الغذائية في حلب هذا الشهر ابدا", None,
                 id="long-message-is-not-an-answer"),
    pytest.param("ما بعرف", None, id="no-place"),
    pytest.param("نعم", None, id="yes-is-not-a-place"),
])
def test_a_place_is_found_in_the_answer(answer: str, code: str | None) -> None:
    place = match_location(ORG, normalize_for_matching(answer))
    assert (place.code if place else None) == code
