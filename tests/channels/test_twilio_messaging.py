"""SMS and WhatsApp through the real twilio client against the local fake Twilio."""

from __future__ import annotations

import json
from datetime import timedelta
from itertools import permutations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from casework.models import (
    Attachment,
    Case,
    Contact,
    DeliveryStatus,
    Message,
    PendingStatus,
    utcnow,
)
from casework.replies import queue_reply
from channels import delivery
from channels.dispatcher import Dispatcher
from extensions import db
from services import services
from tests.channels.conftest import (
    PUBLIC_URL,
    SMS_NUMBER,
    TEMPLATE_SID,
    WHATSAPP_NUMBER,
    post_twilio,
)
from tests.fakes import FakeTwilio, messaging_form, signed_form, status_form

MESSAGING = "/webhooks/twilio/messaging"
STATUS = "/webhooks/twilio/status"
PERSON = "+963944000111"


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    ("label", "form", "expect_status", "expect_messages", "expect_cases", "expect_channel"),
    [
        ("sms-arabic", messaging_form(Body="لم أستلم السلة الغذائية"), 200, 1, 1, "sms"),
        ("whatsapp-text", messaging_form(whatsapp=True, Body="وين التوزيع؟"), 200, 1, 1,
         "whatsapp"),
        ("emoji-only", messaging_form(Body="🙏🙏"), 200, 1, 0, "sms"),
        ("empty-body", messaging_form(Body=""), 200, 1, 0, "sms"),
        ("voice-note-only", messaging_form(whatsapp=True, Body="", media=[
            ("https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME1",
             "audio/ogg")]), 200, 1, 1, "whatsapp"),
        ("missing-from", messaging_form(From=None), 400, 0, 0, None),
        ("missing-message-sid", messaging_form(MessageSid=None), 400, 0, 0, None),
        ("bad-num-media", messaging_form(NumMedia="many"), 400, 0, 0, None),
    ],
)
def test_inbound_webhook(client: FlaskClient, app_context: None, label: str, form: dict,
                         expect_status: int, expect_messages: int, expect_cases: int,
                         expect_channel: str | None) -> None:
    response = post_twilio(client, MESSAGING, form)
    assert response.status_code == expect_status, label
    if expect_status == 200:
        assert response.mimetype == "text/xml"
        assert response.get_data(as_text=True).endswith("<Response />")
    assert _count(Message) - _outbound_count() == expect_messages
    assert _count(Case) == expect_cases
    if expect_channel:
        assert db.session.scalars(select(Contact.channel)).one() == expect_channel


def _outbound_count() -> int:
    return db.session.scalar(select(func.count(Message.id)).where(Message.direction == "out"))


@pytest.mark.parametrize(
    ("label", "sign_url", "signature", "token"),
    [
        ("no-signature", None, "", "twilio-auth-token-test"),
        ("forged-signature", None, "bm90IGEgc2lnbmF0dXJl", "twilio-auth-token-test"),
        ("signed-with-another-token", None, None, "someone-elses-token"),
        ("signed-for-another-url", "https://evil.example.com" + MESSAGING, None,
         "twilio-auth-token-test"),
        ("signed-with-trailing-question-mark", PUBLIC_URL + MESSAGING + "?", None,
         "twilio-auth-token-test"),
    ],
)
def test_unverified_requests_are_refused(client: FlaskClient, app_context: None, label: str,
                                         sign_url: str | None, signature: str | None,
                                         token: str) -> None:
    response = post_twilio(client, MESSAGING, messaging_form(), sign_url=sign_url,
                           signature=signature, token=token)
    assert response.status_code == 403, label
    assert _count(Message) == 0


def test_signature_covers_the_query_string(client: FlaskClient, app_context: None) -> None:
    form = messaging_form()
    params, signature = signed_form(PUBLIC_URL + MESSAGING + "?source=sawti", form,
                                    "twilio-auth-token-test")
    response = client.post(MESSAGING + "?source=sawti", data=params,
                           headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200


def test_json_body_is_refused_cleanly(client: FlaskClient, app_context: None) -> None:
    response = client.post(MESSAGING, json=messaging_form(),
                           headers={"X-Twilio-Signature": "x"})
    assert response.status_code == 403 and response.is_json
    assert _count(Message) == 0


def test_huge_body_is_413(client: FlaskClient, app_context: None) -> None:
    response = post_twilio(client, MESSAGING, messaging_form(Body="ا" * 700_000))
    assert response.status_code == 413 and _count(Message) == 0


def test_replayed_delivery_is_stored_once(client: FlaskClient, app_context: None) -> None:
    form = messaging_form(Body="لم أستلم السلة")
    for _ in range(3):
        assert post_twilio(client, MESSAGING, form).status_code == 200
    assert (_count(Case), _count(Message) - _outbound_count()) == (1, 1)
    assert _outbound_count() == 2  # one acknowledgement and one question, not three


def test_same_number_on_sms_and_whatsapp_is_two_contacts(client: FlaskClient,
                                                         app_context: None) -> None:
    post_twilio(client, MESSAGING, messaging_form(Body="شكوى"))
    post_twilio(client, MESSAGING, messaging_form(whatsapp=True, Body="شكوى"))
    assert sorted(db.session.scalars(select(Contact.channel))) == ["sms", "whatsapp"]
    assert _count(Case) == 2


# --- end to end ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("channel", "whatsapp", "to", "sender"),
    [("sms", False, PERSON, SMS_NUMBER),
     ("whatsapp", True, "whatsapp:" + PERSON, "whatsapp:" + WHATSAPP_NUMBER)],
)
def test_end_to_end(client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio,
                    channel: str, whatsapp: bool, to: str, sender: str) -> None:
    post_twilio(client, MESSAGING, messaging_form(whatsapp=whatsapp,
                                                  Body="لم أستلم السلة الغذائية هذا الشهر"))
    dispatcher.run_once()
    case = db.session.scalars(select(Case)).one()
    [ack, question] = fake_twilio.sent_messages()
    assert "1. إدلب" in question["Body"]
    assert (ack["To"], ack["From"]) == (to, sender)
    assert case.reference in ack["Body"] and "شكراً لتواصلك" in ack["Body"]
    assert ack["StatusCallback"] == PUBLIC_URL + STATUS
    queue_reply(db.session, case, "تم تحويل طلبك إلى فريق التوزيع.", actor="officer@example.org",
                now=utcnow())
    dispatcher.run_once()
    reply = fake_twilio.sent_messages()[-1]
    assert (reply["To"], reply["From"]) == (to, sender)
    assert reply["Body"] == "تم تحويل طلبك إلى فريق التوزيع."
    outbound = db.session.scalars(select(Message).where(Message.kind == "reply")).one()
    assert outbound.status == DeliveryStatus.SENT and outbound.external_id.startswith("SM")


@pytest.mark.parametrize("extra_settings", [{"sawti_send_concurrency": 4}])
def test_several_sends_at_once_reach_each_person_in_order(
        client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio) -> None:
    senders = [f"+9639440002{number:02d}" for number in range(6)]
    for sender in senders:
        post_twilio(client, MESSAGING, messaging_form(From=sender, Body="لم أستلم السلة"))
    while dispatcher.run_once():
        pass
    dispatcher.close()
    sent = fake_twilio.sent_messages()
    for sender in senders:  # the acknowledgement with the reference, then the question
        bodies = [message["Body"] for message in sent if message["To"] == sender]
        assert len(bodies) == 2 and "شكراً لتواصلك" in bodies[0] and "1. إدلب" in bodies[1]
    statuses = db.session.scalars(select(Message.status).where(Message.direction == "out"))
    assert set(statuses) == {DeliveryStatus.SENT}


# --- sending errors -------------------------------------------------------------------------

def _queued_reply(client: FlaskClient, dispatcher: Dispatcher) -> Message:
    post_twilio(client, MESSAGING, messaging_form(Body="شكوى"))
    dispatcher.run_once()
    case = db.session.scalars(select(Case)).one()
    return queue_reply(db.session, case, "ردّنا", actor="officer", now=utcnow())


@pytest.mark.parametrize(
    ("label", "inject", "status", "opted_out", "error"),
    [
        ("invalid-number", lambda f: f.invalid_number_next(), DeliveryStatus.FAILED, False,
         "twilio 400 code 21211"),
        ("unsubscribed-21610", lambda f: f.unsubscribed_next(), DeliveryStatus.FAILED, True,
         "twilio 400 code 21610"),
        ("rate-limited-429", lambda f: f.rate_limit_next(), DeliveryStatus.QUEUED, False,
         "twilio 429 code 20429"),
        ("server-error-500", lambda f: f.error_next(500), DeliveryStatus.QUEUED, False,
         "twilio 500"),
        ("client-timeout", lambda f: f.timeout_next(5.0), DeliveryStatus.QUEUED, False,
         "network error: ReadTimeout"),
    ],
)
def test_send_errors_are_typed(client: FlaskClient, dispatcher: Dispatcher,
                               fake_twilio: FakeTwilio, label: str, inject: object,
                               status: str, opted_out: bool, error: str) -> None:
    reply = _queued_reply(client, dispatcher)
    inject(fake_twilio)  # type: ignore[operator]
    dispatcher.run_once()
    assert reply.status == status, label
    assert reply.contact.opted_out is opted_out
    assert (reply.last_error or "").startswith(error)
    if status == DeliveryStatus.FAILED:
        assert reply.case.delivery_failed_at is not None


# --- status callbacks -----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("label", "reports", "final"),
    [
        ("in-order", ["queued", "sent", "delivered", "read"], DeliveryStatus.READ),
        ("late-sent-after-delivered", ["delivered", "sent", "queued"], DeliveryStatus.DELIVERED),
        ("replayed-three-times", ["delivered"] * 3, DeliveryStatus.DELIVERED),
        ("undelivered", ["sent", ("undelivered", 30005)], DeliveryStatus.FAILED),
        ("delivered-after-failed-ignored", [("failed", 30006), "delivered"],
         DeliveryStatus.FAILED),
    ],
)
def test_status_callbacks(client: FlaskClient, dispatcher: Dispatcher, label: str,
                          reports: list, final: str) -> None:
    reply = _queued_reply(client, dispatcher)
    dispatcher.run_once()
    for report in reports:
        status, code = report if isinstance(report, tuple) else (report, None)
        response = post_twilio(client, STATUS, status_form(reply.external_id, status, code))
        assert response.status_code == 204
    db.session.refresh(reply)
    assert reply.status == final, label
    if final == DeliveryStatus.FAILED:
        assert reply.case.delivery_error is not None


@pytest.mark.parametrize(("report", "final"), [
    pytest.param(("failed", 30005), DeliveryStatus.FAILED, id="failure-before-the-answer"),
    pytest.param(("delivered", None), DeliveryStatus.DELIVERED, id="delivery-before-the-answer"),
])
def test_a_report_that_beats_the_send_response_is_applied(
        client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio,
        report: tuple[str, int | None], final: str) -> None:
    reply = _queued_reply(client, dispatcher)
    answers: list[int] = []

    def report_at_once(sid: str) -> None:  # Twilio's callback, before we read its answer
        answers.append(post_twilio(client, STATUS, status_form(sid, *report)).status_code)

    fake_twilio.before_answering = report_at_once
    dispatcher.run_once()
    assert answers == [204]  # reported before the dispatcher read the answer
    db.session.refresh(reply)
    assert reply.external_id and reply.status == final
    assert (reply.case.delivery_error is not None) == (final == DeliveryStatus.FAILED)
    assert _count(PendingStatus) == 0


@pytest.mark.parametrize(("written_after_the_failure", "still_failed"), [
    pytest.param(True, False, id="a-new-answer-got-through"),
    pytest.param(False, True, id="an-answer-written-before-the-failure"),
])
def test_a_later_answer_that_got_through_clears_the_failure(
        client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio,
        written_after_the_failure: bool, still_failed: bool) -> None:
    failed = _queued_reply(client, dispatcher)
    case = failed.case
    if not written_after_the_failure:
        queue_reply(db.session, case, "ردّ ثانٍ", actor="officer", now=utcnow())
        db.session.commit()
    fake_twilio.invalid_number_next()
    dispatcher.run_once()
    db.session.refresh(case)
    assert failed.status == DeliveryStatus.FAILED and case.delivery_failed_at is not None
    if written_after_the_failure:
        queue_reply(db.session, case, "ردّ ثانٍ", actor="officer", now=utcnow())
        db.session.commit()
        dispatcher.run_once()
    db.session.refresh(case)
    assert (case.delivery_failed_at is not None) is still_failed
    assert (case.delivery_error is not None) is still_failed


def test_a_report_for_no_message_is_kept_then_dropped(client: FlaskClient,
                                                      app_context: None) -> None:
    assert post_twilio(client, STATUS, status_form("SM" + "9" * 32, "failed", 30003)
                       ).status_code == 204
    assert _count(PendingStatus) == 1
    assert delivery.apply_pending(db.session, utcnow() + timedelta(days=1)) == 0
    assert _count(PendingStatus) == 1  # its message may still be about to record its id
    delivery.apply_pending(db.session, utcnow() + delivery.PENDING_KEPT + timedelta(hours=1))
    db.session.commit()
    assert _count(PendingStatus) == 0


def test_status_for_21610_opts_the_person_out(client: FlaskClient, dispatcher: Dispatcher
                                              ) -> None:
    reply = _queued_reply(client, dispatcher)
    dispatcher.run_once()
    post_twilio(client, STATUS, status_form(reply.external_id, "failed", 21610))
    db.session.refresh(reply.contact)
    assert reply.contact.opted_out is True


@pytest.mark.parametrize(
    ("label", "form", "code"),
    [
        ("unsigned", status_form("SM" + "0" * 32, "delivered"), 403),
        ("unknown-status", status_form("SM" + "0" * 32, "teleported"), 400),
        ("missing-sid", status_form("", "delivered"), 400),
        ("unknown-message", status_form("SM" + "9" * 32, "delivered"), 204),
    ],
)
def test_bad_status_callbacks(client: FlaskClient, app_context: None, label: str, form: dict,
                              code: int) -> None:
    signature = "" if label == "unsigned" else None
    assert post_twilio(client, STATUS, form, signature=signature).status_code == code, label


# --- the WhatsApp 24-hour window ----------------------------------------------------------

def _whatsapp_case(client: FlaskClient, dispatcher: Dispatcher, hours_ago: float) -> Case:
    post_twilio(client, MESSAGING, messaging_form(whatsapp=True, Body="شكوى"))
    dispatcher.run_once()
    case = db.session.scalars(select(Case)).one()
    case.contact.last_inbound_at = utcnow() - timedelta(hours=hours_ago)
    db.session.commit()
    return case


def test_late_whatsapp_reply_is_held_and_a_template_sent(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio,
) -> None:
    case = _whatsapp_case(client, dispatcher, hours_ago=25)
    reply = queue_reply(db.session, case, "ردّ متأخر", actor="officer", now=utcnow())
    dispatcher.run_once()
    dispatcher.run_once()
    assert reply.status == DeliveryStatus.HELD and reply.hold_reason == "whatsapp_window"
    template = fake_twilio.sent_messages()[-1]
    assert template["ContentSid"] == TEMPLATE_SID
    assert json.loads(template["ContentVariables"]) == {"1": case.reference}
    assert "Body" not in template or not template.get("Body")
    # The person writes again: the held reply goes out as free text.
    post_twilio(client, MESSAGING, messaging_form(whatsapp=True, Body="نعم"))
    dispatcher.run_once()
    db.session.refresh(reply)
    assert reply.status == DeliveryStatus.SENT
    bodies = [message.get("Body") for message in fake_twilio.sent_messages()]
    assert bodies.count("ردّ متأخر") == 1


def test_63016_by_status_callback_takes_the_same_path(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio,
) -> None:
    case = _whatsapp_case(client, dispatcher, hours_ago=1)
    reply = queue_reply(db.session, case, "ردّ", actor="officer", now=utcnow())
    dispatcher.run_once()
    assert reply.status == DeliveryStatus.SENT
    post_twilio(client, STATUS, status_form(reply.external_id, "failed", 63016))
    db.session.refresh(reply)
    assert reply.status == DeliveryStatus.HELD
    dispatcher.run_once()
    assert fake_twilio.sent_messages()[-1]["ContentSid"] == TEMPLATE_SID


def test_without_template_the_reply_stays_held_and_says_why(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio,
) -> None:
    dispatcher.adapters["whatsapp"].template_sid = None  # type: ignore[attr-defined]
    case = _whatsapp_case(client, dispatcher, hours_ago=30)
    reply = queue_reply(db.session, case, "ردّ", actor="officer", now=utcnow())
    dispatcher.run_once()
    dispatcher.run_once()
    notice = db.session.scalars(select(Message).where(Message.kind == "reply_waiting")).one()
    assert reply.status == DeliveryStatus.HELD
    assert notice.status == DeliveryStatus.FAILED and "template" in (notice.last_error or "")


def test_media_is_downloaded_by_the_worker(client: FlaskClient, dispatcher: Dispatcher,
                                          fake_twilio: FakeTwilio) -> None:
    url = fake_twilio.add_media("MM" + "a" * 32, "ME" + "b" * 32, b"OggS-voice-bytes",
                                "audio/ogg")
    post_twilio(client, MESSAGING, messaging_form(whatsapp=True, Body="",
                                                  media=[(url, "audio/ogg")]))
    dispatcher.run_once()
    attachment = db.session.scalars(select(Attachment)).one()
    assert attachment.fetch_status == "stored" and attachment.size_bytes == 16
    assert services().attachment_store.read(attachment.storage_key) == b"OggS-voice-bytes"


@pytest.mark.parametrize(
    "order",
    list(permutations(["sent", "delivered", "read", "queued"])),
    ids=lambda order: "-".join(order),
)
def test_status_reports_in_any_order_end_at_the_furthest(
    client: FlaskClient, dispatcher: Dispatcher, order: tuple[str, ...],
) -> None:
    reply = _queued_reply(client, dispatcher)
    dispatcher.run_once()
    for status in order:
        post_twilio(client, STATUS, status_form(reply.external_id, status))
    db.session.refresh(reply)
    assert reply.status == DeliveryStatus.READ
