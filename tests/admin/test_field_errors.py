"""Every console form ties an error to its field (admin/templates/admin/_form.html).

A table of invalid submissions, one per form and kind of field: the page comes back with the
field marked ``aria-invalid="true"``, its ``aria-describedby`` naming the element that holds
the error, right under the field, and what was typed still in it. So a screen reader says the
field needs fixing and reads the error with it (WCAG 1.3.1, 3.3.1).
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import g
from flask.testing import FlaskClient

from casework import cases
from casework.models import CannedResponse, Case, InfoEntry, User, utcnow
from extensions import db

World = dict[str, Any]


@dataclass(frozen=True)
class Invalid:
    label: str
    role: str
    path: str  # {case}, {canned}, {entry}, {user}: the world's records
    data: Callable[[World], dict[str, str]] | None  # None: a GET with the query in the path
    field: str  # the id of the control that must be marked
    error: str  # a part of the error message (English)
    typed: str | None = None  # what was typed, kept in the field


def _due(days: int = 5) -> str:
    return (utcnow() + timedelta(days=days)).date().isoformat()


NEW_CASE = {"received_by": "in_person", "received_on": "2026-01-10", "text": "لم أستلم السلة",
            "location": ""}
TRIAGE = {"level": "3", "category": "", "location": "SY-ID-01", "project": "", "gender": "",
          "age_group": ""}
ENTRY = {"code": "card2", "answer_ar": "ج", "keywords": "بطاقة"}
SURVEY = {"location": "SY-ID", "period_start": "2026-01-01", "period_end": "2026-01-31",
          "interviewed": "10"}

INVALID = [
    # new case
    Invalid("new-case-without-text", "officer", "/admin/cases/new",
            lambda w: {**NEW_CASE, "text": ""}, "text", "This field is required."),
    Invalid("new-case-date-not-a-date", "officer", "/admin/cases/new",
            lambda w: {**NEW_CASE, "received_on": "next week"}, "received_on", "YYYY-MM-DD",
            "next week"),
    Invalid("new-case-local-phone", "officer", "/admin/cases/new",
            lambda w: {**NEW_CASE, "phone": "0933"}, "phone", "international form", "0933"),
    Invalid("new-case-consent-without-phone", "officer", "/admin/cases/new",
            lambda w: {**NEW_CASE, "consent": "y"}, "consent", "Give the phone number"),
    Invalid("new-case-unknown-location", "officer", "/admin/cases/new",
            lambda w: {**NEW_CASE, "location": "XX-99"}, "location", "Not a valid choice"),
    # information entries
    Invalid("info-entry-date-not-a-date", "officer", "/admin/info/new",
            lambda w: {"code": "card", "valid_from": "soon"}, "valid_from", "date", "soon"),
    Invalid("info-entry-unknown-location", "officer", "/admin/info/{entry}",
            lambda w: {"code": "card", "locations": "XX"}, "locations",
            "Choose only from the list."),
    Invalid("info-entry-unknown-kind-of-question", "officer", "/admin/info/new",
            lambda w: {"code": "card", "asks": "whither"}, "asks-0",
            "Choose only from the list."),
    # information entries: refusals of the service (casework.info), each about one field
    Invalid("info-entry-short-name-taken", "officer", "/admin/info/new",
            lambda w: {**ENTRY, "code": "card"}, "code", "Another entry has this short name.",
            "card"),
    Invalid("info-entry-without-an-answer", "officer", "/admin/info/new",
            lambda w: {**ENTRY, "answer_ar": ""}, "answer_ar", "Write the answer in Arabic"),
    Invalid("info-entry-question-too-long", "officer", "/admin/info/new",
            lambda w: {**ENTRY, "question_en": "why " * 501}, "question_en",
            "longer than 2000 characters"),
    Invalid("info-entry-sorani-answer-too-long", "officer", "/admin/info/new",
            lambda w: {**ENTRY, "answer_ckb": "کەی " * 501}, "answer_ckb",
            "longer than 2000 characters"),
    # a Sorani answer alone is not enough: Arabic and English readers would get nothing
    Invalid("info-entry-with-only-a-sorani-answer", "officer", "/admin/info/new",
            lambda w: {**ENTRY, "answer_ar": "", "answer_ckb": "وەڵام"}, "answer_ar",
            "Write the answer in Arabic"),
    Invalid("info-entry-without-topic-words", "officer", "/admin/info/new",
            lambda w: {**ENTRY, "keywords": ""}, "keywords", "Give at least one topic word."),
    Invalid("info-entry-empty-word-in-a-list", "officer", "/admin/info/new",
            lambda w: {**ENTRY, "also": "سلة\n*"}, "also", "an empty or invalid word"),
    Invalid("info-entry-ending-before-it-starts", "officer", "/admin/info/{entry}",
            lambda w: {**ENTRY, "code": "card", "valid_from": "2026-02-01",
                       "valid_to": "2026-01-01"}, "valid_to", "cannot end before it starts",
            "2026-01-01"),
    # programme records
    Invalid("project-without-name", "officer", "/admin/programme/projects/new",
            lambda w: {"name": "", "donor": "ECHO"}, "name", "This field is required."),
    Invalid("training-in-the-future", "officer", "/admin/programme/trainings/new",
            lambda w: {"held_on": "2031-03-02"}, "held_on", "cannot be in the future",
            "2031-03-02"),
    Invalid("training-participants-not-a-number", "officer", "/admin/programme/trainings/new",
            lambda w: {"held_on": "2026-01-02", "participants-0-organisation": "Sawti",
                       "participants-0-count": "many"}, "participants-0-count",
            "Enter a whole number.", "many"),
    Invalid("session-count-not-a-number", "admin", "/admin/programme/sessions/new",
            lambda w: {"held_on": "2026-01-02", "women": "some"}, "women",
            "Enter a whole number.", "some"),
    Invalid("session-unknown-channel", "officer", "/admin/programme/sessions/new",
            lambda w: {"held_on": "2026-01-02", "women": "3", "channels_promoted": "fax"},
            "channels_promoted-0", "Choose only from the list."),
    Invalid("survey-end-not-a-date", "officer", "/admin/programme/surveys/new",
            lambda w: {**SURVEY, "period_end": "2026-02-30"}, "period_end", "date",
            "2026-02-30"),
    # programme records: refusals of the service (casework.programme), each about one field
    Invalid("project-ending-before-it-starts", "officer", "/admin/programme/projects/new",
            lambda w: {"name": "WASH", "start_date": "2026-03-01", "end_date": "2026-01-01"},
            "end_date", "The end cannot be before the start.", "2026-01-01"),
    Invalid("training-participants-without-organisation", "officer",
            "/admin/programme/trainings/new",
            lambda w: {"held_on": "2026-01-02", "participants-0-organisation": "Sawti",
                       "participants-0-count": "3", "participants-1-count": "4"},
            "participants-1-organisation", "Fill in the required fields."),
    Invalid("survey-more-aware-than-interviewed", "officer", "/admin/programme/surveys/new",
            lambda w: {**SURVEY, "aware": "20"}, "aware",
            "cannot be more than the people interviewed", "20"),
    Invalid("survey-ending-before-it-starts", "officer", "/admin/programme/surveys/new",
            lambda w: {**SURVEY, "period_start": "2026-01-31", "period_end": "2026-01-01"},
            "period_end", "The end cannot be before the start.", "2026-01-01"),
    Invalid("lesson-of-an-unknown-case", "officer", "/admin/programme/lessons/new",
            lambda w: {"title": "Late answers", "status": "open", "case_reference": "1234567"},
            "case_reference", "No case you can open has this reference.", "1234567"),
    Invalid("report-submitted-before-its-month", "officer", "/admin/programme/reports",
            lambda w: {"month": "2026-03", "submitted_on": "2026-01-05"}, "submitted_on",
            "must be within or after the report's month", "2026-01-05"),
    # canned responses
    Invalid("canned-without-title", "admin", "/admin/canned",
            lambda w: {"title": "", "body_ar": "نص"}, "title", "This field is required."),
    Invalid("canned-edit-with-a-foreign-placeholder", "admin", "/admin/canned/{canned}",
            lambda w: {"title": "Thanks", "body_ar": "رقم {ref}"}, "body_ar", "{ref}",
            "رقم {ref}"),
    # the case page
    Invalid("case-triage-level-not-in-grid", "officer", "/admin/cases/{case}/triage",
            lambda w: {**TRIAGE, "level": "9"}, "level", "Choose a level of the grid."),
    Invalid("case-triage-project-too-long", "officer", "/admin/cases/{case}/triage",
            lambda w: {**TRIAGE, "project": "م" * 65}, "project", "longer than 64",
            "م" * 65),
    Invalid("case-empty-note", "officer", "/admin/cases/{case}/notes",
            lambda w: {"note": "   "}, "note_body", "This field is empty."),
    Invalid("case-referral-without-recipient", "officer", "/admin/cases/{case}/referrals",
            lambda w: {"to_user": "", "due_date": _due(), "message": "تحقق"}, "to_user",
            "Refer to an active focal point"),
    Invalid("case-referral-due-in-the-past", "officer", "/admin/cases/{case}/referrals",
            lambda w: {"to_user": str(w["focal"]), "due_date": _due(-2), "message": "تحقق"},
            "due_date", "must be in the future"),
    Invalid("case-referral-without-message", "officer", "/admin/cases/{case}/referrals",
            lambda w: {"to_user": str(w["focal"]), "due_date": _due(), "message": ""},
            "message", "This field is empty."),
    Invalid("case-empty-answer-to-a-referral", "focal_point",
            "/admin/cases/{case}/referrals/{referral}/answer", lambda w: {"answer": " "},
            "answer-{referral}", "This field is empty."),
    Invalid("case-empty-reply", "officer", "/admin/cases/{case}/reply",
            lambda w: {"reply": "  "}, "reply_body", "This field is empty."),
    Invalid("case-close-without-resolution", "officer", "/admin/cases/{case}/close",
            lambda w: {"resolution": ""}, "resolution", "Say how the case was resolved"),
    Invalid("case-merge-into-a-mistyped-reference", "officer", "/admin/cases/{case}/merge",
            lambda w: {"into_reference": "1234567"}, "into_reference",
            "not a valid case reference", "1234567"),
    # revealing the contact address, attaching a document (the case page's partials)
    Invalid("reveal-without-reason", "officer", "/admin/cases/{case}/contact",
            lambda w: {"reason": "  "}, "reveal-reason", "Give the reason"),
    Invalid("reveal-reason-too-long", "officer", "/admin/cases/{case}/contact",
            lambda w: {"reason": "س" * 501}, "reveal-reason", "500", "س" * 501),
    Invalid("upload-without-a-file", "officer", "/admin/cases/{case}/documents",
            lambda w: {}, "document-file", "Choose a file to attach."),
    Invalid("upload-a-program", "officer", "/admin/cases/{case}/documents",
            lambda w: {"file": (io.BytesIO(b"MZ\x90\x00" + b"\x00" * 60), "setup.exe")},
            "document-file", "This type of file is not accepted."),
    Invalid("upload-an-empty-file", "officer", "/admin/cases/{case}/documents",
            lambda w: {"file": (io.BytesIO(b""), "empty.pdf")}, "document-file",
            "The file is empty."),
    # erasure
    Invalid("erasure-unknown-reference", "admin", "/admin/erasure?reference=1234567", None,
            "reference", "No case has this reference.", "1234567"),
    Invalid("erasure-without-reason", "admin", "/admin/erasure/{case}",
            lambda w: {"reason": "", "confirm": w["case"]}, "reason", "Choose the reason"),
    Invalid("erasure-not-confirmed", "admin", "/admin/erasure/{case}",
            lambda w: {"reason": "person_request", "confirm": "765"}, "confirm",
            "Type the case reference again", "765"),
    # audit-log filters
    Invalid("audit-date-not-a-date", "admin", "/admin/audit?date_from=2024-99-99", None,
            "date_from", "YYYY-MM-DD", "2024-99-99"),
    Invalid("audit-range-reversed", "admin",
            "/admin/audit?date_from=2024-06-01&date_to=2024-01-01", None, "date_to",
            "before the start date", "2024-01-01"),
    # queue filters
    Invalid("queue-level-not-in-grid", "officer", "/admin/queue?level=99", None, "f-level",
            "“Level” was not understood"),
    Invalid("queue-date-not-a-date", "officer", "/admin/queue?from=2024-02-30", None,
            "f-from", "“Received from” was not understood", "2024-02-30"),
    Invalid("queue-range-reversed", "officer", "/admin/queue?from=2024-06-01&to=2024-01-01",
            None, "f-to", "ends before it starts", "2024-01-01"),
    # staff accounts
    Invalid("new-account-without-email", "admin", "/admin/users",
            lambda w: {"email": "", "role": "officer"}, "email", "This field is required."),
    Invalid("account-unknown-role", "admin", "/admin/users/{user}",
            lambda w: {"name": "Amal", "role": "king"}, "role", "Not a valid choice"),
]


@pytest.fixture
def world(signed_in: Callable[..., FlaskClient], make_user: Callable[..., User],
          new_case: Callable[..., Case]) -> World:
    """A case referred to a focal point (its contact consenting to be called back), an
    information entry, a canned response, an account."""
    case = new_case("لم أستلم السلة الغذائية", location="SY-ID-01")
    case.consent_to_contact = True  # so that its contact details may be revealed
    colleague = make_user("officer", email="colleague@example.org")
    focal = make_user("focal_point", email="focal@example.org")
    referral = cases.refer(db.session, colleague, case, focal, utcnow() + timedelta(days=3),
                           "تحقق من القائمة", utcnow())
    entry = InfoEntry(code="card", question_ar="س", answer_ar="ج", keywords=["بطاقة"],
                      asks=[], also=[], unless=[], examples=[], locations=[])
    canned = CannedResponse(title="Thanks", body_ar="شكرا", body_en="Thanks")
    db.session.add_all([entry, canned])
    db.session.commit()
    return {"case": case.reference, "focal": focal.id, "referral": referral.id,
            "entry": entry.id, "canned": canned.id, "user": colleague.id, "users": focal}


def _client(row: Invalid, world: World, signed_in: Callable[..., FlaskClient],
            app: Any) -> FlaskClient:
    if row.role == "focal_point":  # the person the case was referred to
        client = app.test_client()
        focal = world["users"]
        with client.session_transaction() as session:
            session.update(user_id=focal.id, session_version=focal.session_version,
                           totp_ok=True)
    else:
        client = signed_in(row.role)
    client.set_cookie("lang", "en")
    return client


@pytest.mark.parametrize("row", INVALID, ids=[row.label for row in INVALID])
def test_an_error_is_tied_to_its_field(row: Invalid, world: World, app: Any,
                                       signed_in: Callable[..., FlaskClient]) -> None:
    client = _client(row, world, signed_in, app)
    g.pop("_flask_babel", None)  # the tests share an app context; Flask-Babel caches on g
    path = row.path.format(**world)
    response = (client.get(path) if row.data is None
                else client.post(path, data=row.data(world)))
    assert response.status_code == 400 or row.data is None, response.status_code
    page = response.get_data(as_text=True)
    field_id = row.field.format(**world)
    control = re.search(rf'<(?:input|select|textarea)\b[^>]*\bid="{re.escape(field_id)}"[^>]*>',
                        page)
    assert control is not None, f"no control {field_id}"
    assert 'aria-invalid="true"' in control.group(), control.group()
    described = re.search(r'aria-describedby="([^"]+)"', control.group())
    assert described is not None, control.group()
    error = re.search(rf'<span id="{re.escape(described.group(1))}" class="field-errors">'
                      r'((?:<span class="error">[^<]*</span>)+)</span>', page)
    assert error is not None, f"no element {described.group(1)}"
    assert row.error in html.unescape(re.sub(r"<[^>]+>", " ", error.group(1))), error.group(1)
    # Right under the field: nothing in between but the field's own markup (its label after
    # a checkbox, the other boxes of its list).
    between = page[control.end():error.start()]
    own = re.sub(r"-\d+$", "", field_id)
    assert all(other.startswith(own) for other in re.findall(r'\bid="([^"]+)"', between)), \
        between
    if row.typed is not None:
        kept = control.group() if control.group().startswith("<input") else \
            page[control.end():page.index("</", control.end())]
        assert html.escape(row.typed) in kept, kept
    assert page.count(f'id="{described.group(1)}"') == 1  # names one element only


@pytest.mark.parametrize(("path", "data"), [
    pytest.param("/admin/info/new", {**ENTRY, "keywords": ""}, id="info-entry"),
    pytest.param("/admin/programme/surveys/new", {**SURVEY, "aware": "20"}, id="survey"),
])
def test_a_refusal_about_a_field_leaves_a_summary_atop_the_form(
    path: str, data: dict[str, str], world: World, signed_in: Callable[..., FlaskClient],
) -> None:
    client = signed_in("officer")
    client.set_cookie("lang", "en")
    g.pop("_flask_babel", None)
    page = client.post(path, data=data).get_data(as_text=True)
    alert = re.search(r'<p class="[^"]*error[^"]*" role="alert">([^<]*)</p>', page)
    assert alert is not None and alert.group(1) == "Check the fields marked below.", alert


def test_a_refusal_about_several_fields_stays_atop_the_form(
    world: World, signed_in: Callable[..., FlaskClient],
) -> None:
    """The preferred channels together outnumber the people interviewed: no one field."""
    client = signed_in("officer")
    client.set_cookie("lang", "en")
    g.pop("_flask_babel", None)
    page = client.post("/admin/programme/surveys/new",
                       data={**SURVEY, "prefer_sms": "6", "prefer_telegram": "6"}
                       ).get_data(as_text=True)
    assert re.search(r'role="alert">[^<]*cannot be more than the people interviewed', page)
    assert 'aria-invalid="true"' not in page
