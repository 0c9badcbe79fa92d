"""A person who writes Sorani Kurdish is answered in Sorani, through the simulator webhook;
what exists only in Arabic and English (a place without a Sorani name, the organisation's name,
an information entry without a Sorani answer) is Arabic, and with Kurdish replies turned off
(SAWTI_REPLY_LANGUAGES) Kurdish is answered in Arabic."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from sqlalchemy import select

from bot.states import State
from casework import info
from casework.models import InfoAnswer, InfoEntry
from extensions import db
from tests.bot.conftest import Person

SORANI = "سڵاو، من هاوکاریم پێنەگەیشتووە بۆ ئەم مانگە"
BADINI = "سلاڤ، من هاریکاریا خۆ وەرنەگرتیە ڤێ هەیڤێ"
# Sentences of the Kurdish catalogue, as the replies must hold them.
ACK = "نامەکەتمان پێگەیشت و دۆسیەیەکمان بۆ کردیتەوە بە ژمارەی"
DEADLINE = "لە ماوەی 15 ڕۆژدا وەڵامت دەدەینەوە."
CONFIDENTIAL = "هەرچییەک پێمان بڵێیت نهێنی دەمێنێتەوە"
LOCATION_QUESTION = "لە کام پارێزگایت؟ ژمارەکەی بنێرە:"
CONSENT_QUESTION = "ڕازیت کەسێک لە تیمەکەمان"
REFERENCE = re.compile(r"\b\d{7}\b")
LATIN_LETTER = re.compile(r"[A-Za-z]")


def _text(replies: list) -> str:
    return "\n".join(reply.body for reply in replies)


@pytest.mark.parametrize("first", [pytest.param(SORANI, id="sorani"),
                                   pytest.param(BADINI, id="badini")])
def test_a_kurdish_message_is_acknowledged_in_kurdish(person: Callable[[], Person],
                                                      first: str) -> None:
    someone = person()
    replies = someone.says(first)
    assert [reply.kind for reply in replies] == ["ack", "question"]
    ack, question = (reply.body for reply in replies)
    [case] = someone.cases
    assert REFERENCE.findall(ack) == [case.reference]
    for sentence in (ACK, DEADLINE, CONFIDENTIAL):
        assert sentence in ack
    assert question.startswith(LOCATION_QUESTION)
    assert "1. إدلب" in question  # no Sorani name for Idlib: the Arabic one
    assert not LATIN_LETTER.search(ack + question), "English in a Kurdish reply"
    assert someone.contact.language == case.language == "ckb"
    assert {reply.language for reply in replies} == {"ckb"}
    assert someone.contact.dialogue_state == State.AWAITING_LOCATION


def test_the_questions_are_answered_in_kurdish_and_short_answers_keep_it(
    person: Callable[[], Person],
) -> None:
    someone = person()
    someone.says(SORANI)
    [consent] = someone.says("1")  # a number says nothing about the language
    assert consent.kind == "question" and CONSENT_QUESTION in consent.body
    [confirmation] = someone.says("بەڵێ")
    reference = someone.cases[0].reference
    assert confirmation.kind == "confirmation"
    assert confirmation.body == f"سوپاس. لەوانەیە تیمەکەمان دەربارەی دۆسیەی {reference} " \
                                "پەیوەندیت پێوە بکات."
    [case] = someone.cases
    assert case.consent_to_contact is True and case.location == "SY-ID"
    assert someone.contact.language == "ckb"


def test_a_kurdish_status_query(person: Callable[[], Person]) -> None:
    someone = person()
    someone.says(SORANI)
    reference = someone.cases[0].reference
    [status] = someone.says(f"دۆخی سکاڵاکەم {reference}")
    assert status.kind == "status"
    assert status.body == (f"دۆسیەکەت بە ژمارەی {reference}: گەیشتووە و چاوەڕێی "
                           "پێداچوونەوەی تیمەکەمانە.")
    [without_number] = someone.says("سکاڵاکەم چی لێهات؟")
    assert without_number.kind == "status" and reference in without_number.body
    assert "چاوەڕێی پێداچوونەوەی" in without_number.body
    assert len(someone.cases) == 1


@pytest.mark.parametrize("word", ["بوەستە", "هەڵوەشاندنەوە"])
def test_opting_out_in_kurdish(person: Callable[[], Person], word: str) -> None:
    someone = person()
    someone.says(SORANI)
    [reply] = someone.says(word)
    assert reply.kind == "opt_out"
    assert reply.body == "چیتر هیچ نامەیەکت لە ئێمەوە بۆ نایەت. ئەگەر دووبارە بۆمان " \
                         "بنووسیتەوە، وەڵامت دەدەینەوە."
    assert someone.contact.opted_out and someone.contact.language == "ckb"


@pytest.mark.parametrize(("says", "kind", "expected"), [
    pytest.param("سڵاو", "greeting", "بەخێربێیت بۆ صوتي.", id="hello"),
    pytest.param("زۆر سوپاس", "courtesy", "شایەنی نییە.", id="thanks"),
])
def test_a_kurdish_greeting_or_thanks_is_answered_in_kind(person: Callable[[], Person],
                                                          says: str, kind: str,
                                                          expected: str) -> None:
    someone = person()
    [reply] = someone.says(says)
    assert reply.kind == kind and reply.body.startswith(expected)
    assert someone.cases == []


def test_not_understood_gets_the_location_question_in_simpler_kurdish(
    person: Callable[[], Person],
) -> None:
    someone = person()
    someone.says(SORANI)
    [simpler] = someone.says("تێنەگەیشتم")
    assert simpler.kind == "question_simpler"
    assert simpler.body.startswith("کێشە نییە. دەپرسین لە کوێ دەژیت")
    assert "بۆ نموونە: إدلب." in simpler.body  # the example place in Arabic


@pytest.mark.parametrize("settings_overrides", [{"sawti_reply_languages": "ar,en"}])
def test_with_kurdish_replies_off_kurdish_is_answered_in_arabic(
    person: Callable[[], Person], settings_overrides: dict[str, object],
) -> None:
    someone = person()
    replies = someone.says(SORANI)
    assert [reply.kind for reply in replies] == ["ack", "question"]
    assert "شكراً لتواصلك مع صوتي" in replies[0].body
    assert "في أي محافظة أنت؟" in replies[1].body
    assert someone.contact.language == someone.cases[0].language == "ar"
    [status] = someone.says(f"دۆخی سکاڵاکەم {someone.cases[0].reference}")
    assert status.kind == "status" and status.body.startswith("حالتك رقم")


@pytest.mark.parametrize("settings_overrides", [{"sawti_reply_languages": "ar,en"}])
def test_a_kurdish_reader_from_before_replies_were_turned_off_gets_arabic(
    person: Callable[[], Person], settings_overrides: dict[str, object],
) -> None:
    someone = person()
    someone.says("🙏")
    contact = someone.contact
    contact.language = "ckb"  # stored while Kurdish replies were on
    db.session.commit()
    [prompt] = someone.says("1")  # no sign of a language: the previous one, if it is on
    assert prompt.kind == "prompt" and prompt.language == "ar"
    assert prompt.body.startswith("لم نعرف على أي سؤال يجيب ردّك هذا.")
    assert someone.contact.language == "ar"


# The location question's list in Sorani: the Sorani name where locations.yaml has one, else
# the Arabic one (Idlib).
SORANI_GOVERNORATES = ["1. إدلب", "2. حەلەب", "3. نەینەوا", "4. ئەنبار", "5. سەڵاحەدین",
                       "6. کەرکووک", "7. دیالە", "8. دهۆک", "9. هەولێر", "10. بەغدا"]


def test_the_location_question_lists_sorani_place_names(person: Callable[[], Person]) -> None:
    [_ack, question] = person().says(SORANI)
    assert question.body.splitlines()[1:-1] == SORANI_GOVERNORATES


# The consent question follows in Sorani, also after a name Arabic speakers write the Kurdish
# way too (هەولێر, دهۆک, کەرکووک), which says nothing about the language.
@pytest.mark.parametrize(("answer", "code"), [
    pytest.param("هەولێر", "IQ-AR", id="erbil"),
    pytest.param("دهۆک", "IQ-DA", id="duhok"),
    pytest.param("کەرکووک", "IQ-KI", id="kirkuk"),
    pytest.param("نەینەوا", "IQ-NI", id="nineveh"),
    pytest.param("لە سەڵاحەدین", "IQ-SD", id="in-salah-al-din"),
    pytest.param("ئەنبار", "IQ-AN", id="anbar"),
    pytest.param("حەلەب", "SY-HL", id="aleppo"),
    pytest.param("لە هەولێرم", "IQ-AR", id="in-erbil-i-am"),
    pytest.param("ئێمە لە دهۆکین", "IQ-DA", id="we-are-in-duhok"),
])
def test_a_sorani_place_name_answers_the_location_question(person: Callable[[], Person],
                                                           answer: str, code: str) -> None:
    someone = person()
    someone.says(SORANI)
    [consent] = someone.says(answer)
    assert consent.kind == "question" and CONSENT_QUESTION in consent.body
    assert someone.cases[0].location == code


ARABIC_ANSWER = "توزَّع السلال بين اليوم الأول والعاشر."
ENGLISH_ANSWER = "Baskets are handed out between the 1st and the 10th."
SORANI_ANSWER = "سەبەتەکان لە نێوان ڕۆژی یەکەم و دەیەمی هەر مانگێکدا دابەش دەکرێن."
SORANI_QUESTION = "کەی دابەشکردنی سەبەتەی خۆراک دەبێت؟"
DID_IT_ANSWER = "ئایا ئەمە وەڵامی پرسیارەکەتی دایەوە؟"


@pytest.mark.parametrize(("answer_ckb", "expected"), [
    pytest.param(SORANI_ANSWER, SORANI_ANSWER, id="sorani-answer-written"),
    pytest.param("", ARABIC_ANSWER, id="no-sorani-answer-arabic"),
])
def test_the_information_line_answers_a_kurdish_question(
    person: Callable[[], Person], approved_entry: Callable[..., InfoEntry], answer_ckb: str,
    expected: str,
) -> None:
    # Matching is by the entry's words, whatever the language: an officer adds Sorani ones.
    approved_entry(code="next_distribution", answer_ar=ARABIC_ANSWER, answer_en=ENGLISH_ANSWER,
                   answer_ckb=answer_ckb, keywords=["توزيع*", "دابەشکردن*"])
    someone = person()
    replies = someone.says(SORANI_QUESTION)
    assert [reply.kind for reply in replies] == ["ack", "info_answer"]
    answer = replies[1]
    assert answer.body.startswith(expected + "\n\n") and DID_IT_ANSWER in answer.body
    assert answer.language == "ckb" and not LATIN_LETTER.search(answer.body)
    assert db.session.scalars(select(InfoAnswer.entry_id)).one() is not None


# An entry that answers "when" only: a Sorani question must read as one («کەی», «کەنگی»).
@pytest.mark.parametrize("question", [
    pytest.param(SORANI_QUESTION, id="sorani-kay"),
    pytest.param("کەنگی دابەشکردن دەبیت", id="badini-kengi-no-question-mark"),
    pytest.param("لە چ کاتێک دابەشکردن دەکرێت", id="sorani-what-time"),
])
def test_a_kurdish_when_question_reaches_an_entry_that_answers_when(
    person: Callable[[], Person], approved_entry: Callable[..., InfoEntry], question: str,
) -> None:
    approved_entry(code="next_distribution", answer_ar=ARABIC_ANSWER, answer_en=ENGLISH_ANSWER,
                   answer_ckb=SORANI_ANSWER, keywords=["توزيع*", "دابەشکردن*"], asks=["when"])
    replies = person().says(question)
    assert [reply.kind for reply in replies] == ["ack", "info_answer"]
    assert replies[1].body.startswith(SORANI_ANSWER + "\n\n")


ENTRY = {"code": "next_distribution", "question_ar": "متى التوزيع؟",
         "question_en": "When is the distribution?", "question_ckb": "کەی دابەشکردن دەبێت؟",
         "answer_ar": ARABIC_ANSWER, "answer_en": ENGLISH_ANSWER, "answer_ckb": SORANI_ANSWER}


@pytest.mark.parametrize(("language", "written", "answer", "question"), [
    pytest.param("ckb", {}, SORANI_ANSWER, "کەی دابەشکردن دەبێت؟", id="kurdish-reads-sorani"),
    pytest.param("ckb", {"answer_ckb": "", "question_ckb": ""}, ARABIC_ANSWER, "متى التوزيع؟",
                 id="kurdish-without-sorani-reads-arabic"),
    pytest.param("ckb", {"answer_ckb": None, "question_ckb": None}, ARABIC_ANSWER,
                 "متى التوزيع؟", id="kurdish-entry-from-before-sorani-reads-arabic"),
    pytest.param("ar", {}, ARABIC_ANSWER, "متى التوزيع؟", id="arabic"),
    pytest.param("en", {}, ENGLISH_ANSWER, "When is the distribution?", id="english"),
    pytest.param("en", {"answer_en": "", "question_en": ""}, ARABIC_ANSWER, "متى التوزيع؟",
                 id="english-without-english-reads-arabic"),
])
def test_an_information_entry_in_the_readers_language(language: str,
                                                      written: dict[str, str | None],
                                                      answer: str, question: str) -> None:
    entry = InfoEntry(**{**ENTRY, **written})
    assert (info.answer_text(entry, language), info.question_text(entry, language)) == \
        (answer, question)
