"""Telegram through the real python-telegram-bot against the local fake Bot API."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from casework.models import Attachment, Case, Contact, DeliveryStatus, Message, utcnow
from casework.replies import queue_reply
from channels.dispatcher import Dispatcher
from extensions import db
from services import services
from tests.channels.conftest import BOT_TOKEN, PUBLIC_URL, WEBHOOK_SECRET, post_telegram
from tests.fakes import (
    FakeTelegram,
    audio_update,
    channel_post_update,
    document_update,
    edited_text_update,
    group_text_update,
    location_update,
    photo_update,
    start_update,
    text_update,
    voice_update,
)

CHAT = 5550001


def _changed(update: dict, field: str, value: object) -> dict:
    """The update with one field of its message ("voice.file_id": nested) set to ``value``."""
    *parents, name = field.split(".")
    target = update["message"]
    for parent in parents:
        target = target[parent]
    target[name] = value
    return update


def _inbound() -> list[Message]:
    return list(db.session.scalars(select(Message).where(Message.direction == "in")
                                   .order_by(Message.id)))


def _cases() -> int:
    return db.session.scalar(select(func.count(Case.id)))


def _reply_kinds() -> list[str]:
    return list(db.session.scalars(select(Message.kind).where(Message.direction == "out")
                                   .order_by(Message.id)))


@pytest.mark.parametrize(
    ("label", "update", "messages", "cases", "replies"),
    [
        ("arabic-text", text_update(1, CHAT, "لم أستلم السلة الغذائية"), 1, 1,
         ["ack", "question"]),
        ("start-command", start_update(2, CHAT), 1, 0, ["greeting"]),
        ("emoji", text_update(3, CHAT, "😢😢"), 1, 0, ["prompt"]),
        ("voice-note", voice_update(4, CHAT), 1, 1, ["ack", "question"]),
        ("audio-file", audio_update(5, CHAT), 1, 1, ["ack", "question"]),
        ("photo-with-caption", photo_update(6, CHAT, caption="هذه صورة الخيمة"), 1, 1,
         ["ack", "question"]),
        ("pdf-document", document_update(7, CHAT), 1, 1, ["ack", "question"]),
        ("location-only", location_update(8, CHAT, 35.93, 36.63), 1, 1, ["ack", "question"]),
        ("group-chat-ignored", group_text_update(9, -100123, "hello group"), 0, 0, []),
        ("supergroup-ignored", group_text_update(10, -100124, "x", supergroup=True), 0, 0, []),
        ("channel-post-ignored", channel_post_update(11, -100200, "news"), 0, 0, []),
        ("callback-query-ignored", {"update_id": 12, "callback_query": {
            "id": "1", "from": {"id": CHAT, "is_bot": False, "first_name": "Ali"},
            "chat_instance": "1", "data": "x"}}, 0, 0, []),
    ],
)
def test_updates(client: FlaskClient, app_context: None, label: str, update: dict,
                 messages: int, cases: int, replies: list[str]) -> None:
    response = post_telegram(client, update)
    assert response.status_code == 200 and response.json == {"ok": True}, label
    assert len(_inbound()) == messages
    assert _cases() == cases
    assert _reply_kinds() == replies


@pytest.mark.parametrize(
    ("label", "body", "secret", "status"),
    [
        ("missing-secret", text_update(1, CHAT, "x"), None, 403),
        ("wrong-secret", text_update(1, CHAT, "x"), "guess", 403),
        ("secret-prefix-only", text_update(1, CHAT, "x"), WEBHOOK_SECRET[:10], 403),
        ("not-an-object", ["update"], WEBHOOK_SECRET, 400),
        ("no-update-id", {"message": {}}, WEBHOOK_SECRET, 400),
        ("update-id-not-int", {"update_id": "7"}, WEBHOOK_SECRET, 400),
        ("malformed-message", {"update_id": 7, "message": {"text": "no chat"}}, WEBHOOK_SECRET,
         400),
        # Past 64 bits an id no longer fits its column (a 500 on PostgreSQL before)
        ("update-id-past-64-bits", text_update(10**130, CHAT, "x"), WEBHOOK_SECRET, 400),
        ("message-id-past-64-bits", {**text_update(8, CHAT, "x"), "message": {
            **text_update(8, CHAT, "x")["message"], "message_id": 10**130}}, WEBHOOK_SECRET, 400),
        # Fields of the wrong type pass python-telegram-bot unchecked (a 500 before; fuzzing
        # found the text).
        ("text-a-list", _changed(text_update(9, CHAT, "x"), "text", ["لم", "أستلم"]),
         WEBHOOK_SECRET, 400),
        ("caption-an-object", _changed(photo_update(10, CHAT, caption="x"), "caption",
                                       {"x": 1}), WEBHOOK_SECRET, 400),
        ("file-size-a-string", _changed(voice_update(12, CHAT), "voice.file_size", "big"),
         WEBHOOK_SECRET, 400),
        ("mime-type-a-list", _changed(document_update(13, CHAT), "document.mime_type",
                                      ["application/pdf"]), WEBHOOK_SECRET, 400),
        ("latitude-a-string", location_update(14, CHAT, "36.2", 37.1), WEBHOOK_SECRET, 400),
        ("latitude-out-of-range", location_update(15, CHAT, 136.2, 37.1), WEBHOOK_SECRET,
         400),
        # A date past what the platform's clock can hold (an OverflowError, a 500 before;
        # `make fuzz` found it), and one before 1970.
        ("date-past-time-t", _changed(text_update(16, CHAT, "x"), "date", 10**20),
         WEBHOOK_SECRET, 400),
        ("date-far-in-the-past", _changed(text_update(17, CHAT, "x"), "date", -10**20),
         WEBHOOK_SECRET, 400),
        ("date-after-year-9999", _changed(text_update(18, CHAT, "x"), "date", 10**17),
         WEBHOOK_SECRET, 400),
        ("date-a-string", _changed(text_update(19, CHAT, "x"), "date", "yesterday"),
         WEBHOOK_SECRET, 400),
        ("edit-date-past-time-t", edited_text_update(20, CHAT, "x", message_id=5,
                                                     edit_date=10**20), WEBHOOK_SECRET, 400),
    ],
)
def test_bad_requests(client: FlaskClient, app_context: None, label: str, body: object,
                      secret: str | None, status: int) -> None:
    response = post_telegram(client, body, secret=secret)
    assert response.status_code == status, label
    assert response.is_json and response.json["detail"]
    assert _inbound() == []


def test_invalid_json_is_400(client: FlaskClient, app_context: None) -> None:
    response = client.post("/webhooks/telegram", data=b"{not json",
                           content_type="application/json",
                           headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET})
    assert response.status_code == 400 and _inbound() == []


def test_replayed_update_is_stored_once(client: FlaskClient, app_context: None) -> None:
    update = text_update(41, CHAT, "لم أستلم السلة")
    for _ in range(3):
        post_telegram(client, update)
    assert len(_inbound()) == 1 and _cases() == 1 and _reply_kinds() == ["ack", "question"]


def test_edited_message_is_a_new_version_not_a_new_case(client: FlaskClient,
                                                       app_context: None) -> None:
    post_telegram(client, text_update(50, CHAT, "لم استلم السله", message_id=900))
    post_telegram(client, edited_text_update(51, CHAT, "لم أستلم السلة الغذائية",
                                             message_id=900))
    original, edit = _inbound()
    assert edit.kind == "edit" and edit.edit_of_id == original.id
    assert edit.case_id == original.case_id and _cases() == 1
    assert original.body == "لم استلم السله"  # the first version is kept
    assert _reply_kinds() == ["ack", "question"]  # an edit is not answered again


def test_location_becomes_the_case_coordinates(client: FlaskClient, app_context: None) -> None:
    post_telegram(client, text_update(60, CHAT, "الخيمة غرقت"))
    post_telegram(client, location_update(61, CHAT, 35.9306, 36.6339))
    case = db.session.scalars(select(Case)).one()
    assert (case.latitude, case.longitude) == (35.9306, 36.6339)


def test_contact_stores_no_telegram_id(client: FlaskClient, app_context: None) -> None:
    post_telegram(client, text_update(70, CHAT, "شكوى"))
    contact = db.session.scalars(select(Contact)).one()
    assert str(CHAT) not in contact.pseudonym + (contact.address_encrypted or "")
    assert services().vault.decrypt(contact.address_encrypted or "") == str(CHAT)


# --- sending ----------------------------------------------------------------------------------

def test_end_to_end(client: FlaskClient, dispatcher: Dispatcher,
                    fake_telegram: FakeTelegram) -> None:
    post_telegram(client, text_update(80, CHAT, "لم أستلم السلة الغذائية هذا الشهر"))
    dispatcher.run_once()
    case = db.session.scalars(select(Case)).one()
    ack = fake_telegram.sent_messages()[0]
    assert ack["method"] == "sendMessage" and ack["chat_id"] == CHAT
    assert case.reference in ack["text"]
    queue_reply(db.session, case, "سيصلك الرد خلال أيام.", actor="officer", now=utcnow())
    dispatcher.run_once()
    reply = fake_telegram.sent_messages()[-1]
    assert (reply["chat_id"], reply["text"]) == (CHAT, "سيصلك الرد خلال أيام.")
    assert db.session.scalars(select(Message).where(Message.kind == "reply")).one().status \
        == DeliveryStatus.SENT


@pytest.mark.parametrize("extra_settings", [{"sawti_send_concurrency": 1},
                                            {"sawti_send_concurrency": 4}],
                         ids=["one-send-at-a-time", "four-sends-at-once"])
def test_people_in_different_chats_are_all_answered(client: FlaskClient, dispatcher: Dispatcher,
                                                    fake_telegram: FakeTelegram) -> None:
    # Telegram numbers each chat's messages from 1, so two chats' first replies share an id.
    chats = [CHAT, CHAT + 1, CHAT + 2]
    for update_id, chat in enumerate(chats, start=300):
        post_telegram(client, text_update(update_id, chat, "لم أستلم السلة الغذائية"))
    while dispatcher.run_once():
        pass
    dispatcher.close()
    sent = fake_telegram.sent_messages()
    assert sorted({message["chat_id"] for message in sent}) == chats
    for chat in chats:  # the acknowledgement with the reference, then the question
        texts = [message["text"] for message in sent if message["chat_id"] == chat]
        assert len(texts) == 2 and "صوتي" in texts[0] and "محافظة" in texts[1]
    acks = db.session.scalars(select(Message).where(Message.kind == "ack")).all()
    assert [ack.status for ack in acks] == [DeliveryStatus.SENT] * 3
    assert len({ack.external_id for ack in acks}) == 3
    assert all(str(chat) not in (ack.external_id or "") for ack in acks for chat in chats)


@pytest.fixture
def queued_ack(client: FlaskClient, app_context: None) -> Callable[[], Message]:
    def make() -> Message:
        post_telegram(client, text_update(90, CHAT, "شكوى"))
        return db.session.scalars(select(Message).where(Message.kind == "ack")).one()
    return make


@pytest.mark.parametrize(
    ("label", "inject", "status", "opted_out", "min_delay"),
    [
        ("blocked-403", lambda f: f.block_next(match="sendMessage"), DeliveryStatus.FAILED,
         True, None),
        ("flood-429", lambda f: f.rate_limit_next(retry_after=7, match="sendMessage"),
         DeliveryStatus.QUEUED, False, 7),
        ("server-500", lambda f: f.error_next(500, match="sendMessage"), DeliveryStatus.QUEUED,
         False, 0),
        ("chat-not-found-400", lambda f: f.error_next(400, match="sendMessage"),
         DeliveryStatus.FAILED, False, None),
        ("timeout", lambda f: f.timeout_next(5.0, match="sendMessage"), DeliveryStatus.QUEUED,
         False, 0),
    ],
)
def test_send_errors_are_typed(queued_ack: Callable[[], Message], dispatcher: Dispatcher,
                               fake_telegram: FakeTelegram, label: str, inject: object,
                               status: str, opted_out: bool, min_delay: float | None) -> None:
    ack = queued_ack()
    inject(fake_telegram)  # type: ignore[operator]
    before = utcnow()
    dispatcher.run_once()
    assert ack.status == status, label
    assert ack.contact.opted_out is opted_out
    if min_delay is not None:
        assert ack.next_attempt_at >= before + timedelta(seconds=min_delay)


def test_voice_note_is_downloaded_through_get_file(client: FlaskClient, dispatcher: Dispatcher,
                                                   fake_telegram: FakeTelegram) -> None:
    fake_telegram.add_file("voice-file-1", b"OggS\x00voice", "voice/file_1.oga")
    post_telegram(client, voice_update(100, CHAT, file_id="voice-file-1"))
    dispatcher.run_once()
    attachment = db.session.scalars(select(Attachment)).one()
    assert attachment.fetch_status == "stored"
    assert services().attachment_store.read(attachment.storage_key or "") == b"OggS\x00voice"


def test_unknown_file_fails_at_once_and_the_case_survives(
    client: FlaskClient, dispatcher: Dispatcher, fake_telegram: FakeTelegram,
) -> None:
    post_telegram(client, voice_update(110, CHAT, file_id="never-uploaded"))
    dispatcher.run_once()
    attachment = db.session.scalars(select(Attachment)).one()
    assert (attachment.fetch_status, attachment.fetch_attempts) == ("failed", 1)
    assert "400" in (attachment.fetch_error or "") and _cases() == 1


@pytest.mark.parametrize("extra_settings", [{"sawti_attachment_fetch_attempts": 2}])
def test_server_errors_are_retried_then_given_up(
    client: FlaskClient, dispatcher: Dispatcher, fake_telegram: FakeTelegram,
) -> None:
    fake_telegram.add_file("voice-2", b"OggS", "voice/file_2.oga")
    fake_telegram.error_next(500, n=2, match="getFile")
    post_telegram(client, voice_update(111, CHAT, file_id="voice-2"))
    dispatcher.run_once()
    attachment = db.session.scalars(select(Attachment)).one()
    assert attachment.fetch_status == "pending" and attachment.next_fetch_at > utcnow()
    attachment.next_fetch_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    dispatcher.run_once()
    assert (attachment.fetch_status, attachment.fetch_attempts) == ("failed", 2)
    assert _cases() == 1


def test_set_webhook_command(app: Flask, fake_telegram: FakeTelegram) -> None:
    result = app.test_cli_runner().invoke(args=["telegram", "set-webhook"])
    assert result.exit_code == 0, result.output
    assert fake_telegram.webhook["url"] == PUBLIC_URL + "/webhooks/telegram"
    assert fake_telegram.webhook["secret_token"] == WEBHOOK_SECRET
    assert fake_telegram.webhook["allowed_updates"] == ["message", "edited_message"]


def test_logs_hold_no_token_chat_id_or_text(client: FlaskClient, dispatcher: Dispatcher,
                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    post_telegram(client, text_update(120, CHAT, "اسمي سعاد والموظف طلب مني مال"))
    post_telegram(client, text_update(121, CHAT, "x"), secret="wrong")  # logged rejection
    dispatcher.run_once()
    logged = "\n".join(f"{record.name} {record.getMessage()}" for record in caplog.records
                       if record.levelno >= logging.INFO)
    for secret in (BOT_TOKEN, str(CHAT), "سعاد", WEBHOOK_SECRET):
        assert secret not in logged
