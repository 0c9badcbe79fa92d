"""Idempotency everywhere: a stream of webhooks and status callbacks delivered once leaves the
same database as the same stream with every request delivered three times, the copies
anywhere after the first (providers retry, and retries and callbacks arrive out of order).

The state is compared as a canonical dump: rows by what they mean (contacts by pseudonym,
messages by sender and text, cases by their first message), without ids, times or random
references.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from casework.models import (
    AuditEvent,
    Case,
    Contact,
    DeliveryStatus,
    Direction,
    Message,
    VoiceCall,
)
from extensions import db
from tests.fuzz.fuzz_helpers import HEAVY_SETTINGS, answered, example, post_twilio, wipe
from tests.fuzz.fuzz_strategies import STATUSES

CHATS = [5550001, 5550002]
NUMBERS = ["+963944000111", "+963955000222"]
TEXTS = ["لم أستلم السلة الغذائية", "1", "2", "نعم", "STOP", "حالة 1234567", "شكراً", "😢",
         "/start", "مرحبا"]
REFERENCE = re.compile(r"\d{7}")  # references are random: replies are compared without them
WARM_UP_SIDS = [f"SMwarm{n:028d}" for n in range(4)]


@dataclass(frozen=True)
class Delivery:
    kind: str  # telegram, sms, whatsapp, status, voice, simulator
    key: str  # the provider's id: the same key is the same request
    sender: str
    text: str = ""


@st.composite
def streams(draw: st.DrawFn) -> tuple[list[Delivery], list[Delivery]]:
    """(once, three times): distinct deliveries, then the stream with two extra copies of
    each, placed at random anywhere after the original."""
    count = draw(st.integers(1, 8))
    once: list[Delivery] = []
    for number in range(count):
        kind = draw(st.sampled_from(["telegram", "sms", "whatsapp", "status", "voice",
                                     "simulator"]))
        if kind == "status":
            callback = Delivery(kind, draw(st.sampled_from(WARM_UP_SIDS)), "",
                                draw(st.sampled_from(STATUSES[:9])))
            if callback not in once:  # the same callback twice is one callback, retried
                once.append(callback)
            continue
        sender = str(draw(st.sampled_from(CHATS))) if kind in ("telegram", "simulator") \
            else draw(st.sampled_from(NUMBERS))
        once.append(Delivery(kind, f"{kind}{number}", sender, draw(st.sampled_from(TEXTS))))
    stream = list(once)
    for position, delivery in enumerate(once):
        for _ in range(2):
            where = draw(st.integers(stream.index(delivery, position) + 1, len(stream)))
            stream.insert(where, delivery)
    return once, stream


@HEAVY_SETTINGS
@given(streams=streams())
def test_three_deliveries_in_any_order_equal_one(fuzz_client: FlaskClient,
                                                 streams: tuple[list[Delivery],
                                                                list[Delivery]]) -> None:
    example()
    once, three_times = streams
    assert Counter(three_times) == Counter({delivery: 3 for delivery in once})
    states = []
    for stream in (once, three_times):
        wipe()
        _warm_up(fuzz_client)
        for delivery in stream:
            _deliver(fuzz_client, delivery)
        states.append(canonical_dump())
    assert states[0] == states[1]


def _warm_up(client: FlaskClient) -> None:
    """Replies the provider accepted, so that status callbacks have messages to move."""
    for number, sender in enumerate(NUMBERS):
        post_twilio(client, "/webhooks/twilio/messaging", {
            "MessageSid": f"SMwarmin{number:026d}", "From": sender, "To": "+15005550006",
            "Body": "شكوى قديمة"})
    db.session.rollback()
    outbound = db.session.scalars(select(Message).where(
        Message.direction == Direction.OUTBOUND).order_by(Message.id)).all()
    for message, sid in zip(outbound, WARM_UP_SIDS, strict=False):
        message.status, message.external_id = DeliveryStatus.SENT, sid
    db.session.commit()


def _deliver(client: FlaskClient, delivery: Delivery) -> None:
    if delivery.kind == "telegram":
        update = {"update_id": int(delivery.key.removeprefix("telegram")) + 1, "message": {
            "message_id": 100 + int(delivery.key.removeprefix("telegram")), "date": 1764380000,
            "chat": {"id": int(delivery.sender), "type": "private"}, "text": delivery.text}}
        response = answered(client.post("/webhooks/telegram", json=update, headers={
            "X-Telegram-Bot-Api-Secret-Token": "telegram-webhook-secret-0123456789"}))
    elif delivery.kind == "simulator":
        response = answered(client.post("/webhooks/simulator", json={
            "tab": f"tab-{delivery.sender}", "id": delivery.key, "text": delivery.text},
            headers={"X-Sawti-Simulator": "1"}))
    elif delivery.kind in ("sms", "whatsapp"):
        prefix = "whatsapp:" if delivery.kind == "whatsapp" else ""
        response = post_twilio(client, "/webhooks/twilio/messaging", {
            "MessageSid": f"SM{delivery.key:0>32}", "From": prefix + delivery.sender,
            "To": prefix + ("+14155238886" if prefix else "+15005550006"),
            "Body": delivery.text})
    elif delivery.kind == "status":
        response = post_twilio(client, "/webhooks/twilio/status", {
            "MessageSid": delivery.key, "MessageStatus": delivery.text})
    else:
        response = post_twilio(client, "/webhooks/twilio/voice", {
            "CallSid": f"CA{delivery.key:0>32}", "From": delivery.sender,
            "To": "+15005550007"})
    assert response.status_code < 300, (delivery, response.status_code)


def canonical_dump() -> str:
    """The database as what it means, independent of ids, clocks and random references."""
    db.session.rollback()
    contacts = {contact.id: contact.pseudonym for contact in db.session.scalars(select(Contact))}
    cases = {case.id: case for case in db.session.scalars(select(Case))}

    def case_key(case_id: int | None) -> Any:
        if case_id is None:
            return None
        first = db.session.scalars(select(Message).where(Message.case_id == case_id)
                                   .order_by(Message.id)).first()
        return [contacts[cases[case_id].contact_id], first.external_id if first else None]

    dump = {
        "contacts": _sorted(
            [contact.pseudonym, contact.channel, contact.language, contact.opted_out,
             contact.dialogue_state, contact.consent_to_contact, contact.location]
            for contact in db.session.scalars(select(Contact))),
        "messages": _sorted(
            [contacts[message.contact_id], message.direction, message.kind,
             REFERENCE.sub("<reference>", message.body or ""),
             message.status, message.external_id if message.direction == "in" else None,
             case_key(message.case_id)]
            for message in db.session.scalars(select(Message))),
        "cases": _sorted(
            [case_key(case.id), case.status, case.channel, case.level, case.sensitive,
             case.urgent, case.category]
            for case in cases.values()),
        "calls": _sorted([call.call_sid, call.direction, call.status,
                         contacts.get(call.contact_id or 0)]
                        for call in db.session.scalars(select(VoiceCall))),
        "audit": sorted(Counter(db.session.scalars(select(AuditEvent.action))).items()),
    }
    return json.dumps(dump, sort_keys=True, ensure_ascii=False, default=str)


def _sorted(rows: Any) -> list[Any]:
    """Rows in a canonical order (they mix lists and None, which do not compare)."""
    return sorted(rows, key=lambda row: json.dumps(row, ensure_ascii=False, default=str))
