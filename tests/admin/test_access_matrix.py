"""Proof that the case page's roles are enforced on the server: every role × every route.

One table: for each role, the exact HTTP status of the case page, the attachment download
and every action, on a programme (non-sensitive) case and on a sensitive case. Each cell runs
on a fresh case set up so that the action succeeds for someone allowed to do it (the case is
closed before "reopen", a merge target the allowed roles can open exists, the referral to
answer is to the focal point): a 302 means "done", and a refusal (403/404) changes nothing.

- ``200`` the full case page; ``200r`` the restricted summary (no content) — an officer and a
  sensitive case;
- ``302`` done (or, for a visitor who is not signed in, sent to the login page);
- ``403`` listed for the user but not allowed; ``404`` not listed: the case does not exist
  for them (a focal point asking for a case not referred to them, an officer of another
  location, admin and viewer who see aggregates only).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from casework.models import (
    Attachment,
    Case,
    CaseStatus,
    Direction,
    Message,
    Referral,
    User,
    utcnow,
)
from extensions import db
from services import services

BODY = "لم أستلم السلة الغذائية هذا الشهر"
ROUTES = ("page", "attachment", "triage", "note", "refer", "answer", "reply", "close",
          "reopen", "merge")
ALL_302 = " ".join(["302"] * len(ROUTES))
ALL_404 = " ".join(["404"] * len(ROUTES))

# role → (programme case, sensitive case); columns in the order of ROUTES:
#               page  attach triage note refer answer reply close reopen merge
EXPECTED: dict[str, tuple[str, str]] = {
    "anonymous": (ALL_302, ALL_302),
    "admin": (ALL_404, ALL_404),
    "viewer": (ALL_404, ALL_404),
    "officer": ("200  200 302 302 302 403 302 302 302 302",
                "200r 403 403 403 403 403 403 403 403 403"),
    "officer_elsewhere": (ALL_404, ALL_404),
    "psea": (ALL_404,
             "200  200 302 302 302 403 302 302 302 302"),
    "focal_point_referred": ("200 200 403 302 403 302 403 403 403 403",
                             "200 200 403 302 403 302 403 403 403 403"),
    "focal_point_unrelated": (ALL_404, ALL_404),
}

ROWS = [pytest.param(role, kind, row, id=f"{role}-{kind}")
        for role, rows in EXPECTED.items()
        for kind, row in zip(("plain", "sensitive"), rows, strict=True)]


def test_the_matrix_covers_every_role_and_route() -> None:
    assert len(ROWS) == 8 * 2
    assert all(len(row.values[2].split()) == len(ROUTES) for row in ROWS)


@pytest.mark.parametrize(("role", "kind", "expected"), ROWS)
def test_case_routes_enforce_roles(
    role: str, kind: str, expected: str, app: Flask,
    signed_in: Callable[..., FlaskClient], make_user: Callable[..., User],
    new_case: Callable[..., Case],
) -> None:
    client, focal = _client_for(role, app, signed_in, make_user)
    seen = [_status(route, kind, client, focal, new_case) for route in ROUTES]
    assert " ".join(seen) == " ".join(expected.split()), dict(zip(ROUTES, seen, strict=True))


def _status(route: str, kind: str, client: FlaskClient, focal: User,
            new_case: Callable[..., Case]) -> str:
    """One cell: a fresh case (and merge target) set up so the action would succeed."""
    sensitive = kind == "sensitive"
    level = 5 if sensitive else 3
    case = new_case(BODY, sensitive=sensitive, location="SY-ID-01", level=level)
    target = new_case("نفس الشكوى مرة أخرى", sensitive=sensitive, location="SY-ID-02",
                      level=level)
    referral = Referral(case=case, to_user_id=focal.id, message="يرجى المتابعة",
                        due_at=utcnow() + timedelta(days=3), created_at=utcnow())
    db.session.add(referral)
    attachment = _stored_attachment(case)
    if route == "reopen":
        case.status, case.closed_at, case.resolution = CaseStatus.CLOSED, utcnow(), "تم"
    db.session.commit()

    base = f"/admin/cases/{case.reference}"
    due = (utcnow() + timedelta(days=7)).date().isoformat()
    requests: dict[str, tuple[str, dict[str, str]]] = {
        "page": (base, {}),
        "attachment": (f"{base}/attachments/{attachment.id}", {}),
        "triage": (f"{base}/triage", {"level": str(level), "location": "SY-ID-01",
                                      "category": "", "project": "", "gender": "",
                                      "age_group": ""}),
        "note": (f"{base}/notes", {"note": "ملاحظة داخلية"}),
        "refer": (f"{base}/referrals", {"to_user": str(focal.id), "due_date": due,
                                        "message": "يرجى الرد"}),
        "answer": (f"{base}/referrals/{referral.id}/answer", {"answer": "تمت المعالجة"}),
        "reply": (f"{base}/reply", {"reply": "سنتابع طلبك"}),
        "close": (f"{base}/close", {"resolution": "تم التوزيع"}),
        "reopen": (f"{base}/reopen", {}),
        "merge": (f"{base}/merge", {"into_reference": target.reference}),
    }
    url, data = requests[route]
    before = _snapshot(case)
    reading = route in ("page", "attachment")
    response = client.get(url) if reading else client.post(url, data=data)
    page = response.get_data(as_text=True)
    if response.status_code in (403, 404):
        assert _snapshot(case) == before, route
    if response.status_code == 302:
        # Done, back on the case with a flash; or, not signed in, sent to the login page.
        assert response.location.startswith(("/admin/login", base)), response.location
    if route == "page" and response.status_code == 200:
        if 'class="card case-restricted"' in page:
            assert BODY not in page
            return "200r"
        assert BODY in page
    return str(response.status_code)


def _client_for(role: str, app: Flask, signed_in: Callable[..., FlaskClient],
                make_user: Callable[..., User]) -> tuple[FlaskClient, User]:
    """The client for the role, and the focal point the case is referred to."""
    if role == "anonymous":
        return app.test_client(), make_user("focal_point", email="focal@example.org")
    if role == "focal_point_referred":
        client = signed_in("focal_point", email="focal@example.org")
        return client, client.user  # type: ignore[attr-defined]
    focal = make_user("focal_point", email="focal@example.org")
    kwargs: dict[str, object] = {
        "officer": {"locations": ["SY-ID"]},
        "officer_elsewhere": {"locations": ["SY-HL"]},
        "focal_point_unrelated": {"email": "other-focal@example.org"},
    }.get(role, {})
    actual = {"officer_elsewhere": "officer", "focal_point_unrelated": "focal_point"}
    return signed_in(actual.get(role, role), **kwargs), focal


def _snapshot(case: Case) -> tuple[object, ...]:
    db.session.expire_all()
    fresh = db.session.get(Case, case.id)
    assert fresh is not None
    return (fresh.status, fresh.level, fresh.sensitive, fresh.location, fresh.merged_into_id,
            fresh.resolution, len(fresh.notes), len(fresh.messages),
            [(item.id, item.answered_at) for item in fresh.referrals])


def _stored_attachment(case: Case) -> Attachment:
    message = db.session.scalars(select(Message).where(
        Message.case_id == case.id, Message.direction == Direction.INBOUND)).first()
    assert message is not None
    content = b"OggS\x00 a voice note"
    attachment = Attachment(message=message, kind="voice", content_type="audio/ogg",
                            storage_key=services().attachment_store.save(content),
                            size_bytes=len(content), fetch_status="stored")
    db.session.add(attachment)
    return attachment
