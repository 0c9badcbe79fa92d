"""Retention (a scheduled job) and erasure on request: what goes, what stays, what is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from bot.conversation import handle_inbound
from casework import retention
from casework.intake import Inbound, InboundAttachment
from casework.models import (
    SEARCH_TABLE,
    Attachment,
    AuditEvent,
    Case,
    CaseDocument,
    CaseStatus,
    Contact,
    DeliveryStatus,
    Direction,
    Message,
    Note,
    utcnow,
)
from config.settings import Settings
from extensions import db
from services import services

PHONE = "+963944000111"
NOW = utcnow()
DAY = timedelta(days=1)
VOICE_NOTE = b"OggS\x00\x02 a voice note of the person"


def _receive(external_id: str, text: str = "لم أستلم السلة الغذائية", *,
             address: str = PHONE, channel: str = "sms",
             attachments: tuple[InboundAttachment, ...] = ()) -> Message:
    svc = services()
    handled = handle_inbound(db.session, Inbound(
        channel=channel, address=address, external_id=external_id, text=text,
        received_at=utcnow(), attachments=attachments), svc.vault, svc.dialogue)
    message = db.session.get(Message, handled.message_id)
    assert message is not None
    return message


def _age(contact: Contact, *, closed_days: float | None, quiet_days: float) -> None:
    """Put the contact's last message and (if given) its cases' closure in the past."""
    contact.last_inbound_at = NOW - quiet_days * DAY
    contact.created_at = NOW - (quiet_days + 1) * DAY
    for case in contact.cases:
        if closed_days is not None:
            case.status, case.closed_at = CaseStatus.CLOSED, NOW - closed_days * DAY
    db.session.execute(Message.__table__.update()
                       .where(Message.__table__.c.contact_id == contact.id,
                              Message.__table__.c.direction == Direction.OUTBOUND)
                       .values(status=DeliveryStatus.SENT))
    db.session.commit()


def _store_file(message: Message, content: bytes, days_old: float) -> Attachment:
    attachment = Attachment(message=message, kind="voice", content_type="audio/ogg",
                            storage_key=services().attachment_store.save(content),
                            size_bytes=len(content), fetch_status="stored",
                            created_at=NOW - days_old * DAY)
    db.session.add(attachment)
    db.session.commit()
    return attachment


def _file_exists(key: str) -> bool:
    return services().attachment_store.path(key).exists()


def _search_index() -> list[str]:
    return list(db.session.scalars(text(f"SELECT search_text FROM {SEARCH_TABLE}")))


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- contact addresses ---------------------------------------------------------------------

def _closed_91_days_ago(contact: Contact) -> None:
    _age(contact, closed_days=91, quiet_days=91)


def _closed_89_days_ago(contact: Contact) -> None:
    _age(contact, closed_days=89, quiet_days=91)


def _closed_long_ago_but_wrote_lately(contact: Contact) -> None:
    _age(contact, closed_days=200, quiet_days=10)


def _one_case_still_open(contact: Contact) -> None:
    _age(contact, closed_days=None, quiet_days=200)


def _closed_long_ago_survey_waiting(contact: Contact) -> None:
    _age(contact, closed_days=120, quiet_days=120)
    db.session.add(Message(contact=contact, case=contact.cases[0], direction="out",
                           channel="sms", kind="survey", body="؟", status=DeliveryStatus.QUEUED,
                           next_attempt_at=NOW))
    db.session.commit()


def _never_opened_a_case_quiet(contact: Contact) -> None:
    assert not contact.cases  # "STOP" opens no case
    _age(contact, closed_days=None, quiet_days=91)


@pytest.mark.parametrize(("first_text", "setup", "erased"), [
    pytest.param(None, _closed_91_days_ago, True, id="closed-91-days-ago"),
    pytest.param(None, _closed_89_days_ago, False, id="closed-89-days-ago"),
    pytest.param(None, _closed_long_ago_but_wrote_lately, False, id="wrote-10-days-ago"),
    pytest.param(None, _one_case_still_open, False, id="open-case"),
    pytest.param(None, _closed_long_ago_survey_waiting, False, id="message-waiting"),
    pytest.param("STOP", _never_opened_a_case_quiet, True, id="no-case-quiet-91-days"),
])
def test_contact_address_retention(first_text: str | None, setup, erased: bool,
                                   app_context: None, settings: Settings) -> None:
    _receive("SM1", first_text or "لم أستلم السلة الغذائية")
    contact = db.session.scalars(select(Contact)).one()
    setup(contact)
    result = retention.apply_retention(db.session, services().attachment_store, settings, NOW)
    db.session.expire_all()
    contact = db.session.scalars(select(Contact)).one()
    assert (contact.address_encrypted is None) is erased
    assert (contact.erased_at is not None) is erased
    assert result.contacts == int(erased)
    assert db.session.scalar(select(func.count(Case.id))) == len(contact.cases)  # cases stay


def test_retention_is_idempotent_and_audited_with_counts_only(app_context: None,
                                                              settings: Settings) -> None:
    message = _receive("SM1", "اسمي أحمد ورقمي 0944000111")
    contact = message.contact
    _closed_91_days_ago(contact)
    _store_file(message, VOICE_NOTE, days_old=400)
    first = retention.apply_retention(db.session, services().attachment_store, settings, NOW)
    second = retention.apply_retention(db.session, services().attachment_store, settings, NOW)
    assert (first.contacts, first.attachments, first.files) == (1, 1, 1)
    assert not second
    events = _events("retention.applied")
    assert len(events) == 1
    assert events[0].details == {"contacts": 1, "attachments": 1, "files": 1,
                                 "contact_days": 90, "attachment_days": 365}
    # Statistics stay: the case, its messages and their text (retention is not erasure).
    assert db.session.scalar(select(func.count(Message.id))) >= 2
    assert db.session.get(Message, message.id).body == "اسمي أحمد ورقمي 0944000111"


# --- attachment files ------------------------------------------------------------------------

@pytest.mark.parametrize(("days_old", "shared_with", "row_erased", "file_kept"), [
    pytest.param(366, None, True, False, id="older-than-a-year"),
    pytest.param(364, None, False, True, id="younger-than-a-year"),
    pytest.param(366, "recent-attachment", True, True, id="same-file-still-used"),
    pytest.param(366, "case-document", True, True, id="same-file-officer-document"),
])
def test_attachment_retention(days_old: int, shared_with: str | None, row_erased: bool,
                              file_kept: bool, app_context: None, settings: Settings) -> None:
    message = _receive("SM1")
    old = _store_file(message, VOICE_NOTE, days_old=days_old)
    key = old.storage_key
    assert key is not None
    if shared_with == "recent-attachment":
        _store_file(message, VOICE_NOTE, days_old=1)
    if shared_with == "case-document":
        db.session.add(CaseDocument(case=message.case, filename="note.ogg",
                                    content_type="audio/ogg", size_bytes=len(VOICE_NOTE),
                                    storage_key=key))
        db.session.commit()
    retention.apply_retention(db.session, services().attachment_store, settings, NOW)
    db.session.expire_all()
    row = db.session.get(Attachment, old.id)
    assert (row.erased_at is not None) is row_erased
    assert (row.storage_key is None) is row_erased
    assert (row.kind, row.content_type, row.size_bytes) == ("voice", "audio/ogg", len(VOICE_NOTE))
    assert _file_exists(key) is file_kept


@pytest.mark.parametrize("settings_overrides", [
    pytest.param({"sawti_retention_contact_days": 30, "sawti_retention_attachment_days": 60},
                 id="shorter-periods"),
])
def test_retention_periods_are_settings(app_context: None, settings: Settings) -> None:
    message = _receive("SM1")
    _age(message.contact, closed_days=31, quiet_days=31)
    _store_file(message, VOICE_NOTE, days_old=61)
    result = retention.apply_retention(db.session, services().attachment_store, settings, NOW)
    assert (result.contacts, result.attachments) == (1, 1)


def test_retention_job_runs_through_the_services(app_context: None) -> None:
    message = _receive("SM1")
    _closed_91_days_ago(message.contact)
    assert retention.retention_job(db.session, services(), NOW) == 1


# --- erasure on request ------------------------------------------------------------------------

def _person_on_two_channels() -> tuple[Case, list[Message]]:
    first = _receive("SM1", "أنا فاطمة من حي الورود، لم أستلم السلة",
                     attachments=(InboundAttachment("voice", "audio/ogg", "https://x/ME1"),))
    second = _receive("WA1", "وهذه صورة البطاقة", channel="whatsapp")
    _store_file(first, VOICE_NOTE, days_old=1)
    case = first.case
    assert case is not None
    case.latitude, case.longitude = 33.51, 36.29
    case.category, case.level, case.location = "distribution", 3, "SY-DA"
    db.session.add(Note(case=case, body="تمت زيارة العائلة"))
    db.session.commit()
    return case, [first, second]


def test_erasure_removes_the_person_and_keeps_the_skeleton(app_context: None) -> None:
    case, messages = _person_on_two_channels()
    other = _receive("SM9", "شكوى شخص آخر", address="+963955000222")
    svc = services()
    skeleton = (case.reference, case.created_at, case.channel, case.level, case.category,
                case.location, case.status, case.due_at)
    key = next(a.storage_key for a in messages[0].attachments if a.storage_key)
    assert any("فاطم" in row for row in _search_index())

    result = retention.erase_person(db.session, svc.attachment_store, svc.vault, case,
                                    actor="admin@example.org", reason="person_request",
                                    now=NOW)

    db.session.expire_all()
    assert (result.contacts, result.cases, result.files) == (2, 2, 1)
    contacts = list(db.session.scalars(select(Contact).where(Contact.id != other.contact_id)))
    assert all(c.address_encrypted is None and c.erased_at is not None for c in contacts)
    assert all(c.pseudonym.startswith("erased-") for c in contacts)
    person_messages = list(db.session.scalars(select(Message).where(
        Message.contact_id.in_([c.id for c in contacts]))))
    assert person_messages and all(m.body is None and m.search_text is None
                                   for m in person_messages)
    assert all(m.status != DeliveryStatus.QUEUED for m in person_messages)
    attachments = [a for m in person_messages for a in m.attachments]
    assert attachments and all(a.storage_key is None and a.external_id is None
                               and a.erased_at is not None for a in attachments)
    assert not _file_exists(key)
    fresh = db.session.get(Case, case.id)
    assert (fresh.reference, fresh.created_at, fresh.channel, fresh.level, fresh.category,
            fresh.location, fresh.status, fresh.due_at) == skeleton
    assert (fresh.latitude, fresh.longitude) == (None, None)
    assert [note.body for note in fresh.notes] == ["تمت زيارة العائلة"]  # staff work stays
    assert not any("فاطم" in row for row in _search_index())  # out of search too
    # Someone else is untouched.
    assert db.session.get(Message, other.id).body == "شكوى شخص آخر"
    assert other.contact.address_encrypted is not None
    event = _events("person.erased")[0]
    assert event.actor == "admin@example.org" and event.case_id == case.id
    assert event.details["reason"] == "person_request"
    assert "فاطمة" not in str(event.details) and PHONE not in str(event.details)


def test_a_person_who_writes_after_erasure_starts_afresh(app_context: None) -> None:
    case, _messages = _person_on_two_channels()
    svc = services()
    retention.erase_person(db.session, svc.attachment_store, svc.vault, case,
                           actor="admin@example.org", reason="person_request", now=NOW)
    later = _receive("SM2", "مرحبا من جديد")
    assert later.contact_id not in {case.contact_id} and later.case_id != case.id
    assert db.session.scalar(select(func.count(Contact.id))) == 3


def test_erasure_twice_changes_nothing_more(app_context: None) -> None:
    case, _messages = _person_on_two_channels()
    svc = services()
    retention.erase_person(db.session, svc.attachment_store, svc.vault, case,
                           actor="a@example.org", reason="safety_risk", now=NOW)
    plan = retention.plan_erasure(db.session, svc.vault, case)
    again = retention.erase_person(db.session, svc.attachment_store, svc.vault, case,
                                   actor="a@example.org", reason="safety_risk", now=NOW)
    assert plan.already_erased and (plan.messages, plan.attachments) == (0, 0)
    assert (again.messages, again.attachments, again.files, again.cancelled) == (0, 0, 0, 0)


@pytest.mark.parametrize("reason", ["", "because", "person_request; drop table"],
                         ids=["empty", "free-text", "injection"])
def test_erasure_needs_a_known_reason_code(reason: str, app_context: None) -> None:
    case, _messages = _person_on_two_channels()
    svc = services()
    with pytest.raises(retention.ErasureRefused):
        retention.erase_person(db.session, svc.attachment_store, svc.vault, case,
                               actor="a@example.org", reason=reason, now=NOW)
    assert db.session.get(Contact, case.contact_id).address_encrypted is not None


def test_erasure_plan_counts(app_context: None) -> None:
    case, _messages = _person_on_two_channels()
    plan = retention.plan_erasure(db.session, services().vault, case)
    outbound = db.session.scalar(select(func.count(Message.id)).where(
        Message.direction == Direction.OUTBOUND))
    assert len(plan.contact_ids) == 2 and plan.cases == 2
    assert plan.messages == 2 + outbound and plan.attachments == 2
    assert not plan.already_erased

