"""Documents on a case: sniffed types, size limit, authorised upload and download, audit."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from flask import Flask, g, render_template
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from casework.documents import MAX_DOCUMENT_BYTES, safe_filename, sniff
from casework.models import AuditEvent, Case, CaseDocument, Referral, User, utcnow
from extensions import db
from services import services

PADDING = b"\x00" * 64
SAMPLES = {
    "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "application/pdf"),
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + PADDING, "image/png"),
    "jpeg": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + PADDING, "image/jpeg"),
    "gif": (b"GIF89a\x01\x00\x01\x00" + PADDING, "image/gif"),
    "gif87": (b"GIF87a\x01\x00\x01\x00" + PADDING, "image/gif"),
    "webp": (b"RIFF\x24\x00\x00\x00WEBPVP8 " + PADDING, "image/webp"),
    "ogg-opus": (b"OggS\x00\x02" + b"\x00" * 22 + b"\x13OpusHead" + PADDING, "audio/ogg"),
    "mp3-id3": (b"ID3\x04\x00\x00\x00\x00\x00\x00" + PADDING, "audio/mpeg"),
    "mp3-frame": (b"\xff\xfb\x90\x64" + PADDING, "audio/mpeg"),
    "wav": (b"RIFF\x24\x00\x00\x00WAVEfmt " + PADDING, "audio/wav"),
    "m4a": (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00" + PADDING, "audio/mp4"),
}
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + PADDING


# --- sniffing --------------------------------------------------------------------------------

@pytest.mark.parametrize(("content", "expected"), list(SAMPLES.values()), ids=list(SAMPLES))
def test_allowed_types_are_recognised_by_content(content: bytes, expected: str) -> None:
    assert sniff(content) == expected


@pytest.mark.parametrize("content", [
    HTML, b"  <html><head></head></html>", EXE, b"PK\x03\x04" + PADDING, b"plain words",
    b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"RIFF\x24\x00\x00\x00AVI LIST",
    b"\x00\x00\x00\x18ftypheic" + PADDING, b"\x00\x00\x00\x18ftypqt  " + PADDING,
    b"\xff\xf1\x50\x80" + PADDING, b"", b"%PD",
], ids=["html", "html-leading-space", "exe", "zip", "text", "svg", "avi", "heic", "quicktime",
        "aac-adts", "empty", "truncated-pdf"])
def test_other_content_is_refused(content: bytes) -> None:
    assert sniff(content) is None


@pytest.mark.parametrize(("name", "content_type", "expected"), [
    ("report.pdf", "application/pdf", "report.pdf"),
    ("../../etc/passwd.pdf", "application/pdf", "passwd.pdf"),
    ("C:\\Users\\me\\scan.JPG", "image/jpeg", "scan.jpg"),
    ("scan.html", "application/pdf", "scan.pdf"),
    ("no-extension", "image/png", "no-extension.png"),
    ("تقرير التحقيق.pdf", "application/pdf", "تقرير التحقيق.pdf"),
    ("a\u202egnp.exe", "image/png", "agnp.png"),
    ('x"; filename="evil.html', "image/gif", "x__ filename__evil.gif"),
    ("...", "audio/ogg", "document.ogg"),
    ("", "audio/mpeg", "document.mp3"),
    ("voice.opus", "audio/ogg", "voice.opus"),
    ("a" * 300 + ".pdf", "application/pdf", "a" * 116 + ".pdf"),
], ids=["plain", "path-traversal", "windows-path", "wrong-extension", "no-extension", "arabic",
        "rtl-override", "header-injection", "only-dots", "empty", "other-extension", "too-long"])
def test_filenames_are_sanitised(name: str, content_type: str, expected: str) -> None:
    assert safe_filename(name, content_type) == expected


# --- fixtures --------------------------------------------------------------------------------

@pytest.fixture
def case(new_case: Callable[..., Case]) -> Case:
    return new_case(location="SY-ID-01")


def _upload(client: FlaskClient, case: Case, content: bytes, name: str = "file.pdf",
            **extra: str) -> object:
    """Post the file as a browser would (the body built in memory: no temporary file)."""
    fields: dict[str, object] = {"file": FileStorage(io.BytesIO(content), filename=name), **extra}
    boundary, body = encode_multipart(fields)
    return client.post(f"/admin/cases/{case.reference}/documents", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def _refer(case: Case, user: User) -> None:
    case.referrals.append(Referral(to_user_id=user.id, due_at=utcnow() + timedelta(days=3)))
    db.session.commit()


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


# --- upload ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(SAMPLES))
def test_officer_attaches_each_allowed_type(signed_in: Callable[..., FlaskClient], case: Case,
                                            kind: str) -> None:
    content, content_type = SAMPLES[kind]
    client = signed_in("officer")
    response = _upload(client, case, content, name=f"محضر {kind}.bin")
    assert response.status_code == 302
    assert urlsplit(response.location).path == f"/admin/cases/{case.reference}"
    document = db.session.scalars(select(CaseDocument)).one()
    assert (document.case_id, document.content_type, document.size_bytes) == (
        case.id, content_type, len(content))
    assert document.uploaded_by_id == client.user.id  # type: ignore[attr-defined]
    assert document.filename.startswith(f"محضر {kind}") and not document.filename.endswith(".bin")
    assert services().attachment_store.read(document.storage_key) == content
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "document.uploaded")).one()
    assert event.case_id == case.id and event.details["document_id"] == document.id
    assert "محضر" not in str(event.details)  # names can identify people: not in the log


@pytest.mark.parametrize(("label", "content", "name", "status", "reason"), [
    ("html-renamed-pdf", HTML, "report.pdf", 400, "This type of file is not accepted"),
    ("exe", EXE, "setup.exe", 400, "This type of file is not accepted"),
    ("exe-renamed-jpg", EXE, "photo.jpg", 400, "This type of file is not accepted"),
    ("empty", b"", "empty.pdf", 400, "The file is empty"),
    ("over-10-mb", b"%PDF-" + b"0" * (MAX_DOCUMENT_BYTES - 4), "big.pdf", 413,
     "larger than 10 MB"),
], ids=["html-renamed-pdf", "exe", "exe-renamed-jpg", "empty", "over-10-mb"])
def test_refused_uploads_say_why_and_store_nothing(
    signed_in: Callable[..., FlaskClient], case: Case, label: str, content: bytes, name: str,
    status: int, reason: str,
) -> None:
    client = signed_in("officer")
    client.set_cookie("lang", "en")
    response = _upload(client, case, content, name=name)
    assert response.status_code == status, label
    assert reason in _file_error(response), label
    assert db.session.scalars(select(CaseDocument)).all() == []
    assert "document.uploaded" not in _actions()


def test_exactly_10_mb_is_accepted(signed_in: Callable[..., FlaskClient], case: Case) -> None:
    content = b"%PDF-" + b"0" * (MAX_DOCUMENT_BYTES - 5)
    assert _upload(signed_in("officer"), case, content).status_code == 302
    assert db.session.scalars(select(CaseDocument)).one().size_bytes == MAX_DOCUMENT_BYTES


def test_a_far_larger_request_is_cut_off(signed_in: Callable[..., FlaskClient],
                                         case: Case) -> None:
    response = _upload(signed_in("officer"), case, b"%PDF-" + b"0" * (12 * 1024 * 1024))
    assert response.status_code == 413
    assert db.session.scalars(select(CaseDocument)).all() == []


def test_upload_without_a_file_is_refused(signed_in: Callable[..., FlaskClient],
                                          case: Case) -> None:
    client = signed_in("officer")
    client.set_cookie("lang", "en")
    response = client.post(f"/admin/cases/{case.reference}/documents", data={},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "Choose a file" in _file_error(response)


def _file_error(response: object) -> str:
    """The error the case page shows under its file field (the field names it)."""
    page = response.get_data(as_text=True)  # type: ignore[attr-defined]
    control = re.search(r'<input\b[^>]*\bid="document-file"[^>]*>', page)
    assert control is not None and 'aria-invalid="true"' in control.group(), page[:500]
    assert 'aria-describedby="document-file-error"' in control.group()
    error = re.search(r'<span id="document-file-error" class="field-errors">(.*?)</span></span>',
                      page[control.end():])
    assert error is not None
    return error.group(1)


def test_upload_needs_the_csrf_token(app: Flask, signed_in: Callable[..., FlaskClient],
                                     case: Case) -> None:
    client = signed_in("officer")
    app.config["WTF_CSRF_ENABLED"] = True
    content = SAMPLES["pdf"][0]
    assert _upload(client, case, content).status_code == 400
    page = client.get("/admin/cases/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    assert _upload(client, case, content, csrf_token=token.group(1)).status_code == 302


# (label, role, locations, case is sensitive, referred to the user, expected status)
ACCESS = [
    ("officer-own-location", "officer", ["SY-ID"], False, False, 302),
    ("officer-all-locations", "officer", None, False, False, 302),
    ("officer-other-location", "officer", ["IQ-NI"], False, False, 404),
    ("officer-sensitive-case", "officer", None, True, False, 403),
    ("psea-sensitive-case", "psea", None, True, False, 302),
    ("psea-ordinary-case", "psea", None, False, False, 404),
    ("focal-point-referred", "focal_point", None, False, True, 403),
    ("focal-point-not-referred", "focal_point", None, False, False, 404),
    ("admin", "admin", None, False, False, 403),
    ("viewer", "viewer", None, False, False, 403),
]


@pytest.mark.parametrize(("label", "role", "locations", "sensitive", "referred", "status"),
                         ACCESS, ids=[row[0] for row in ACCESS])
def test_who_may_attach(signed_in: Callable[..., FlaskClient], new_case: Callable[..., Case],
                        label: str, role: str, locations: list[str] | None, sensitive: bool,
                        referred: bool, status: int) -> None:
    case = new_case(location="SY-ID-01", sensitive=sensitive)
    client = signed_in(role, locations=locations)
    if referred:
        _refer(case, client.user)  # type: ignore[attr-defined]
    response = _upload(client, case, SAMPLES["png"][0], name="photo.png")
    assert response.status_code == status, label
    assert len(db.session.scalars(select(CaseDocument)).all()) == (1 if status == 302 else 0)


def test_unknown_case_is_not_found(signed_in: Callable[..., FlaskClient]) -> None:
    client = signed_in("officer")
    assert client.post("/admin/cases/1234567/documents", data={}).status_code == 404


# --- download --------------------------------------------------------------------------------

@pytest.fixture
def stored(signed_in: Callable[..., FlaskClient], case: Case) -> CaseDocument:
    _upload(signed_in("officer", email="uploader@example.org"), case, SAMPLES["pdf"][0],
            name="تقرير التحقيق.pdf")
    return db.session.scalars(select(CaseDocument)).one()


def test_download_is_an_attachment_never_rendered(signed_in: Callable[..., FlaskClient],
                                                  case: Case, stored: CaseDocument) -> None:
    client = signed_in("officer")
    response = client.get(f"/admin/cases/{case.reference}/documents/{stored.id}")
    assert response.status_code == 200
    assert response.data == SAMPLES["pdf"][0]
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''" in disposition and "%D8%AA%D9%82%D8%B1" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "document.downloaded")).one()
    assert event.case_id == case.id and event.details == {"document_id": stored.id}
    assert event.actor == client.user.email  # type: ignore[attr-defined]


DOWNLOAD_ACCESS = [
    ("officer-own-location", "officer", ["SY-ID"], False, 200),
    ("officer-other-location", "officer", ["IQ-NI"], False, 404),
    ("focal-point-referred", "focal_point", None, True, 200),
    ("focal-point-not-referred", "focal_point", None, False, 404),
    ("psea-ordinary-case", "psea", None, False, 404),
    ("admin", "admin", None, False, 403),
    ("viewer", "viewer", None, False, 403),
]


@pytest.mark.parametrize(("label", "role", "locations", "referred", "status"), DOWNLOAD_ACCESS,
                         ids=[row[0] for row in DOWNLOAD_ACCESS])
def test_who_may_download(signed_in: Callable[..., FlaskClient], case: Case,
                          stored: CaseDocument, label: str, role: str,
                          locations: list[str] | None, referred: bool, status: int) -> None:
    client = signed_in(role, locations=locations)
    if referred:
        _refer(case, client.user)  # type: ignore[attr-defined]
    response = client.get(f"/admin/cases/{case.reference}/documents/{stored.id}")
    assert response.status_code == status, label
    assert (SAMPLES["pdf"][0] in response.data) == (status == 200)
    assert _actions().count("document.downloaded") == (1 if status == 200 else 0)


def test_documents_follow_the_case_restriction(signed_in: Callable[..., FlaskClient],
                                               case: Case, stored: CaseDocument) -> None:
    case.sensitive = True  # the case became sensitive after the upload
    db.session.commit()
    officer = signed_in("officer")
    url = f"/admin/cases/{case.reference}/documents/{stored.id}"
    assert officer.get(url).status_code == 403
    assert signed_in("psea").get(url).status_code == 200


def test_document_of_another_case_is_not_found(signed_in: Callable[..., FlaskClient],
                                               new_case: Callable[..., Case], case: Case,
                                               stored: CaseDocument) -> None:
    other = new_case(location="SY-ID-01")
    client = signed_in("officer")
    assert client.get(f"/admin/cases/{other.reference}/documents/{stored.id}").status_code == 404
    assert client.get(f"/admin/cases/{case.reference}/documents/99999").status_code == 404


def test_there_is_no_way_to_change_a_document(signed_in: Callable[..., FlaskClient], case: Case,
                                              stored: CaseDocument) -> None:
    client = signed_in("officer")
    url = f"/admin/cases/{case.reference}/documents/{stored.id}"
    assert client.delete(url).status_code == 405 and client.put(url).status_code == 405


# --- the partial the case page includes -------------------------------------------------------

def _partial(app: Flask, user: User, case: Case) -> str:
    with app.test_request_context("/admin/cases/x?lang=en"):
        g.user = user
        return render_template("admin/_case_documents.html", case=case)


@pytest.mark.parametrize(("label", "role", "sensitive", "lists", "form"), [
    ("officer", "officer", False, True, True),
    ("officer-sensitive", "officer", True, False, False),
    ("psea-sensitive", "psea", True, True, True),
    ("focal-point-referred", "focal_point", False, True, False),
    ("admin", "admin", False, False, False),
], ids=["officer", "officer-sensitive", "psea-sensitive", "focal-point-referred", "admin"])
def test_documents_partial(app: Flask, make_user: Callable[..., User], case: Case,
                           stored: CaseDocument, label: str, role: str, sensitive: bool,
                           lists: bool, form: bool) -> None:
    case.sensitive = sensitive
    user = make_user(role, email=f"{label}@example.org")
    if role == "focal_point":
        _refer(case, user)
    db.session.commit()
    html = _partial(app, user, case)
    assert (f"/admin/cases/{case.reference}/documents/{stored.id}" in html) == lists, label
    assert ('enctype="multipart/form-data"' in html) == form, label
    assert ('name="csrf_token"' in html) == form, label
    assert "<script" not in html and "style=" not in html


def test_partial_escapes_the_filename(app: Flask, make_user: Callable[..., User],
                                      case: Case) -> None:
    case.documents.append(CaseDocument(filename="<img src=x onerror=alert(1)>.png",
                                       content_type="image/png", size_bytes=2048,
                                       storage_key="0" * 64))
    db.session.commit()
    html = _partial(app, make_user("officer"), case)
    assert "<img src=x" not in html and "&lt;img src=x" in html and "2 KB" in html
