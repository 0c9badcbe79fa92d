"""Manual entry of cases received outside the channels: /admin/cases/new and casework.manual."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from casework.manual import (
    EntryRefused,
    enter_case,
    local_today,
    parse_date,
    parse_phone,
    start_of_day,
)
from casework.models import (
    AuditEvent,
    Case,
    Contact,
    DeliveryStatus,
    Direction,
    Message,
    Notification,
    User,
    utcnow,
)
from casework.replies import queue_reply
from casework.text import normalize_for_matching
from extensions import db
from services import services

ZONE = ZoneInfo("Asia/Damascus")
TEXT = "لم نستلم السلة الغذائية هذا الشهر في نقطة التوزيع"
BRIBE = "الموظف في نقطة التوزيع طلب مني مالاً مقابل السلة"
NUMBER = "+963944123456"


def _post(client: FlaskClient, **fields: object) -> object:
    data: dict[str, object] = {"received_by": "in_person", "received_on": "2025-03-01",
                               "text": TEXT, "location": ""}
    data.update(fields)
    return client.post("/admin/cases/new", data={k: v for k, v in data.items() if v is not None})


def _only_case() -> Case:
    return db.session.scalars(select(Case)).one()


def _reference_from(location: str) -> str:
    path = urlsplit(location).path
    found = re.fullmatch(r"/admin/cases/(\d{7})", path)
    assert found, path
    return found.group(1)


def _everything_stored() -> str:
    """Every column of every row of every table, as text (to look for a leaked number)."""
    rows = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(table.select()):
            rows.append(" ".join(str(value) for value in row))
    return "\n".join(rows)


# --- who may enter a case --------------------------------------------------------------------

@pytest.mark.parametrize(("role", "status"), [
    ("officer", 200), ("psea", 200), ("focal_point", 403), ("admin", 403), ("viewer", 403),
], ids=lambda value: str(value))
def test_entry_form_is_for_case_handlers_only(signed_in: Callable[..., FlaskClient], role: str,
                                              status: int) -> None:
    client = signed_in(role)
    assert client.get("/admin/cases/new").status_code == status
    assert _post(client).status_code == (302 if status == 200 else 403)


def test_visitor_is_sent_to_sign_in(app: Flask, client: FlaskClient) -> None:
    response = client.get("/admin/cases/new")
    assert response.status_code == 302 and "/admin/login" in response.location
    assert client.post("/admin/cases/new", data={"text": TEXT}).status_code in (302, 400)
    with app.app_context():
        assert db.session.scalars(select(Case)).all() == []


def test_form_offers_the_kinds_today_and_the_locations(signed_in: Callable[..., FlaskClient]
                                                       ) -> None:
    client = signed_in("officer", locations=["SY-ID"])
    page = client.get("/admin/cases/new?lang=en").get_data(as_text=True)
    for kind in ("in_person", "box", "staff", "phone"):
        assert f'value="{kind}"' in page
    assert local_today(utcnow(), "Asia/Damascus").isoformat() in page
    assert 'value="SY-ID"' in page and 'value="SY-ID-01"' in page
    assert 'value="IQ-NI"' not in page  # not one of this officer's locations
    assert 'name="csrf_token"' in page and "<script" not in page and "style=" not in page


# --- entries without a contact ----------------------------------------------------------------

@pytest.mark.parametrize("kind", ["in_person", "box", "staff", "phone"])
def test_entry_without_phone_has_no_contact(signed_in: Callable[..., FlaskClient],
                                            kind: str) -> None:
    client = signed_in("officer")
    response = _post(client, received_by=kind, location="SY-ID-01")
    assert response.status_code == 302
    case = _only_case()
    assert _reference_from(response.location) == case.reference
    assert (case.channel, case.received_by, case.contact_id) == (kind, kind, None)
    assert case.status == "new" and case.location == "SY-ID-01" and not case.sensitive
    assert case.consent_to_contact is None
    started = datetime(2025, 3, 1, tzinfo=ZONE)
    assert case.created_at == started  # midnight in Damascus (21:00 UTC the day before)
    assert case.created_at.astimezone(ZONE).hour == 0
    grid = services().org_data.grid
    assert case.due_at == started + grid.untriaged_deadline
    message = db.session.scalars(select(Message).where(Message.case_id == case.id)).one()
    assert (message.direction, message.channel, message.kind, message.status) == (
        Direction.INBOUND, kind, "text", DeliveryStatus.RECEIVED)
    assert message.body == TEXT and message.search_text == normalize_for_matching(TEXT)
    assert message.received_at == started
    assert message.contact.address_encrypted is None  # an address-less stand-in, never shared
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id)).one()
    assert event.action == "case.entered" and event.actor == client.user.email  # type: ignore[attr-defined]
    assert event.details["received_by"] == kind and TEXT not in str(event.details)


def test_an_entered_complaint_is_read_by_the_triage_assistant(
    signed_in: Callable[..., FlaskClient], make_user: Callable[..., User],
) -> None:
    psea = make_user("psea", email="psea-duty@example.org")
    client = signed_in("officer")
    response = _post(client, text=BRIBE, location="SY-ID-01")
    assert response.status_code == 302
    case = _only_case()
    assert case.sensitive and case.due_at == case.created_at + timedelta(hours=72)
    assert client.get(response.location).status_code == 200  # the restricted summary only
    alert = db.session.scalars(select(Notification)).one()
    assert alert.user_id == psea.id and alert.case_id == case.id


def test_two_entries_never_share_a_contact(signed_in: Callable[..., FlaskClient]) -> None:
    client = signed_in("officer")
    _post(client, received_by="box")
    _post(client, received_by="box")
    contacts = {message.contact_id for message in db.session.scalars(select(Message))}
    assert len(contacts) == 2


def test_phone_without_consent_is_not_kept(signed_in: Callable[..., FlaskClient],
                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = signed_in("officer")
    client.set_cookie("lang", "en")  # the notice is flashed in the language of the POST
    response = _post(client, received_by="phone", phone=NUMBER)
    assert response.status_code == 302
    case = _only_case()
    assert case.contact is None and case.channel == "phone" and case.consent_to_contact is False
    assert db.session.scalars(select(Contact).where(Contact.channel == "sms")).all() == []
    stored = _everything_stored()
    assert NUMBER not in stored and NUMBER[1:] not in stored
    page = client.get("/admin/cases/new?lang=en").get_data(as_text=True)
    assert "The phone number was not kept" in page
    assert NUMBER[4:] not in caplog.text


# --- entries with a number and consent --------------------------------------------------------

@pytest.mark.parametrize("typed", [
    "+963944123456", "+963 944 123 456", "+963-944-123-456", "00963944123456",
    "+٩٦٣٩٤٤١٢٣٤٥٦", "٠٠٩٦٣ ٩٤٤ ١٢٣ ٤٥٦", "+۹۶۳۹۴۴۱۲۳۴۵۶",
], ids=["e164", "spaces", "dashes", "00-prefix", "arabic-indic", "arabic-indic-00",
        "eastern-arabic-indic"])
def test_phone_with_consent_makes_an_sms_case(signed_in: Callable[..., FlaskClient],
                                              caplog: pytest.LogCaptureFixture,
                                              typed: str) -> None:
    caplog.set_level(logging.DEBUG)
    client = signed_in("officer")
    response = _post(client, received_by="phone", phone=typed, consent="y")
    assert response.status_code == 302
    case = _only_case()
    vault = services().vault
    contact = case.contact
    assert contact is not None and case.channel == "sms" and case.received_by == "phone"
    assert contact.channel == "sms" and contact.pseudonym == vault.pseudonym("sms", NUMBER)
    assert vault.decrypt(contact.address_encrypted or "") == NUMBER
    assert case.consent_to_contact is True and contact.consent_to_contact is True
    message = case.messages[0]
    assert message.channel == "sms" and message.contact_id == contact.id
    # The number is nowhere but in the encrypted address: not in audit rows, not in logs.
    stored = _everything_stored()
    assert NUMBER not in stored and NUMBER[1:] not in stored and NUMBER[4:] not in stored
    for event in db.session.scalars(select(AuditEvent)):
        assert NUMBER[4:] not in str(event.details)
    assert NUMBER[4:] not in caplog.text and "944 123" not in caplog.text
    # A reply goes out by SMS, to that contact.
    reply = queue_reply(db.session, case, "شكراً، سنتابع شكواك", actor="officer@example.org",
                        now=utcnow())
    assert reply.channel == "sms" and reply.contact_id == contact.id


def test_same_number_finds_the_same_sms_contact(signed_in: Callable[..., FlaskClient]) -> None:
    client = signed_in("officer")
    _post(client, phone="+963 944 123 456", consent="y")
    _post(client, phone="٠٠٩٦٣٩٤٤١٢٣٤٥٦", consent="y", received_by="box")
    contacts = db.session.scalars(select(Contact).where(Contact.channel == "sms")).all()
    assert len(contacts) == 1
    assert len(db.session.scalars(select(Case).where(Case.contact_id == contacts[0].id)).all()) == 2


@pytest.mark.parametrize(("typed", "expected"), [
    ("2025-03-01", date(2025, 3, 1)),
    ("٢٠٢٥-٠٣-٠١", date(2025, 3, 1)),
    ("۲۰۲۵-۰۳-۰۱", date(2025, 3, 1)),
    ("01/03/2025", date(2025, 3, 1)),
    ("٠١/٠٣/٢٠٢٥", date(2025, 3, 1)),
    (" 2025/3/1 ", date(2025, 3, 1)),
], ids=["iso", "arabic-indic", "eastern-arabic-indic", "day-first", "day-first-arabic-indic",
        "slashes"])
def test_date_received_accepts_arabic_digits(signed_in: Callable[..., FlaskClient], typed: str,
                                             expected: date) -> None:
    client = signed_in("officer")
    assert _post(client, received_on=typed).status_code == 302
    assert _only_case().created_at == start_of_day(expected, "Asia/Damascus")


def _date_input(page: str) -> str:
    found = re.search(r'<input[^>]*name="received_on"[^>]*>', page)
    assert found, page
    return found.group(0)


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_date_received_is_a_native_date_input(signed_in: Callable[..., FlaskClient],
                                              lang: str) -> None:
    page = signed_in("officer").get(f"/admin/cases/new?lang={lang}").get_data(as_text=True)
    today = local_today(utcnow(), "Asia/Damascus").isoformat()
    field = _date_input(page)
    assert 'type="date"' in field and f'value="{today}"' in field and f'max="{today}"' in field
    assert "YYYY-MM-DD" not in page


@pytest.mark.parametrize(("typed", "shown"), [
    ("2025-03-01", "2025-03-01"),
    ("٢٠٢٥-٠٣-٠١", "2025-03-01"),
    ("01/03/2025", "2025-03-01"),
    ("31/31/2025", "31/31/2025"),
], ids=["iso", "arabic-indic", "day-first", "not-a-date"])
def test_date_comes_back_in_the_form_a_date_input_shows(
    signed_in: Callable[..., FlaskClient], typed: str, shown: str,
) -> None:
    response = _post(signed_in("officer"), received_on=typed, text="")
    assert response.status_code == 400
    assert f'value="{shown}"' in _date_input(response.get_data(as_text=True))
    assert db.session.scalars(select(Case)).all() == []


def test_psea_entry_is_sensitive_and_stays_theirs(signed_in: Callable[..., FlaskClient]) -> None:
    client = signed_in("psea")
    assert _post(client).status_code == 302
    assert _only_case().sensitive is True


# --- refusals --------------------------------------------------------------------------------

def _tomorrow() -> str:
    return (local_today(utcnow(), "Asia/Damascus") + timedelta(days=1)).isoformat()


@pytest.mark.parametrize(("label", "fields", "message"), [
    ("future-date", {"received_on": None}, "cannot be in the future"),
    ("bad-date", {"received_on": "31/31/2025"}, "Enter the date as YYYY-MM-DD"),
    ("no-date", {"received_on": ""}, "This field is required"),
    ("empty-text", {"text": "   "}, "This field is required"),
    ("bad-phone", {"phone": "0944 123 456"}, "international form"),
    ("letters-in-phone", {"phone": "+96394412345x"}, "international form"),
    ("consent-without-phone", {"consent": "y"}, "Give the phone number"),
    ("unknown-kind", {"received_by": "telegram"}, "Not a valid choice"),
    ("unknown-location", {"location": "XX-YY"}, "Not a valid choice"),
    ("other-officers-location", {"location": "IQ-NI"}, "Not a valid choice"),
], ids=lambda value: value if isinstance(value, str) else "")
def test_invalid_entries_are_refused_with_a_reason(signed_in: Callable[..., FlaskClient],
                                                   label: str, fields: dict[str, object],
                                                   message: str) -> None:
    client = signed_in("officer", locations=["SY-ID"])
    if label == "future-date":
        fields = {"received_on": _tomorrow()}
    client.set_cookie("lang", "en")
    response = _post(client, **fields)
    assert response.status_code == 400, label
    assert message in response.get_data(as_text=True), label
    assert db.session.scalars(select(Case)).all() == []
    assert db.session.scalars(select(Contact)).all() == []


@pytest.mark.parametrize(("fields", "arabic"), [
    pytest.param({"text": "ن" * 10_001}, "لا يمكن أن يزيد النص على 10,000 حرف.",
                 id="text-too-long"),
    pytest.param({"phone": "+963 " + "9" * 40, "consent": "y"},
                 "لا يمكن أن يزيد النص على 40 حرفاً.", id="phone-too-long"),
    pytest.param({"received_by": "pigeon"}, "اختيار غير صحيح.", id="unknown-kind"),
])
def test_refusals_are_in_arabic_on_an_arabic_page(signed_in: Callable[..., FlaskClient],
                                                  fields: dict[str, object],
                                                  arabic: str) -> None:
    client = signed_in("officer")
    client.set_cookie("lang", "ar")
    response = _post(client, **fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'<span class="error">{arabic}</span>' in page
    assert "Field cannot be longer" not in page and "Not a valid" not in page
    assert db.session.scalars(select(Case)).all() == []


def test_entered_text_is_escaped_when_the_form_comes_back(
    signed_in: Callable[..., FlaskClient],
) -> None:
    client = signed_in("officer")
    response = _post(client, text="<script>alert(1)</script>", phone="nonsense")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


def test_entry_needs_the_csrf_token(app: Flask, signed_in: Callable[..., FlaskClient]) -> None:
    client = signed_in("officer")
    app.config["WTF_CSRF_ENABLED"] = True
    assert _post(client).status_code == 400
    page = client.get("/admin/cases/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
        re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    assert _post(client, csrf_token=token.group(1)).status_code == 302


# --- the domain function on its own ----------------------------------------------------------

@pytest.mark.parametrize(("typed", "expected"), [
    ("+963944123456", "+963944123456"), ("00 964 770 123 4567", "+9647701234567"),
    ("(+963) 944.123.456", "+963944123456"), ("+٩٦٤٧٧٠١٢٣٤٥٦٧", "+9647701234567"),
    ("0944123456", None), ("+0944123456", None), ("+96394", None), ("+1234567890123456", None),
    ("", None), ("phone", None),
], ids=["e164", "00-and-spaces", "brackets-dots", "arabic-indic", "national", "zero-country",
        "too-short", "too-long", "empty", "letters"])
def test_parse_phone(typed: str, expected: str | None) -> None:
    assert parse_phone(typed) == expected


@pytest.mark.parametrize(("typed", "expected"), [
    ("2025-02-28", date(2025, 2, 28)), ("2025-02-30", None), ("", None), ("yesterday", None),
    ("٢٠٢٤-١٢-٣١", date(2024, 12, 31)), ("31/12/2024", date(2024, 12, 31)),
], ids=["iso", "impossible", "empty", "words", "arabic-indic", "day-first"])
def test_parse_date(typed: str, expected: date | None) -> None:
    assert parse_date(typed) == expected


@pytest.mark.parametrize(("label", "changes", "reason"), [
    ("kind", {"received_by": "whatsapp"}, "received_by"),
    ("future", {"received_on": date(2999, 1, 1)}, "future_date"),
    ("empty", {"text": " \x00 "}, "empty"),
    ("too-long", {"text": "ا" * 10_001}, "too_long"),
    ("location", {"location": "XX"}, "location"),
    ("phone", {"phone": "12"}, "phone"),
    ("consent", {"consent": True}, "consent_without_phone"),
], ids=lambda value: value if isinstance(value, str) else "")
def test_enter_case_refuses_on_its_own(make_user: Callable[..., User], label: str,
                                       changes: dict[str, object], reason: str) -> None:
    arguments: dict[str, object] = {
        "received_by": "box", "received_on": date(2025, 1, 5), "text": TEXT, "location": None,
        "phone": None, "consent": False,
    }
    arguments.update(changes)
    with pytest.raises(EntryRefused) as refused:
        enter_case(db.session, make_user("officer"), vault=services().vault,
                   org_data=services().org_data, timezone="Asia/Damascus", now=utcnow(),
                   **arguments)  # type: ignore[arg-type]
    assert refused.value.reason == reason, label
