"""Console: information entries — who may see and edit them, writing and approving one, the
recorded answer, and the questions nothing answered."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from casework import info
from casework.models import AuditEvent, Case, InfoEntry, User, utcnow
from extensions import db
from services import services

FORM = {"code": "next_distribution", "question_ar": "متى التوزيع؟",
        "answer_ar": "بين اليوم ١ و١٠ من كل شهر.", "answer_en": "Between the 1st and the 10th.",
        "keywords": "توزيع*\nسله*", "asks": ["when"], "examples": "متى التوزيع\nايمت السلة",
        "active": "y"}
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 64


@pytest.fixture
def officer(signed_in: Callable[..., FlaskClient]) -> FlaskClient:
    client = signed_in("officer")
    client.set_cookie("lang", "en")
    return client


ROLES = [("officer", 200), ("psea", 200), ("admin", 200), ("viewer", 403),
         ("focal_point", 403)]


@pytest.mark.parametrize(("role", "status"), ROLES, ids=[row[0] for row in ROLES])
def test_who_may_keep_the_entries(signed_in: Callable[..., FlaskClient], role: str,
                                  status: int) -> None:
    client = signed_in(role)
    assert client.get("/admin/info").status_code == status
    assert client.post("/admin/info/new", data=FORM).status_code in (
        (302,) if status == 200 else (403,))


def test_an_entry_is_written_approved_and_listed(officer: FlaskClient) -> None:
    response = officer.post("/admin/info/new", data=FORM)
    assert response.status_code == 302
    entry = db.session.scalars(select(InfoEntry)).one()
    assert (entry.keywords, entry.asks, entry.examples) == (
        ["توزيع*", "سله*"], ["when"], ["متى التوزيع", "ايمت السلة"])
    page = officer.get("/admin/info").get_data(as_text=True)
    assert 'id="entry-next_distribution"' in page and "Waiting for approval" in page
    assert officer.post(f"/admin/info/{entry.id}/approve").status_code == 302
    assert entry.approved_by == "officer@example.org"
    assert "In use" in officer.get("/admin/info").get_data(as_text=True)


SORANI = {"question_ckb": "کەی دابەشکردن دەبێت؟",
          "answer_ckb": "لە نێوان ڕۆژی ١ و ١٠ی هەر مانگێکدا."}


def test_the_sorani_question_and_answer_are_saved_and_shown(officer: FlaskClient) -> None:
    assert officer.post("/admin/info/new", data={**FORM, **SORANI}).status_code == 302
    entry = db.session.scalars(select(InfoEntry)).one()
    assert (entry.question_ckb, entry.answer_ckb) == (SORANI["question_ckb"],
                                                      SORANI["answer_ckb"])
    page = officer.get(f"/admin/info/{entry.id}").get_data(as_text=True)
    assert "Answer in Kurdish (Sorani)" in page and SORANI["answer_ckb"] in page


def test_an_entry_without_sorani_is_saved_with_empty_sorani(officer: FlaskClient) -> None:
    assert officer.post("/admin/info/new", data=FORM).status_code == 302
    entry = db.session.scalars(select(InfoEntry)).one()
    assert (entry.question_ckb, entry.answer_ckb) == ("", "")


# A change to any of the words, Sorani ones included, takes the entry out of use until it is
# approved again.
CHANGES = [
    ("answer_ar", "بين اليوم ٥ و١٥ من كل شهر."),
    ("answer_ckb", "لە نێوان ڕۆژی ٥ و ١٥ی هەر مانگێکدا."),
    ("question_ckb", "دابەشکردنی داهاتوو کەیە؟"),
]


@pytest.mark.parametrize(("name", "value"), CHANGES, ids=[row[0] for row in CHANGES])
def test_a_changed_entry_needs_approving_again(officer: FlaskClient, name: str,
                                                value: str) -> None:
    officer.post("/admin/info/new", data={**FORM, **SORANI})
    entry = db.session.scalars(select(InfoEntry)).one()
    officer.post(f"/admin/info/{entry.id}/approve")
    assert entry.approved_at is not None
    response = officer.post(f"/admin/info/{entry.id}", data={**FORM, **SORANI, name: value})
    assert response.status_code == 302
    db.session.expire_all()
    assert getattr(entry, name) == value and entry.approved_at is None
    updated = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "info.updated")).one()
    assert updated.details["fields"] == [name]
    assert "Waiting for approval" in officer.get("/admin/info").get_data(as_text=True)
    officer.post(f"/admin/info/{entry.id}/approve")
    db.session.expire_all()
    assert entry.approved_at is not None
    assert "In use" in officer.get("/admin/info").get_data(as_text=True)


def test_a_refused_entry_says_why_and_keeps_what_was_typed(officer: FlaskClient) -> None:
    response = officer.post("/admin/info/new", data={**FORM, "keywords": ""})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Give at least one topic word." in page and "بين اليوم ١ و١٠" in page
    assert db.session.scalars(select(InfoEntry)).all() == []


def test_a_recorded_answer_is_uploaded_checked_and_played(officer: FlaskClient) -> None:
    officer.post("/admin/info/new", data=FORM)
    entry = db.session.scalars(select(InfoEntry)).one()
    path = f"/admin/info/{entry.id}/audio"
    refused = officer.post(path, data={"audio": (io.BytesIO(b"<html>"), "a.mp3")},
                           content_type="multipart/form-data")
    assert refused.status_code == 400 and entry.audio_storage_key is None
    officer.post(path, data={"audio": (io.BytesIO(MP3), "answer.mp3")},
                 content_type="multipart/form-data")
    assert entry.audio_content_type == "audio/mpeg"
    assert officer.get(path).data == MP3
    assert db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action == "info.audio")).one()


def test_unknown_entry_is_404(officer: FlaskClient) -> None:
    assert officer.get("/admin/info/999").status_code == 404
    assert officer.post("/admin/info/999/approve").status_code == 404


def test_unmatched_questions_show_only_cases_the_user_may_open(
    signed_in: Callable[..., FlaskClient], new_case: Callable[..., Case],
    make_user: Callable[..., User],
) -> None:
    officer = signed_in("officer", locations=["SY-ID"])
    officer.set_cookie("lang", "en")
    visible = new_case("وين بقدر لاقي شغل معكم؟", location="SY-ID-01")
    hidden = new_case("كيف بسجل ابني بالمدرسة؟", location="IQ-NI-01")
    for case in (visible, hidden):
        info.record(db.session, case, case.messages[0], None, utcnow())
    db.session.commit()
    page = officer.get("/admin/info").get_data(as_text=True)
    assert "وين بقدر لاقي شغل معكم؟" in page and visible.reference in page
    assert "كيف بسجل ابني بالمدرسة؟" not in page and hidden.reference not in page


def test_the_page_is_right_to_left_in_arabic(officer: FlaskClient) -> None:
    officer.set_cookie("lang", "ar")
    page = officer.get("/admin/info").get_data(as_text=True)
    assert 'dir="rtl"' in page
    assert services().attachment_store is not None


@pytest.mark.parametrize(("language", "form", "shown", "not_shown"), [
    ("en", {**FORM, "question_en": "When is the distribution?"}, "When is the distribution?",
     "متى التوزيع؟"),
    ("ar", {**FORM, "question_en": "When is the distribution?"}, "متى التوزيع؟",
     "When is the distribution?"),
    ("en", {**FORM, "question_en": ""}, "متى التوزيع؟", None),
    ("ar", {**FORM, "question_ar": "", "question_en": "When?"}, "When?", None),
], ids=["english-page-english-question", "arabic-page-arabic-question",
        "english-page-only-arabic", "arabic-page-only-english"])
def test_the_list_shows_the_question_in_the_readers_language(
        officer: FlaskClient, language: str, form: dict[str, object], shown: str,
        not_shown: str | None) -> None:
    assert officer.post("/admin/info/new", data=form).status_code == 302
    officer.set_cookie("lang", language)
    page = officer.get("/admin/info").get_data(as_text=True)
    assert shown in page and (not_shown is None or not_shown not in page)
