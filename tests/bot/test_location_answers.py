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


# Where most displaced people in north-west Syria live, named by their town or camp rather than
# their district (OCHA admin2: Atmeh, Sarmada, Dana and Kafr Lusin are in Harim).
@pytest.mark.parametrize(("answer", "code"), [
    pytest.param("مخيمات أطمة", "SY-ID-02", id="atmeh-camps"),
    pytest.param("انا بسرمدا", "SY-ID-02", id="in-sarmada"),
    pytest.param("الدانا", "SY-ID-02", id="dana"),
    pytest.param("ساكنين بمخيم كفرلوسين", "SY-ID-02", id="kafr-lusin-camp"),
    pytest.param("سلقين", "SY-ID-02", id="salqin"),
    pytest.param("من سرمين", "SY-ID-01", id="sarmin-in-idlib-district"),
    pytest.param("جنديرس", "SY-HL-02", id="jandairis-in-afrin"),
    pytest.param("مارع", "SY-HL-03", id="marea-in-azaz"),
    pytest.param("الراعي", "SY-HL-04", id="al-rai-in-al-bab"),
    pytest.param("atmeh camp", "SY-ID-02", id="atmeh-in-latin"),
])
def test_towns_and_camps_name_their_district(answer: str, code: str) -> None:
    place = match_location(ORG, normalize_for_matching(answer))
    assert (place.code if place else None) == code
