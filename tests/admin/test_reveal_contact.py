"""Revealing a contact address: only to roles that call back, only with consent, only with a
reason, audited without the address, shown once and kept nowhere."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask, g, render_template
from flask.testing import FlaskClient
from sqlalchemy import select

from casework.models import AuditEvent, Case, Referral, User, utcnow
from extensions import db
from services import services

REASON = "معاودة الاتصال لإبلاغه بنتيجة التحقيق"


@pytest.fixture
def case(new_case: Callable[..., Case]) -> Case:
    found = new_case(location="SY-ID-01")
    found.consent_to_contact = True
    db.session.commit()
    return found


def _address(case: Case) -> str:
    assert case.contact is not None and case.contact.address_encrypted
    return services().vault.decrypt(case.contact.address_encrypted)


def _reveal(client: FlaskClient, case: Case, reason: str | None = REASON) -> object:
    data = {} if reason is None else {"reason": reason}
    return client.post(f"/admin/cases/{case.reference}/contact?lang=en", data=data)


def _events(action: str = "contact.revealed") -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_officer_reveals_with_consent_and_reason(signed_in: Callable[..., FlaskClient],
                                                 case: Case,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = signed_in("officer")
    address = _address(case)
    response = _reveal(client, case)
    page = response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert page.count(address) == 1 and "revealed-address" in page
    assert f'href="/admin/cases/{case.reference}"' in page
    assert "no-store" in response.headers["Cache-Control"]  # type: ignore[attr-defined]
    event = _events()[0]
    assert event.case_id == case.id and event.actor == client.user.email  # type: ignore[attr-defined]
    assert event.details["reason"] == REASON
    assert address not in str(event.details)
    # Kept nowhere: not in the session, not in any audit row, not in the logs.
    with client.session_transaction() as session:
        assert address not in str(dict(session))
    for row in db.session.scalars(select(AuditEvent)):
        assert address not in str(row.details)
    assert address not in caplog.text
    # The next page of the console does not show it again.
    assert address not in client.get("/admin/cases/new").get_data(as_text=True)


@pytest.mark.parametrize(("label", "consent", "reason", "status", "message"), [
    ("consent-and-reason", True, REASON, 200, ""),
    ("no-consent", False, REASON, 403, "did not consent"),
    ("consent-not-asked", None, REASON, 403, "did not consent"),
    ("no-reason", True, None, 400, "Give the reason"),
    ("empty-reason", True, "", 400, "Give the reason"),
    ("blank-reason", True, "   \n ", 400, "Give the reason"),
    ("reason-too-long", True, "س" * 501, 400, "500"),
    ("no-consent-no-reason", False, None, 403, "did not consent"),
], ids=["consent-and-reason", "no-consent", "consent-not-asked", "no-reason", "empty-reason",
        "blank-reason", "reason-too-long", "no-consent-no-reason"])
def test_consent_and_reason_are_required(signed_in: Callable[..., FlaskClient], case: Case,
                                         label: str, consent: bool | None, reason: str | None,
                                         status: int, message: str) -> None:
    case.consent_to_contact = consent
    db.session.commit()
    client = signed_in("officer")
    response = _reveal(client, case, reason)
    body = response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert response.status_code == status, label  # type: ignore[attr-defined]
    assert message in body, label
    assert (_address(case) in body) == (status == 200), label
    assert len(_events()) == (1 if status == 200 else 0), label


# (label, role, locations, sensitive, referred, expected)
ACCESS = [
    ("officer-own-location", "officer", ["SY-ID"], False, False, 200),
    ("officer-other-location", "officer", ["IQ-NI"], False, False, 404),
    ("officer-sensitive-case", "officer", None, True, False, 403),
    ("psea-sensitive-case", "psea", None, True, False, 200),
    ("psea-ordinary-case", "psea", None, False, False, 404),
    ("focal-point-referred", "focal_point", None, False, True, 403),
    ("admin", "admin", None, False, False, 403),
    ("viewer", "viewer", None, False, False, 403),
]


@pytest.mark.parametrize(("label", "role", "locations", "sensitive", "referred", "status"),
                         ACCESS, ids=[row[0] for row in ACCESS])
def test_who_may_reveal(signed_in: Callable[..., FlaskClient], case: Case, label: str,
                        role: str, locations: list[str] | None, sensitive: bool, referred: bool,
                        status: int) -> None:
    case.sensitive = sensitive
    client = signed_in(role, locations=locations)
    if referred:
        case.referrals.append(Referral(to_user_id=client.user.id,  # type: ignore[attr-defined]
                                       due_at=utcnow() + timedelta(days=3)))
    db.session.commit()
    response = _reveal(client, case)
    assert response.status_code == status, label  # type: ignore[attr-defined]
    assert (_address(case) in response.get_data(as_text=True)) == (status == 200)  # type: ignore[attr-defined]
    assert len(_events()) == (1 if status == 200 else 0)


def test_visitor_cannot_reveal(app: Flask, client: FlaskClient, case: Case) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    response = _reveal(client, case)
    assert response.status_code == 302 and "/admin/login" in response.location  # type: ignore[attr-defined]


def test_reveal_needs_the_csrf_token(app: Flask, signed_in: Callable[..., FlaskClient],
                                     case: Case) -> None:
    client = signed_in("officer")
    app.config["WTF_CSRF_ENABLED"] = True
    assert _reveal(client, case).status_code == 400  # type: ignore[attr-defined]
    assert _events() == []


def test_case_entered_without_contact_has_nothing_to_reveal(
    signed_in: Callable[..., FlaskClient],
) -> None:
    client = signed_in("officer")
    client.post("/admin/cases/new", data={"received_by": "box", "received_on": "2025-03-01",
                                          "text": "شكوى من صندوق الشكاوى"})
    entered = db.session.scalars(select(Case)).one()
    entered.consent_to_contact = True
    db.session.commit()
    assert _reveal(client, entered).status_code == 404  # type: ignore[attr-defined]


def test_sms_number_of_an_entered_case_is_revealed(signed_in: Callable[..., FlaskClient],
                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = signed_in("officer")
    client.post("/admin/cases/new", data={"received_by": "phone", "received_on": "2025-03-01",
                                          "text": "شكوى هاتفية", "phone": "+963 944 123 456",
                                          "consent": "y"})
    entered = db.session.scalars(select(Case)).one()
    page = _reveal(client, entered).get_data(as_text=True)  # type: ignore[attr-defined]
    assert "+963944123456" in page
    assert "944123456" not in caplog.text
    assert all("944123456" not in str(event.details) for event in
               db.session.scalars(select(AuditEvent)))


# --- the partial the case page includes -------------------------------------------------------

def _partial(app: Flask, user: User, case: Case) -> str:
    with app.test_request_context("/admin/cases/x?lang=en"):
        g.user = user
        return render_template("admin/_case_contact.html", case=case)


@pytest.mark.parametrize(("label", "role", "consent", "texts", "form"), [
    ("officer-consent", "officer", True, ["Contact details are hidden"], True),
    ("officer-no-consent", "officer", False, ["did not consent"], False),
    ("officer-consent-not-asked", "officer", None, ["did not consent"], False),
    ("focal-point-consent", "focal_point", True, ["Contact details are hidden"], False),
], ids=["officer-consent", "officer-no-consent", "officer-consent-not-asked",
        "focal-point-consent"])
def test_contact_partial(app: Flask, make_user: Callable[..., User], case: Case, label: str,
                         role: str, consent: bool | None, texts: list[str], form: bool) -> None:
    case.consent_to_contact = consent
    user = make_user(role)
    if role == "focal_point":
        case.referrals.append(Referral(to_user_id=user.id, due_at=utcnow() + timedelta(days=3)))
    db.session.commit()
    html = _partial(app, user, case)
    for text in texts:
        assert text in html, label
    assert _address(case) not in html
    assert (f'action="/admin/cases/{case.reference}/contact"' in html) == form, label
    assert ('name="reason"' in html) == form and ('name="csrf_token"' in html) == form
    assert "<script" not in html and "style=" not in html


def test_contact_partial_without_contact(app: Flask, make_user: Callable[..., User],
                                         case: Case) -> None:
    assert case.contact is not None
    case.contact.address_encrypted = None
    db.session.commit()
    html = _partial(app, make_user("officer"), case)
    assert "No contact details" in html and 'name="reason"' not in html
