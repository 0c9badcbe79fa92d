"""The console's "erase this person": administrators only, a reason code, a typed confirmation."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from casework.channel_names import CHANNEL_NAMES
from casework.models import AuditEvent, Case, Contact, Message
from extensions import db

BODY = "أنا فاطمة، لم أستلم السلة الغذائية"

# role → (GET the erasure page for a case, POST the erasure); the person is erased only on 302.
ROLES = {
    "anonymous": ("302", "302"),
    "admin": ("200", "302"),
    "officer": ("403", "403"),
    "psea": ("403", "403"),
    "focal_point": ("403", "403"),
    "viewer": ("403", "403"),
}


@pytest.mark.parametrize(("role", "expected"),
                         [pytest.param(role, row, id=role) for role, row in ROLES.items()])
def test_only_administrators_erase(role: str, expected: tuple[str, str], app: Flask,
                                   signed_in: Callable[..., FlaskClient],
                                   new_case: Callable[..., Case]) -> None:
    case = new_case(BODY)
    client = app.test_client() if role == "anonymous" else signed_in(role)
    page = client.get(f"/admin/erasure?reference={case.reference}")
    erase = client.post(f"/admin/erasure/{case.reference}",
                        data={"reason": "person_request", "confirm": case.reference})
    assert (str(page.status_code), str(erase.status_code)) == expected
    if role == "anonymous":
        assert erase.location.startswith("/admin/login")
    db.session.expire_all()
    erased = db.session.get(Contact, case.contact_id).address_encrypted is None
    assert erased is (role == "admin")
    if role == "admin":
        assert BODY not in page.get_data(as_text=True)  # the skeleton only, never content


@pytest.mark.parametrize(("form", "status"), [
    pytest.param({"reason": "", "confirm": "{ref}"}, 400, id="no-reason"),
    pytest.param({"reason": "because I say so", "confirm": "{ref}"}, 400, id="free-text-reason"),
    pytest.param({"reason": "person_request", "confirm": ""}, 400, id="not-confirmed"),
    pytest.param({"reason": "person_request", "confirm": "1234567"}, 400,
                 id="other-reference"),
    pytest.param({"reason": "person_request", "confirm": "{arabic_ref}"}, 302,
                 id="confirmed-in-arabic-digits"),
    pytest.param({"reason": "safety_risk", "confirm": "{ref}"}, 302, id="confirmed"),
])
def test_erasure_form(form: dict[str, str], status: int, signed_in: Callable[..., FlaskClient],
                      new_case: Callable[..., Case]) -> None:
    case = new_case(BODY)
    arabic = case.reference.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    data = {key: value.format(ref=case.reference, arabic_ref=arabic)
            for key, value in form.items()}
    response = signed_in("admin").post(f"/admin/erasure/{case.reference}", data=data)
    assert response.status_code == status
    db.session.expire_all()
    bodies = list(db.session.scalars(select(Message.body).where(Message.case_id == case.id)))
    events = list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "person.erased")))
    if status == 302:
        assert set(bodies) == {None} and len(events) == 1
        assert events[0].details["reason"] == data["reason"]
        assert events[0].actor == "admin@example.org"
    else:
        assert BODY in bodies and not events


@pytest.mark.parametrize("reference", ["0000000", "abc", "12345678"],
                         ids=["unknown", "letters", "too-long"])
def test_unknown_reference(reference: str, signed_in: Callable[..., FlaskClient],
                           app_context: None) -> None:
    client = signed_in("admin")
    assert client.get(f"/admin/erasure?reference={reference}").status_code == 200
    response = client.post(f"/admin/erasure/{reference}",
                           data={"reason": "person_request", "confirm": reference})
    assert response.status_code == 404


def test_page_after_erasure_says_it_is_done(signed_in: Callable[..., FlaskClient],
                                            new_case: Callable[..., Case]) -> None:
    case = new_case(BODY)
    client = signed_in("admin")
    client.post(f"/admin/erasure/{case.reference}",
                data={"reason": "person_request", "confirm": case.reference})
    page = client.get(f"/admin/erasure?reference={case.reference}&lang=en")
    assert 'id="erasure-done"' in page.get_data(as_text=True)


@pytest.mark.parametrize("received_by", ["in_person", "box"])
def test_a_case_entered_by_hand_without_a_number_can_be_erased(
        received_by: str, signed_in: Callable[..., FlaskClient], app_context: None) -> None:
    # No contact of its own: its message hangs on a placeholder, and its text is the person's.
    entered = signed_in("officer").post("/admin/cases/new", data={
        "received_by": received_by, "received_on": "2025-03-01", "text": BODY, "location": ""})
    assert entered.status_code == 302
    case = db.session.scalars(select(Case)).one()
    assert case.contact_id is None
    admin = signed_in("admin")
    page = admin.get(f"/admin/erasure?reference={case.reference}&lang=en").get_data(as_text=True)
    assert 'id="erasure-done"' not in page and f"/admin/erasure/{case.reference}" in page
    # Names, not codes; the day it opened in Damascus (midnight there is 21:00 UTC the day before).
    assert CHANNEL_NAMES[received_by] in page and "<dd>New</dd>" in page
    assert "2025-03-01" in page and "2025-02-28" not in page
    response = admin.post(f"/admin/erasure/{case.reference}",
                          data={"reason": "person_request", "confirm": case.reference})
    assert response.status_code == 302
    db.session.expire_all()
    assert list(db.session.scalars(select(Message.body).where(Message.case_id == case.id))) \
        == [None]
    after = admin.get(f"/admin/erasure?reference={case.reference}&lang=en")
    assert 'id="erasure-done"' in after.get_data(as_text=True)
