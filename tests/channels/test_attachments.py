"""Inbound attachments: only audio, images and PDF are kept, by content; the message always is."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from casework.models import Attachment, AuditEvent, Message
from channels.attachments import accepted_type
from channels.dispatcher import Dispatcher
from extensions import db
from services import services
from tests.channels.conftest import post_telegram, post_twilio
from tests.fakes import FakeTelegram, FakeTwilio, audio_update, document_update, voice_update

CHAT = 5550001
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00 a photo"
PDF = b"%PDF-1.7\n a scanned complaint"
OGG = b"OggS\x00\x02 a voice note"
AMR = b"#!AMR\n an old phone's recording"
EXE = b"MZ\x90\x00\x03 a Windows program"
HTML = b"<html><script>alert(1)</script></html>"
SVG = b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"
ZIP = b"PK\x03\x04 an archive"


@pytest.mark.parametrize(("content", "declared", "status", "stored_type", "reason"), [
    pytest.param(PDF, "application/pdf", "stored", "application/pdf", None, id="pdf"),
    pytest.param(JPEG, "image/jpeg", "stored", "image/jpeg", None, id="jpeg"),
    pytest.param(OGG, "audio/ogg", "stored", "audio/ogg", None, id="ogg"),
    pytest.param(AMR, "audio/amr", "stored", "audio/amr", None, id="amr"),
    pytest.param(PDF, "application/octet-stream", "stored", "application/pdf", None,
                 id="pdf-declared-as-anything"),
    pytest.param(EXE, "application/pdf", "refused", None, "type_not_accepted",
                 id="program-declared-as-pdf"),
    pytest.param(HTML, "image/jpeg", "refused", None, "type_not_accepted",
                 id="html-declared-as-jpeg"),
    pytest.param(SVG, "image/svg+xml", "refused", None, "type_not_accepted", id="svg"),
    pytest.param(ZIP, "application/zip", "refused", None, "type_not_accepted", id="zip"),
    pytest.param(b"", "application/pdf", "refused", None, "type_not_accepted", id="empty"),
])
def test_document_type_is_decided_by_content(
    content: bytes, declared: str, status: str, stored_type: str | None, reason: str | None,
    client: FlaskClient, dispatcher: Dispatcher, fake_telegram: FakeTelegram,
) -> None:
    fake_telegram.add_file("doc-1", content, "documents/file_1")
    post_telegram(client, document_update(200, CHAT, file_id="doc-1", mime_type=declared,
                                          file_name="complaint.pdf", file_size=len(content),
                                          caption="شكوى"))
    dispatcher.run_once()
    attachment = db.session.scalars(select(Attachment)).one()
    assert (attachment.fetch_status, attachment.fetch_error) == (status, reason)
    if status == "stored":
        assert attachment.content_type == stored_type
        assert services().attachment_store.read(attachment.storage_key or "") == content
    else:
        assert attachment.storage_key is None
        assert not any(services().attachment_store.root.rglob("*"))  # nothing kept on disk
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "attachment.refused")).one()
        assert event.details == {"attachment_id": attachment.id, "reason": reason}
    _assert_message_kept_and_answered()


@pytest.mark.parametrize("extra_settings", [{"sawti_max_attachment_bytes": 2048}])
@pytest.mark.parametrize(("declared_size", "actual_size"), [
    pytest.param(4096, 100, id="declared-too-large-never-fetched"),
    pytest.param(None, 4096, id="larger-than-declared"),
])
def test_too_large_is_refused(declared_size: int | None, actual_size: int,
                              client: FlaskClient, dispatcher: Dispatcher,
                              fake_telegram: FakeTelegram) -> None:
    fake_telegram.add_file("big-1", OGG + b"0" * actual_size, "voice/big_1.oga")
    update = voice_update(201, CHAT, file_id="big-1", file_size=declared_size or 10)
    if declared_size is None:
        del update["message"]["voice"]["file_size"]
    post_telegram(client, update)
    dispatcher.run_once()
    attachment = db.session.scalars(select(Attachment)).one()
    assert (attachment.fetch_status, attachment.fetch_error) == ("refused", "too_large")
    assert attachment.storage_key is None
    _assert_message_kept_and_answered()


@pytest.mark.parametrize("extra_settings", [{"sawti_max_attachment_bytes": 2048}])
def test_twilio_media_over_the_cap_is_refused(client: FlaskClient, dispatcher: Dispatcher,
                                              fake_twilio: FakeTwilio) -> None:
    url = fake_twilio.add_media("MM" + "a" * 32, "ME" + "b" * 32, OGG + b"0" * 4096,
                                "audio/ogg")
    post_twilio(client, "/webhooks/twilio/messaging", {
        "MessageSid": "SM" + "c" * 32, "AccountSid": "AC" + "0" * 32,
        "From": "whatsapp:+963944000111", "To": "whatsapp:+14155238886", "Body": "",
        "NumMedia": "1", "MediaUrl0": url, "MediaContentType0": "audio/ogg"})
    dispatcher.run_once()
    attachment = db.session.scalars(select(Attachment)).one()
    assert (attachment.fetch_status, attachment.fetch_error) == ("refused", "too_large")
    _assert_message_kept_and_answered()


def test_an_audio_file_that_is_not_audio_is_refused(client: FlaskClient,
                                                    dispatcher: Dispatcher,
                                                    fake_telegram: FakeTelegram) -> None:
    fake_telegram.add_file("audio-1", EXE, "music/file_1.mp3")
    post_telegram(client, audio_update(202, CHAT, file_id="audio-1", file_size=len(EXE)))
    dispatcher.run_once()
    attachment = db.session.scalars(select(Attachment)).one()
    assert attachment.fetch_status == "refused"


@pytest.mark.parametrize(("head", "expected"), [
    pytest.param(b"\x00\x00\x00\x18ftypheic\x00", "image/heic", id="heic"),
    pytest.param(b"\x00\x00\x00\x18ftyp3gp4\x00", "audio/3gpp", id="3gpp"),
    pytest.param(b"\x00\x00\x00\x18ftypqt  \x00", None, id="quicktime-video"),
    pytest.param(b"RIFF\x00\x00\x00\x00AVI ", None, id="avi-video"),
])
def test_accepted_type_of_phone_formats(head: bytes, expected: str | None) -> None:
    assert accepted_type(head) == expected


def _assert_message_kept_and_answered() -> None:
    inbound = db.session.scalars(select(Message).where(Message.direction == "in")).one()
    assert inbound.case_id is not None
    assert db.session.scalars(select(Message).where(Message.direction == "out",
                                                    Message.kind == "ack")).first() is not None
