"""A refused file comes back on its own form: the strategy document of a project, the recorded
answer of an information entry, and — when the request is far larger than the limit — a
recorded reply or a document on a case.

Each refusal answers 400 (413 for a file too large) with the page the form was on, the reason
under the file field: the field is ``aria-invalid`` and its ``aria-describedby`` names the
element that holds the reason (WCAG 3.3.1). The record's own form is shown as it is stored,
and nothing is stored: no row, no audit event, no file. The recorded answer's form comes back
so too when its CSRF token is refused; the other upload forms then show the console's "form
expired" page.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from casework import programme
from casework.documents import MAX_DOCUMENT_BYTES
from casework.models import (
    Attachment,
    AuditEvent,
    Case,
    CaseDocument,
    InfoEntry,
    Message,
    Project,
    utcnow,
)
from casework.replies import MAX_AUDIO_BYTES
from extensions import db
from services import services
from tests.admin.conftest import field_error

PROJECT_NAME = "مشروع المياه"
ANSWER = "بين اليوم ١ و١٠ من كل شهر."
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 64
OGG = b"OggS\x00\x02" + b"\x00" * 22 + b"\x13OpusHead" + b"\x00" * 64
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
FAR_TOO_LARGE = 12 * 1024 * 1024  # beyond the route's limit: the request is not even read
REAL_SIZE = 2 * 1024 * 1024  # a real recording or scan: over the application's 1 MB limit

World = dict[str, Any]


@dataclass(frozen=True)
class UploadForm:
    path: str  # {project}, {entry}, {case}: the world's records
    name: str  # the file's name in the posted form
    control: str  # the id of the file field on the page
    kept: str  # what the page shows of the record's own form, as stored
    stored: Callable[[World], list[object]]  # what an accepted upload leaves behind


def _strategy(world: World) -> list[object]:
    project = db.session.get(Project, world["project"])
    assert project is not None
    db.session.refresh(project)
    return [project.strategy_storage_key, *_audited("project.strategy_document")]


def _recording(world: World) -> list[object]:
    entry = db.session.get(InfoEntry, world["entry"])
    assert entry is not None
    db.session.refresh(entry)
    return [entry.audio_storage_key, *_audited("info.audio")]


def _reply(world: World) -> list[object]:
    return [*db.session.scalars(select(Message.id).where(Message.kind == "reply")),
            *db.session.scalars(select(Attachment.id))]


def _document(world: World) -> list[object]:
    return [*db.session.scalars(select(CaseDocument.id)), *_audited("document.uploaded")]


def _audited(action: str) -> list[object]:
    return list(db.session.scalars(select(AuditEvent.id).where(AuditEvent.action == action)))


FORMS = {
    "strategy": UploadForm("/admin/programme/projects/{project}/strategy", "file",
                           "strategy-file", f'value="{PROJECT_NAME}"', _strategy),
    "recording": UploadForm("/admin/info/{entry}/audio", "audio", "entry-audio", ANSWER,
                            _recording),
    "reply-recording": UploadForm("/admin/cases/{case}/reply", "audio", "reply_audio",
                                  'id="reply_body"', _reply),
    "document": UploadForm("/admin/cases/{case}/documents", "file", "document-file",
                           'id="document-file"', _document),
}


@dataclass(frozen=True)
class Refused:
    label: str
    form: str  # a key of FORMS
    upload: tuple[bytes, str] | None  # None: no file chosen
    status: int
    reason: str  # a part of the reason shown under the field (English)


REFUSED = [
    Refused("strategy-without-a-file", "strategy", None, 400, "Choose a file to attach."),
    Refused("strategy-empty", "strategy", (b"", "plan.pdf"), 400, "The file is empty."),
    Refused("strategy-web-page-named-pdf", "strategy", (HTML, "plan.pdf"), 400,
            "Attach the strategy as a PDF or an image"),
    Refused("strategy-a-recording", "strategy", (OGG, "plan.ogg"), 400,
            "Attach the strategy as a PDF or an image"),
    Refused("strategy-over-10-mb", "strategy", (PDF.ljust(MAX_DOCUMENT_BYTES + 1, b"0"),
                                                "plan.pdf"), 413, "larger than 10 MB"),
    Refused("strategy-far-over-the-limit", "strategy", (PDF.ljust(FAR_TOO_LARGE, b"0"),
                                                        "plan.pdf"), 413, "larger than 10 MB"),
    Refused("recording-empty", "recording", (b"", "answer.mp3"), 400, "The file is empty."),
    Refused("recording-web-page-named-mp3", "recording", (HTML, "answer.mp3"), 400,
            "The recording must be an MP3 or WAV file."),
    Refused("recording-ogg-the-line-cannot-play", "recording", (OGG, "answer.ogg"), 400,
            "The recording must be an MP3 or WAV file."),
    Refused("recording-a-pdf", "recording", (PDF, "answer.pdf"), 400,
            "The recording must be an MP3 or WAV file."),
    Refused("recording-over-10-mb", "recording", (MP3.ljust(MAX_AUDIO_BYTES + 1, b"\x00"),
                                                  "answer.mp3"), 413, "larger than 10 MB"),
    Refused("recording-far-over-the-limit", "recording", (MP3.ljust(FAR_TOO_LARGE, b"\x00"),
                                                          "answer.mp3"), 413,
            "larger than 10 MB"),
    Refused("reply-recording-far-over-the-limit", "reply-recording",
            (MP3.ljust(FAR_TOO_LARGE, b"\x00"), "answer.mp3"), 413, "larger than 10 MB"),
    Refused("document-far-over-the-limit", "document", (PDF.ljust(FAR_TOO_LARGE, b"0"),
                                                        "report.pdf"), 413, "larger than 10 MB"),
]


@pytest.fixture
def world(new_case: Callable[..., Case], app_context: None) -> World:
    """A project, an information entry, and a case from the voice line (so its reply form
    takes a recording)."""
    project = programme.save_project(db.session, None, None, {"name": PROJECT_NAME}, utcnow())
    entry = InfoEntry(code="distribution", question_ar="متى التوزيع؟", answer_ar=ANSWER,
                      keywords=["توزيع"], asks=[], also=[], unless=[], examples=[], locations=[])
    db.session.add(entry)
    case = new_case("لم أستلم السلة الغذائية", location="SY-ID-01")
    case.channel = case.contact.channel = "voice"
    db.session.commit()
    return {"project": project.id, "entry": entry.id, "case": case.reference}


@pytest.fixture
def officer(signed_in: Callable[..., FlaskClient]) -> FlaskClient:
    client = signed_in("officer")
    client.set_cookie("lang", "en")
    g.pop("_flask_babel", None)  # the tests share an app context; Flask-Babel caches on g
    return client


@pytest.mark.parametrize("row", REFUSED, ids=[row.label for row in REFUSED])
def test_a_refused_file_is_explained_under_its_field(row: Refused, world: World,
                                                     officer: FlaskClient) -> None:
    form = FORMS[row.form]
    files = _files_stored()
    data = {form.name: (io.BytesIO(row.upload[0]), row.upload[1])} if row.upload else {}
    status, page = _post(officer, form.path.format(**world), data)
    assert status == row.status, page[:500]
    assert row.reason in field_error(page, form.control)
    assert form.kept in page
    assert form.stored(world) in ([], [None])
    assert _files_stored() == files


@pytest.mark.parametrize("name", ["strategy", "recording"])
def test_the_page_of_a_refused_file_is_in_arabic_too(name: str, world: World,
                                                     officer: FlaskClient) -> None:
    form = FORMS[name]
    officer.set_cookie("lang", "ar")
    status, page = _post(officer, form.path.format(**world),
                         {form.name: (io.BytesIO(HTML), "x.pdf")})
    assert status == 400 and 'dir="rtl"' in page
    assert re.search(r"[\u0600-\u06ff]", field_error(page, form.control))


ACCEPTED = {"strategy": (PDF, "plan.pdf"), "recording": (MP3, "answer.mp3"),
            "reply-recording": (MP3, "answer.mp3"), "document": (PDF, "report.pdf")}


@pytest.mark.parametrize("name", list(ACCEPTED))
def test_a_real_sized_file_passes_the_csrf_check(name: str, world: World, app: Flask,
                                                 officer: FlaskClient) -> None:
    """The token is checked once the route's own limit is set: a file over the application's
    1 MB limit is read, not refused before the route runs; without the token it is refused."""
    form = FORMS[name]
    app.config["WTF_CSRF_ENABLED"] = True
    content, filename = ACCEPTED[name]
    content = content.ljust(REAL_SIZE, b"\x00")
    path = form.path.format(**world)
    status, _page = _post(officer, path, {form.name: (io.BytesIO(content), filename)})
    assert status == 400
    assert form.stored(world) in ([], [None])
    page = officer.get("/admin/cases/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token is not None
    status, page = _post(officer, path, {form.name: (io.BytesIO(content), filename),
                                         "csrf_token": token.group(1)})
    assert status == 302, page[:500]
    assert form.stored(world) not in ([], [None])


EXPIRED = "This form had expired. Choose the file again and send it."
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
TOKENS: dict[str, Callable[[Flask], str | None]] = {
    "missing": lambda app: None,
    "garbled": lambda app: "not-a-token",
    # What a page left open past its session sends: a token the session no longer matches.
    "of-another-session": lambda app: _token(app.test_client()),
}


@pytest.mark.parametrize("token", list(TOKENS))
def test_an_expired_recording_form_asks_for_the_file_again(token: str, world: World,
                                                           app: Flask,
                                                           officer: FlaskClient) -> None:
    """The recorded answer's form comes back with the reason under the file field (a browser
    does not keep a chosen file), and the token it now holds lets the file through."""
    form = FORMS["recording"]
    app.config["WTF_CSRF_ENABLED"] = True
    path = form.path.format(**world)
    upload = {form.name: (io.BytesIO(MP3), "answer.mp3")}
    stale = TOKENS[token](app)
    status, page = _post(officer, path, upload if stale is None
                         else {**upload, "csrf_token": stale}, headers=BROWSER)
    assert status == 400
    assert field_error(page, form.control) == EXPIRED
    assert form.kept in page
    assert form.stored(world) in ([], [None])
    fresh = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      page[page.index('id="recording"'):])
    assert fresh is not None
    status, page = _post(officer, path, {form.name: (io.BytesIO(MP3), "answer.mp3"),
                                         "csrf_token": fresh.group(1)})
    assert status == 302, page[:500]
    assert form.stored(world) not in ([], [None])


@pytest.mark.parametrize("name", ["strategy", "reply-recording", "document"])
def test_other_expired_upload_forms_get_the_expired_form_page(name: str, world: World,
                                                              app: Flask,
                                                              officer: FlaskClient) -> None:
    form = FORMS[name]
    app.config["WTF_CSRF_ENABLED"] = True
    status, page = _post(officer, form.path.format(**world),
                         {form.name: (io.BytesIO(PDF), "plan.pdf")}, headers=BROWSER)
    assert status == 400 and 'data-status="400"' in page
    assert "This form has expired." in page
    assert EXPIRED not in page and 'aria-invalid="true"' not in page


def _token(client: FlaskClient) -> str:
    page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token is not None
    g.pop("csrf_token", None)  # Flask-WTF caches it on g, which the tests' requests share
    return token.group(1)


def _post(client: FlaskClient, path: str, data: dict[str, object],
          headers: dict[str, str] | None = None) -> tuple[int, str]:
    """Post the form as a browser would (the body built in memory: no temporary file)."""
    fields = {name: FileStorage(value[0], filename=value[1]) if isinstance(value, tuple)
              else value for name, value in data.items()}
    boundary, body = encode_multipart(fields)
    response = client.post(path, data=body, headers=headers,
                           content_type=f"multipart/form-data; boundary={boundary}")
    return response.status_code, response.get_data(as_text=True)


def _files_stored() -> set[Path]:
    root = services().attachment_store.root
    return set(root.rglob("*")) if root.exists() else set()

