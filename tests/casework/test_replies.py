from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from werkzeug.test import TestResponse

from casework.models import (
    Attachment,
    AuditEvent,
    Case,
    CaseStatus,
    DeliveryStatus,
    Message,
    utcnow,
)
from casework.replies import MAX_AUDIO_BYTES, ReplyAudio, ReplyRefused, queue_reply
from extensions import db
from services import services


@pytest.fixture
def case(simulate: Callable[..., TestResponse], app_context: None) -> Case:
    simulate("لم أستلم السلة")
    return db.session.scalars(select(Case)).one()


def test_reply_is_queued_on_the_case_channel_and_opens_the_case(case: Case) -> None:
    message = queue_reply(db.session, case, "  سنتابع طلبك  ", actor="officer@x", now=utcnow())
    assert (message.kind, message.channel, message.status) == ("reply", "simulator",
                                                               DeliveryStatus.QUEUED)
    assert message.body == "سنتابع طلبك"
    assert case.status == CaseStatus.OPEN and case.first_response_at is not None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.replied")
                               ).one()
    assert event.actor == "officer@x" and event.details == {"message_id": message.id}


@pytest.mark.parametrize(
    ("label", "prepare", "body", "reason"),
    [
        ("empty", lambda case: None, "   ", "empty"),
        ("control-characters-only", lambda case: None, "\x00\x07", "empty"),
        ("too-long", lambda case: None, "ا" * 4001, "too_long"),
        ("too-long-for-an-sms", lambda case: setattr(case.contact, "channel", "sms"),
         "ا" * 1601, "too_long_for_channel"),
        ("too-long-for-whatsapp", lambda case: setattr(case.contact, "channel", "whatsapp"),
         "ا" * 1601, "too_long_for_channel"),
        ("opted-out", lambda case: setattr(case.contact, "opted_out", True), "ردّ", "opted_out"),
        ("address-erased", lambda case: setattr(case.contact, "address_encrypted", None), "ردّ",
         "no_contact"),
    ],
)
def test_refused_replies_say_why_and_store_nothing(case: Case, label: str, prepare: object,
                                                   body: str, reason: str) -> None:
    prepare(case)  # type: ignore[operator]
    db.session.commit()
    with pytest.raises(ReplyRefused) as refused:
        queue_reply(db.session, case, body, actor="officer", now=utcnow())
    assert refused.value.reason == reason, label
    assert db.session.scalars(select(Message).where(Message.kind == "reply")).all() == []


@pytest.mark.parametrize(("channel", "length"), [
    pytest.param("sms", 1600, id="sms-at-its-limit"),
    pytest.param("telegram", 1601, id="telegram-past-the-sms-limit"),
    pytest.param("whatsapp", 1600, id="whatsapp-at-its-limit"),
    pytest.param("voice", 4000, id="voice-at-the-reply-limit"),
])
def test_a_reply_within_its_channels_limit_is_queued(case: Case, channel: str,
                                                     length: int) -> None:
    case.channel = case.contact.channel = channel
    db.session.commit()
    message = queue_reply(db.session, case, "ا" * length, actor="officer", now=utcnow())
    assert message.channel == channel and len(message.body or "") == length


MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 64
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 64


def _on_the_voice_line(case: Case) -> Case:
    case.channel = case.contact.channel = "voice"
    db.session.commit()
    return case


ACCEPTED = [
    ("mp3-with-text", MP3, "سنتابع طلبك", "audio/mpeg"),
    ("wav-without-text", WAV, "  ", "audio/wav"),
]


@pytest.mark.parametrize(("label", "content", "body", "content_type"), ACCEPTED,
                         ids=[row[0] for row in ACCEPTED])
def test_a_recorded_answer_is_stored_with_the_reply(case: Case, label: str, content: bytes,
                                                    body: str, content_type: str) -> None:
    store = services().attachment_store
    message = queue_reply(db.session, _on_the_voice_line(case), body, actor="officer",
                          now=utcnow(), audio=ReplyAudio(content, "جواب.mp3"), store=store)
    (attachment,) = message.attachments
    assert (attachment.kind, attachment.content_type, attachment.fetch_status) == (
        "audio", content_type, "stored"), label
    assert store.read(attachment.storage_key or "") == content
    assert message.body == body.strip()
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.replied")
                               ).one()
    assert event.details == {"message_id": message.id, "audio": True}


REFUSED_AUDIO = [
    ("not-the-voice-line", False, MP3, "audio_channel"),
    ("ogg-cannot-be-played", True, b"OggS" + b"\x00" * 64, "audio_type"),
    ("pdf-named-mp3", True, b"%PDF-1.7 not audio", "audio_type"),
    ("empty-file", True, b"", "audio_type"),
    ("too-large", True, MP3 + b"\x00" * MAX_AUDIO_BYTES, "audio_too_large"),
]


@pytest.mark.parametrize(("label", "voice", "content", "reason"), REFUSED_AUDIO,
                         ids=[row[0] for row in REFUSED_AUDIO])
def test_refused_recordings_say_why_and_store_nothing(case: Case, label: str, voice: bool,
                                                      content: bytes, reason: str) -> None:
    if voice:
        _on_the_voice_line(case)
    with pytest.raises(ReplyRefused) as refused:
        queue_reply(db.session, case, "ردّ", actor="officer", now=utcnow(),
                    audio=ReplyAudio(content, "answer.mp3"), store=services().attachment_store)
    assert refused.value.reason == reason, label
    assert db.session.scalars(select(Message).where(Message.kind == "reply")).all() == []
    assert db.session.scalars(select(Attachment)).all() == []
