"""Text in another language than the page's is marked so (WCAG 3.1.2, Language of Parts).

A person's message, a staff note, an answer kept only in the other column, a project typed in
English on the Arabic console: ``lang`` names its language when it is known and is not the
page's, ``dir`` gives its direction ("auto" for free text). A screen reader then reads Arabic
with an Arabic voice on the English console, and English with an English one on the Arabic
console. The pages are fetched and their markup read, in both languages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import select

from admin.languages import lang_attrs, text_attrs, written_in
from casework import cases, info
from casework.models import CannedResponse, Case, InfoEntry, Message, Project, utcnow
from extensions import db

ARABIC = "لم أستلم السلة الغذائية هذا الشهر"
ENGLISH = "I did not receive the food basket this month"
ARABIZI = "salam ana ma 2ajani el sallah"
KURDISH = "سڵاو، من هاوکاریم پێنەگەیشتووە بۆ ئەم مانگە"

SignedIn = Callable[..., FlaskClient]


def _page(client: FlaskClient, path: str, lang: str) -> str:
    g.pop("_flask_babel", None)  # the tests share an app context; Flask-Babel caches on g
    response = client.get(path, query_string={"lang": lang})
    assert response.status_code == 200, response.status_code
    page = response.get_data(as_text=True)
    assert f'<html lang="{lang}"' in page
    return page


def _opening_tag(page: str, text: str) -> str:
    """The opening tag of the element whose text is ``text``."""
    found = re.search(rf"<(\w+)\b([^>]*)>{re.escape(escape(text, quote=False))}</\1>", page)
    assert found is not None, f"{text!r} not found as an element's whole text"
    return found.group(2)


def _marks(attributes: str) -> tuple[str | None, str | None]:
    lang = re.search(r'\blang="([^"]*)"', attributes)
    direction = re.search(r'\bdir="([^"]*)"', attributes)
    return (lang.group(1) if lang else None, direction.group(1) if direction else None)


# --- the rules -------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "language"), [
    pytest.param(ARABIC, "ar", id="arabic"),
    pytest.param(ENGLISH, "en", id="english"),
    pytest.param(ARABIZI, None, id="arabizi-not-marked"),
    pytest.param(KURDISH, "ckb", id="kurdish"),
    pytest.param("١٢٣٤٥٦٧", None, id="digits"),
    pytest.param("", None, id="empty"),
    pytest.param(None, None, id="none"),
])
def test_what_a_text_is_written_in(text: str | None, language: str | None) -> None:
    assert written_in(text) == language


@pytest.mark.parametrize(("page", "language", "direction", "expected"), [
    pytest.param("en", "ar", "auto", ' lang="ar" dir="auto"', id="arabic-on-english"),
    pytest.param("ar", "ar", "auto", ' dir="auto"', id="arabic-on-arabic"),
    pytest.param("ar", "en", "script", ' lang="en" dir="ltr"', id="english-on-arabic"),
    pytest.param("en", "ar", "script", ' lang="ar" dir="rtl"', id="arabic-column"),
    pytest.param("en", None, "auto", ' dir="auto"', id="unknown"),
    pytest.param("en", '"><script>', "auto", ' dir="auto"', id="not-a-language-code"),
    pytest.param("en", "ar", "sideways", ' lang="ar" dir="auto"', id="not-a-direction"),
    pytest.param("ar", "ckb", "auto", ' lang="ckb" dir="rtl"', id="kurdish-on-arabic"),
    pytest.param("en", "ckb", "auto", ' lang="ckb" dir="rtl"', id="kurdish-on-english"),
    pytest.param("en", "ckb", "script", ' lang="ckb" dir="rtl"', id="kurdish-script"),
])
def test_the_attributes(app: Flask, page: str, language: str | None, direction: str,
                        expected: str) -> None:
    with app.test_request_context(f"/admin/?lang={page}"):
        g.pop("_flask_babel", None)
        assert str(lang_attrs(language, direction)) == expected


def test_free_text_is_marked_by_what_it_shows(app: Flask) -> None:
    with app.test_request_context("/admin/?lang=en"):
        g.pop("_flask_babel", None)
        assert str(text_attrs(ARABIC)) == ' lang="ar" dir="auto"'
        assert str(text_attrs(ENGLISH)) == ' dir="auto"'
        assert str(text_attrs(ENGLISH, "ar")) == ' lang="ar" dir="auto"'  # a known language


# --- the case page ---------------------------------------------------------------------------

@pytest.fixture
def officer(signed_in: SignedIn) -> FlaskClient:
    return signed_in("officer")


def test_a_persons_arabic_message_on_the_english_case_page(
    officer: FlaskClient, new_case: Callable[..., Case],
) -> None:
    case = new_case(ARABIC)
    english = _page(officer, f"/admin/cases/{case.reference}", "en")
    assert _marks(_opening_tag(english, ARABIC)) == ("ar", "auto")
    arabic = _page(officer, f"/admin/cases/{case.reference}", "ar")
    assert _marks(_opening_tag(arabic, ARABIC)) == (None, "auto")


def test_english_on_the_arabic_case_page(officer: FlaskClient,
                                         new_case: Callable[..., Case]) -> None:
    case = new_case(ENGLISH)
    reply = "We are checking the distribution list and will answer you soon"
    note = "Checked with the distribution team today"
    cases.add_note(db.session, officer.user, case, note, utcnow())  # type: ignore[attr-defined]
    assert officer.post(f"/admin/cases/{case.reference}/reply",
                        data={"reply": reply}).status_code == 302
    stored = db.session.scalars(select(Message).where(Message.kind == "reply")).one()
    stored.language = "ar"  # stored with the person's language: the text says otherwise
    db.session.commit()
    page = _page(officer, f"/admin/cases/{case.reference}", "ar")
    for text in (ENGLISH, reply, note):
        assert _marks(_opening_tag(page, text)) == ("en", "auto"), text


@pytest.mark.parametrize(("lang", "name"), [
    pytest.param("en", "Kurdish (Sorani)", id="english-page"),
    pytest.param("ar", "الكردية (السورانية)", id="arabic-page"),
])
def test_a_kurdish_case_says_so_and_marks_its_messages(
    officer: FlaskClient, new_case: Callable[..., Case], lang: str, name: str,
) -> None:
    case = new_case(KURDISH)
    acknowledgement = db.session.scalars(select(Message).where(
        Message.case_id == case.id, Message.kind == "ack")).one()
    assert case.language == acknowledgement.language == "ckb"
    page = _page(officer, f"/admin/cases/{case.reference}", lang)
    assert f'<dd data-language="ckb">{escape(name)}</dd>' in page
    assert _marks(_opening_tag(page, KURDISH)) == ("ckb", "rtl")
    assert _marks(_opening_tag(page, acknowledgement.body or "")) == ("ckb", "rtl")


@pytest.mark.parametrize(("lang", "name"), [
    pytest.param("en", "Arabic", id="english-page"),
    pytest.param("ar", "العربية", id="arabic-page"),
])
def test_an_arabic_case_says_so(officer: FlaskClient, new_case: Callable[..., Case], lang: str,
                                name: str) -> None:
    case = new_case(ARABIC)
    page = _page(officer, f"/admin/cases/{case.reference}", lang)
    assert f'<dd data-language="ar">{name}</dd>' in page


def test_arabizi_is_left_unmarked(officer: FlaskClient, new_case: Callable[..., Case]) -> None:
    case = new_case(ARABIZI)
    page = _page(officer, f"/admin/cases/{case.reference}", "en")
    assert _marks(_opening_tag(page, ARABIZI)) == (None, "auto")


def test_sawtis_own_messages_are_in_their_stored_language(
    officer: FlaskClient, new_case: Callable[..., Case],
) -> None:
    case = new_case(ARABIC)
    automatic = db.session.scalars(select(Message).where(
        Message.case_id == case.id, Message.direction == "out")).first()
    assert automatic is not None and automatic.body and automatic.language == "ar"
    page = _page(officer, f"/admin/cases/{case.reference}", "en")
    assert _marks(_opening_tag(page, automatic.body)) == ("ar", "auto")


def test_an_answer_kept_only_in_arabic_is_marked_on_the_english_page(
    officer: FlaskClient, new_case: Callable[..., Case],
) -> None:
    case = new_case(ARABIC)
    entry = InfoEntry(code="card", question_ar="متى التوزيع القادم؟", answer_ar="ج",
                      keywords=["توزيع"], asks=[], also=[], unless=[], examples=[],
                      locations=[])
    db.session.add(entry)
    db.session.flush()
    answer = info.record(db.session, case, None, entry, utcnow())
    answer.satisfied = True
    case.status, case.closed_at = "closed", utcnow()
    db.session.commit()
    page = _page(officer, f"/admin/cases/{case.reference}", "en")
    assert 'data-resolution="information-line"' in page
    assert _marks(_opening_tag(page, "متى التوزيع القادم؟")) == ("ar", "auto")


# --- other pages -----------------------------------------------------------------------------

def test_the_queue_marks_a_preview_in_the_other_language(
    officer: FlaskClient, new_case: Callable[..., Case],
) -> None:
    new_case(ARABIC)
    page = _page(officer, "/admin/queue", "en")
    previews = re.findall(r'<span class="text"([^>]*)>', page)
    assert previews and all(_marks(tag) == ("ar", "auto") for tag in previews), previews


@pytest.mark.parametrize(("lang", "arabic", "english", "shown", "marks"), [
    pytest.param("en", "متى التوزيع؟", "", "متى التوزيع؟", ("ar", "auto"),
                 id="only-arabic-on-english"),
    pytest.param("ar", "", "When is the distribution?", "When is the distribution?",
                 ("en", "auto"), id="only-english-on-arabic"),
    pytest.param("en", "متى التوزيع؟", "When is the distribution?",
                 "When is the distribution?", (None, "auto"), id="both-on-english"),
])
def test_an_information_entry_shown_in_the_other_language(
    signed_in: SignedIn, lang: str, arabic: str, english: str, shown: str,
    marks: tuple[str | None, str | None],
) -> None:
    db.session.add(InfoEntry(code="next_distribution", question_ar=arabic, question_en=english,
                             answer_ar="ج", keywords=["توزيع"], asks=[], also=[], unless=[],
                             examples=[], locations=[]))
    db.session.commit()
    page = _page(signed_in("officer"), "/admin/info", lang)
    assert _marks(_opening_tag(page, shown)) == marks


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_fields_for_one_language_say_which(signed_in: SignedIn, lang: str) -> None:
    client = signed_in("admin")
    entry_page = _page(client, "/admin/info/new", lang)
    canned_page = _page(client, "/admin/canned", lang)
    for page, name, language, direction in [
        (entry_page, "question_ar", "ar", "rtl"), (entry_page, "answer_ar", "ar", "rtl"),
        (entry_page, "question_en", "en", "ltr"), (entry_page, "answer_en", "en", "ltr"),
        (entry_page, "question_ckb", "ckb", "rtl"), (entry_page, "answer_ckb", "ckb", "rtl"),
        (canned_page, "body_ar", "ar", "rtl"), (canned_page, "body_en", "en", "ltr"),
    ]:
        control = re.search(rf'<textarea\b[^>]*\bname="{name}"[^>]*>', page)
        assert control is not None, name
        assert _marks(control.group()) == (language, direction), control.group()


def test_canned_titles_in_the_reply_picker(officer: FlaskClient,
                                           new_case: Callable[..., Case]) -> None:
    case = new_case(ARABIC)
    db.session.add(CannedResponse(title="شكر واعتذار عن التأخير", body_ar="شكرا",
                                  body_en="Thanks"))
    db.session.commit()
    page = _page(officer, f"/admin/cases/{case.reference}", "en")
    assert _marks(_opening_tag(page, "شكر واعتذار عن التأخير")) == ("ar", "auto")


def test_a_project_named_in_english_on_the_arabic_list(signed_in: SignedIn) -> None:
    now = utcnow()
    db.session.add_all([Project(name="Water trucking in the camps", created_at=now,
                                updated_at=now),
                        Project(name="توزيع السلال الغذائية", created_at=now, updated_at=now)])
    db.session.commit()
    client = signed_in("officer")
    arabic = _page(client, "/admin/programme/projects", "ar")
    assert _marks(_opening_tag(arabic, "Water trucking in the camps")) == ("en", "auto")
    assert _marks(_opening_tag(arabic, "توزيع السلال الغذائية")) == (None, "auto")
    english = _page(client, "/admin/programme/projects", "en")
    assert _marks(_opening_tag(english, "توزيع السلال الغذائية")) == ("ar", "auto")
