from __future__ import annotations

import logging
import random
import secrets
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import OperationalError

from bot.conversation import handle_inbound
from casework import intake
from casework.intake import Inbound, InboundAttachment
from casework.models import AuditEvent, Case, Contact, Message, utcnow
from casework.references import damm_check_digit
from config.settings import Settings
from extensions import db
from services import services

PHONE = "+963944000111"


def _inbound(external_id: str, text: str = "ما وصلتني السلة", address: str = PHONE,
             channel: str = "sms", **extra: object) -> Inbound:
    return Inbound(channel=channel, address=address, external_id=external_id, text=text,
                   received_at=utcnow(), **extra)


def _handle(inbound: Inbound):
    svc = services()
    return handle_inbound(db.session, inbound, svc.vault, svc.dialogue)


def test_phone_number_is_never_stored_in_clear(app_context: None, settings: Settings) -> None:
    _handle(_inbound("SM1", text="رقمي مو مهم"))
    db.session.commit()
    contact = db.session.scalars(select(Contact)).one()
    assert PHONE not in contact.pseudonym and "963944000111" not in contact.address_encrypted
    assert services().vault.decrypt(contact.address_encrypted) == PHONE
    if db.engine.name == "sqlite":
        database = Path(settings.sqlalchemy_url.removeprefix("sqlite:///"))
        raw = b"".join(path.read_bytes() for path in database.parent.glob(database.name + "*"))
        assert b"963944000111" not in raw


def test_same_person_same_contact_other_channel_other_contact(app_context: None) -> None:
    _handle(_inbound("SM1"))
    _handle(_inbound("SM2", text="وكمان الخبز"))
    _handle(_inbound("WA1", channel="whatsapp"))
    contacts = list(db.session.scalars(select(Contact).order_by(Contact.id)))
    assert [c.channel for c in contacts] == ["sms", "whatsapp"]
    assert db.session.scalar(select(func.count(Case.id))) == 2


def test_replay_returns_the_first_copy(app_context: None) -> None:
    first = _handle(_inbound("SM1"))
    second = _handle(_inbound("SM1", text="a different body the provider would never send"))
    assert second.duplicate and second.message_id == first.message_id
    assert second.case_reference == first.case_reference and second.replies == ()
    assert db.session.scalar(select(func.count(Message.id)).where(Message.direction == "in")) == 1


def test_same_external_id_on_another_channel_is_another_message(app_context: None) -> None:
    _handle(_inbound("42", channel="sms"))
    other = _handle(_inbound("42", channel="telegram", address="555"))
    assert not other.duplicate


def test_case_clock_starts_at_the_first_message(app_context: None) -> None:
    sent_at = utcnow() - timedelta(hours=5)
    handled = _handle(Inbound(channel="sms", address=PHONE, external_id="SM1", text="شكوى",
                              received_at=sent_at))
    case = intake.find_case(db.session, handled.case_reference or "")
    assert case is not None and case.status == "new" and case.level is None
    assert case.created_at == sent_at.replace(microsecond=sent_at.microsecond)
    assert case.due_at - case.created_at == timedelta(days=15)


def test_attachments_are_stored_with_the_message(app_context: None) -> None:
    voice = InboundAttachment(kind="voice", content_type="audio/ogg", external_id="file-1",
                              size_bytes=2048)
    handled = _handle(_inbound("SM1", text="", attachments=(voice,)))
    message = db.session.get(Message, handled.message_id)
    assert message is not None and [a.kind for a in message.attachments] == ["voice"]
    assert handled.case_reference is not None  # a voice note alone opens a case


def _broken_step(turn: object) -> list:
    raise RuntimeError("dialogue bug")


@pytest.mark.parametrize("earlier_case", [False, True], ids=["new-case", "current-case"])
def test_a_dialogue_bug_keeps_the_message_without_a_reply(
        app_context: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        earlier_case: bool) -> None:
    if earlier_case:
        first = _handle(_inbound("SM0"))
    monkeypatch.setattr("bot.conversation.step", _broken_step)
    with caplog.at_level(logging.ERROR, logger="bot.conversation"):
        handled = _handle(_inbound("SM1", text="وكمان ما وصلني الطحين"))
    message = db.session.get_one(Message, handled.message_id)
    assert message.body == "وكمان ما وصلني الطحين" and message.case is not None
    assert handled.case_reference == message.case.reference and handled.replies == ()
    if earlier_case:
        assert handled.case_reference == first.case_reference
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "message.kept_after_error")) == 1
    assert [record.getMessage() for record in caplog.records] == [
        "dialogue failed; the message is kept without a reply"]
    assert _handle(_inbound("SM1")).duplicate  # the provider's retry finds it


def test_a_database_error_in_the_dialogue_is_not_hidden(
        app_context: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def lost_connection(turn: object) -> list:
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr("bot.conversation.step", lost_connection)
    with pytest.raises(OperationalError):  # the webhook spools it; nothing half-stored
        _handle(_inbound("SM1"))
    assert db.session.scalar(select(func.count(Message.id))) == 0
    assert db.session.scalar(select(func.count(Contact.id))) == 0


def _reference(body: int) -> str:
    digits = f"{body:06d}"
    return digits + str(damm_check_digit(digits))


@pytest.mark.parametrize(("space", "taken"), [
    pytest.param(1000, 1, id="nearly-empty"),
    pytest.param(1000, 900, id="nine-tenths-full"),
    pytest.param(1000, 998, id="two-left"),
])
def test_a_free_reference_is_found_as_the_space_fills(
        app_context: None, monkeypatch: pytest.MonkeyPatch, space: int, taken: int) -> None:
    # A space of a thousand references stands in for the million: the same draws, sooner full.
    monkeypatch.setattr(intake, "new_reference", lambda: _reference(secrets.randbelow(space)))
    _handle(_inbound("SM0", address="+963900000000"))
    first = db.session.scalars(select(Case)).one()
    others = [body for body in range(space) if _reference(body) != first.reference]
    used = random.Random(7).sample(others, taken - 1)
    if used:
        db.session.execute(insert(Case), [
            {"reference": _reference(body), "contact_id": first.contact_id, "channel": "sms",
             "status": "new", "created_at": first.created_at, "due_at": first.due_at,
             "last_activity_at": first.created_at, "language": "ar"} for body in used])
        db.session.commit()
    used.append(int(first.reference[:6]))

    handled = _handle(_inbound("SM1", address="+963900000001"))
    assert handled.case_reference is not None
    assert handled.case_reference not in {_reference(body) for body in used}
    assert db.session.scalar(select(func.count(Case.id))) == taken + 1


def test_a_full_reference_space_says_so(app_context: None,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intake, "new_reference", lambda: _reference(0))
    _handle(_inbound("SM0"))
    with pytest.raises(RuntimeError, match="reference space"):
        _handle(_inbound("SM1", address="+963900000001"))
    assert db.session.scalar(select(func.count(Message.id)).where(Message.direction == "in")) == 1


@pytest.mark.parametrize(("attachment", "status", "content_type", "size"), [
    pytest.param(InboundAttachment("voice", "audio/ogg", "AwACAgQAAxkBAAIB", 5120),
                 "pending", "audio/ogg", 5120, id="as-sent"),
    pytest.param(InboundAttachment("voice", "audio/ogg", "AwAC\x00AgQ", 5120),
                 "refused", "audio/ogg", 5120, id="file-id-with-a-nul-byte"),
    pytest.param(InboundAttachment("image", "image/jpeg", "x" * 513, None),
                 "refused", "image/jpeg", None, id="file-id-longer-than-its-column"),
    pytest.param(InboundAttachment("document", "application/" + "x" * 120, "BQAC", 10),
                 "pending", None, 10, id="content-type-longer-than-its-column"),
    pytest.param(InboundAttachment("document", "pdf\x00", "BQAC", 2**40),
                 "pending", None, None, id="no-content-type-and-a-size-past-2-31"),
])
def test_what_a_provider_says_of_a_file_is_checked_and_the_message_kept(
        app_context: None, attachment: InboundAttachment, status: str,
        content_type: str | None, size: int | None) -> None:
    handled = _handle(_inbound("TG1", channel="telegram", address="5550001",
                             text="صورة الوصل", attachments=(attachment,)))
    [stored] = db.session.get_one(Message, handled.message_id).attachments
    assert (stored.fetch_status, stored.content_type, stored.size_bytes) == (
        status, content_type, size)
    assert (stored.external_id is None) == (status == "refused")
