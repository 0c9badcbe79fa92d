"""The dispatcher against a scripted channel: retries, back-off, failures, opt-outs, leases."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Self

import pytest
from flask import Request, Response
from sqlalchemy import delete, select
from werkzeug.test import TestResponse

from bot.conversation import handle_inbound
from casework import outbox
from casework.intake import Inbound
from casework.models import AuditEvent, Case, Contact, DeliveryStatus, Message, utcnow
from channels.base import (
    ChannelAdapter,
    Outbound,
    PermanentSendError,
    RetryableSendError,
    SendResult,
)
from channels.dispatcher import Dispatcher
from extensions import db
from services import services


class ScriptedChannel(ChannelAdapter):
    """A channel whose provider answers as scripted, recording every message it got."""

    name = "simulator"

    def __init__(self, outcomes: list[object]) -> None:
        self.outcomes = list(outcomes)
        self.received: list[Outbound] = []

    @classmethod
    def from_settings(cls, settings: object) -> Self | None:
        return None

    def verify(self, request: Request) -> bool:
        return False

    def parse(self, request: Request) -> list:
        return []

    def webhook_response(self, handled: object) -> Response:
        return Response(status=204)

    def send(self, outbound: Outbound) -> SendResult:
        self.received.append(outbound)
        outcome = self.outcomes.pop(0) if self.outcomes else "ok"
        if isinstance(outcome, Exception):
            raise outcome
        return SendResult(external_id=f"provider-{outbound.message_id}")


@pytest.fixture
def scripted(app_context: None) -> Callable[..., tuple[Dispatcher, ScriptedChannel]]:
    def make(*outcomes: object) -> tuple[Dispatcher, ScriptedChannel]:
        channel = ScriptedChannel(list(outcomes))
        svc = services()
        return Dispatcher(db.session, {"simulator": channel}, svc.vault, svc.settings), channel
    return make


@pytest.fixture
def ack(simulate: Callable[..., TestResponse], app_context: None) -> Message:
    """A new case's acknowledgement waiting in the outbox (the question after it removed)."""
    simulate("لم أستلم السلة الغذائية", tab="tab-dispatch-1")
    outbound = list(db.session.scalars(select(Message).where(Message.direction == "out")))
    for message in outbound[1:]:
        db.session.delete(message)
    db.session.commit()
    assert outbound[0].kind == "ack"
    return outbound[0]


def _make_due(message: Message) -> None:
    message.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()


def test_provider_gets_the_decrypted_address_and_text(scripted: Callable, ack: Message) -> None:
    dispatcher, channel = scripted("ok")
    assert dispatcher.run_once() == 1
    [sent] = channel.received
    assert sent.address == "tab-dispatch-1"
    assert sent.reference == ack.case.reference and sent.reference in sent.body
    assert (ack.status, ack.external_id, ack.attempts) == ("sent", f"provider-{ack.id}", 1)
    assert ack.case.acknowledged_at is not None


def test_retryable_error_backs_off_then_succeeds(scripted: Callable, ack: Message) -> None:
    dispatcher, channel = scripted(RetryableSendError("HTTP 503"), "ok")
    before = utcnow()
    dispatcher.run_once()
    assert ack.status == DeliveryStatus.QUEUED and ack.last_error == "HTTP 503"
    assert ack.next_attempt_at >= before + timedelta(seconds=0.8)  # base 1 s with jitter
    assert dispatcher.run_once() == 0  # not due yet
    _make_due(ack)
    dispatcher.run_once()
    assert (ack.status, ack.attempts, ack.last_error) == ("sent", 2, None)
    assert len(channel.received) == 2


def test_backoff_grows_exponentially(scripted: Callable, ack: Message) -> None:
    dispatcher, _ = scripted(*[RetryableSendError("timeout")] * 4)
    delays = []
    for _ in range(4):
        start = utcnow()
        dispatcher.run_once()
        delays.append((ack.next_attempt_at - start).total_seconds())
        _make_due(ack)
    assert delays[1] > delays[0] * 1.3 and delays[3] > delays[2] * 1.3
    assert 8 * 0.8 <= delays[3] <= 8 * 1.2 + 0.5


def test_retry_after_from_the_provider_is_respected(scripted: Callable, ack: Message) -> None:
    dispatcher, _ = scripted(RetryableSendError("429 Too Many Requests", retry_after=30))
    start = utcnow()
    dispatcher.run_once()
    assert ack.next_attempt_at >= start + timedelta(seconds=30)


@pytest.mark.parametrize("settings_overrides", [{"sawti_send_max_attempts": 3}])
def test_gives_up_after_max_attempts_and_shows_it_on_the_case(
    scripted: Callable, ack: Message,
) -> None:
    dispatcher, channel = scripted(*[RetryableSendError("HTTP 500")] * 5)
    for _ in range(3):
        dispatcher.run_once()
        _make_due(ack)
    assert dispatcher.run_once() == 0
    assert ack.status == DeliveryStatus.FAILED and ack.attempts == 3
    assert len(channel.received) == 3
    assert ack.case.delivery_failed_at is not None and ack.case.delivery_error == "HTTP 500"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "message.failed")
                               ).one()
    assert event.case_id == ack.case.id


@pytest.mark.parametrize(
    ("error", "opted_out"),
    [
        pytest.param(PermanentSendError("invalid number"), False, id="invalid-number"),
        pytest.param(PermanentSendError("bot blocked by user", opt_out=True), True,
                     id="blocked-opts-out"),
    ],
)
def test_permanent_error_fails_at_once(scripted: Callable, ack: Message,
                                       error: PermanentSendError, opted_out: bool) -> None:
    dispatcher, _ = scripted(error)
    dispatcher.run_once()
    assert ack.status == DeliveryStatus.FAILED and ack.attempts == 1
    assert ack.contact.opted_out is opted_out


def test_unexpected_adapter_error_is_retried_not_lost(scripted: Callable, ack: Message) -> None:
    dispatcher, _ = scripted(ValueError("bug"))
    dispatcher.run_once()
    assert ack.status == DeliveryStatus.QUEUED
    assert ack.last_error == "unexpected error: ValueError"


def test_opted_out_contact_gets_only_the_opt_out_confirmation(
    scripted: Callable, simulate: Callable[..., TestResponse],
) -> None:
    simulate("لم أستلم السلة", tab="tab-dispatch-2")
    simulate("توقف", tab="tab-dispatch-2")
    dispatcher, channel = scripted()
    dispatcher.run_once()
    assert [m.kind for m in channel.received] == ["opt_out"]
    statuses = {m.kind: m.status for m in db.session.scalars(
        select(Message).where(Message.direction == "out"))}
    assert statuses == {"ack": "cancelled", "question": "cancelled", "opt_out": "sent"}


def test_unconfigured_channel_is_retried(scripted: Callable, ack: Message) -> None:
    svc = services()
    dispatcher = Dispatcher(db.session, {}, svc.vault, svc.settings)
    dispatcher.run_once()
    assert ack.status == DeliveryStatus.QUEUED
    assert ack.last_error == "channel simulator is not configured"


def test_expired_lease_is_reclaimed_live_lease_is_not(scripted: Callable, ack: Message) -> None:
    dispatcher, channel = scripted()
    ack.status = DeliveryStatus.SENDING
    ack.lease_until = utcnow() + timedelta(minutes=1)  # another dispatcher is sending it
    db.session.commit()
    assert dispatcher.run_once() == 0
    ack.lease_until = utcnow() - timedelta(seconds=1)  # that dispatcher died
    db.session.commit()
    assert dispatcher.run_once() == 1
    assert ack.status == DeliveryStatus.SENT and len(channel.received) == 1


def test_erased_address_fails_permanently(scripted: Callable, ack: Message) -> None:
    ack.contact.address_encrypted = None
    db.session.commit()
    dispatcher, channel = scripted()
    dispatcher.run_once()
    assert ack.status == DeliveryStatus.FAILED and channel.received == []


# --- one person's messages go out in the order they were written ----------------------------


@pytest.fixture
def ack_and_question(simulate: Callable[..., TestResponse], app_context: None
                     ) -> tuple[Message, Message]:
    """A new case's acknowledgement and the location question after it, both queued."""
    simulate("لم أستلم السلة الغذائية", tab="tab-dispatch-order")
    ack, question = db.session.scalars(
        select(Message).where(Message.direction == "out").order_by(Message.id))
    assert (ack.kind, question.kind) == ("ack", "question")
    return ack, question


def _another_worker_is_sending(message: Message) -> None:
    message.status = DeliveryStatus.SENDING
    message.lease_until = utcnow() + timedelta(minutes=1)


def _waiting_for_its_retry(message: Message) -> None:
    message.next_attempt_at = utcnow() + timedelta(minutes=5)


def _held_for_the_window(message: Message) -> None:
    message.status, message.next_attempt_at = DeliveryStatus.HELD, None


def _already_failed(message: Message) -> None:
    message.status = DeliveryStatus.FAILED


@pytest.mark.parametrize(("earlier_state", "question_goes_now"), [
    pytest.param(_another_worker_is_sending, False, id="ack-being-sent-by-another-worker"),
    pytest.param(_waiting_for_its_retry, False, id="ack-waiting-for-a-retry"),
    pytest.param(_held_for_the_window, True, id="ack-held-for-whatsapp-window"),
    pytest.param(_already_failed, True, id="ack-failed-for-good"),
])
def test_a_message_waits_for_an_earlier_one_still_to_go(
        scripted: Callable, ack_and_question: tuple[Message, Message],
        earlier_state: Callable[[Message], None], question_goes_now: bool) -> None:
    ack, question = ack_and_question
    earlier_state(ack)
    db.session.commit()
    dispatcher, channel = scripted()
    before = utcnow()
    dispatcher.run_once()
    assert [sent.message_id for sent in channel.received] == ([question.id]
                                                               if question_goes_now else [])
    if not question_goes_now:
        assert question.status == DeliveryStatus.QUEUED and question.attempts == 0
        assert question.next_attempt_at > before  # not claimed again at once


def test_a_failed_send_holds_back_what_follows_until_it_goes(
        scripted: Callable, ack_and_question: tuple[Message, Message]) -> None:
    ack, question = ack_and_question
    dispatcher, channel = scripted(RetryableSendError("HTTP 503"), "ok", "ok")
    dispatcher.run_once()
    assert [sent.message_id for sent in channel.received] == [ack.id]
    assert (ack.status, question.status) == (DeliveryStatus.QUEUED, DeliveryStatus.QUEUED)
    assert question.next_attempt_at >= ack.next_attempt_at and question.attempts == 0
    for message in (ack, question):
        message.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    dispatcher.run_once()
    assert [sent.message_id for sent in channel.received] == [ack.id, ack.id, question.id]
    assert (ack.status, question.status) == ("sent", "sent")


def test_one_claim_sends_a_persons_messages_in_the_order_they_were_written(
        scripted: Callable, ack_and_question: tuple[Message, Message]) -> None:
    ack, question = ack_and_question
    ack.next_attempt_at = utcnow() - timedelta(seconds=1)
    question.next_attempt_at = utcnow() - timedelta(seconds=10)  # due first, written second
    db.session.commit()
    dispatcher, channel = scripted()
    dispatcher.run_once()
    assert [sent.message_id for sent in channel.received] == [ack.id, question.id]


# --- several sends at once (SAWTI_SEND_CONCURRENCY), never two for one person ----------------


class OverlappingChannel(ScriptedChannel):
    """Records how many sends are in progress at once; each send waits until ``together``
    sends are in progress (or a short while), so that sends that can overlap do."""

    def __init__(self, together: int) -> None:
        super().__init__([])
        self.together = together
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)

    def send(self, outbound: Outbound) -> SendResult:
        with self.arrived:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.received.append(outbound)
            self.arrived.notify_all()
            self.arrived.wait_for(lambda: self.in_flight >= self.together, timeout=5.0)
            self.in_flight -= 1
        return SendResult(external_id=f"provider-{outbound.message_id}")


def _queued_for(people: int, each: int) -> list[Message]:
    """``each`` replies queued for each of ``people`` people (a case each, no dialogue)."""
    svc = services()
    queued = []
    for person in range(people):
        inbound = Inbound(channel="simulator", address=f"tab-together-{person}",
                          external_id=f"together-{person}", text="لم أستلم السلة الغذائية",
                          received_at=utcnow(), raw={})
        handle_inbound(db.session, inbound, svc.vault, svc.dialogue)
    db.session.execute(delete(Message).where(Message.direction == "out"))
    for contact in db.session.scalars(select(Contact).order_by(Contact.id)):
        case = db.session.scalars(select(Case).where(Case.contact_id == contact.id)).one()
        queued += [outbox.enqueue(db.session, contact, case, f"رد {number}", kind="reply",
                                  language="ar", now=utcnow() - timedelta(seconds=1))
                   for number in range(each)]
    db.session.commit()
    return queued


@pytest.mark.parametrize(("concurrency", "people", "each", "most_at_once"), [
    pytest.param(1, 4, 1, 1, id="one-at-a-time-by-default"),
    pytest.param(4, 4, 1, 4, id="four-people-at-once"),
    pytest.param(4, 1, 4, 1, id="one-persons-messages-one-after-another"),
    pytest.param(2, 3, 2, 2, id="two-at-once-each-person-in-order"),
])
def test_sends_overlap_only_across_people(app_context: None, concurrency: int, people: int,
                                          each: int, most_at_once: int) -> None:
    queued = _queued_for(people, each)
    svc = services()
    channel = OverlappingChannel(together=most_at_once)
    dispatcher = Dispatcher(db.session, {"simulator": channel}, svc.vault,
                            svc.settings.model_copy(update={"sawti_send_concurrency":
                                                            concurrency}))
    try:
        while dispatcher.run_once():
            pass
    finally:
        dispatcher.close()
    assert channel.most_in_flight == most_at_once
    assert sorted(sent.message_id for sent in channel.received) == [m.id for m in queued]
    for person in {message.contact_id for message in queued}:  # each person's in order
        theirs = [m.id for m in queued if m.contact_id == person]
        assert [sent.message_id for sent in channel.received if sent.message_id in theirs] \
            == theirs
    assert {m.status for m in queued} == {DeliveryStatus.SENT}
