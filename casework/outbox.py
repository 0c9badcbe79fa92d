"""The outbox: outbound messages are rows, written in the transaction that caused them, and
sent later by the dispatcher. A claim is a lease, so a dispatcher that dies mid-send leaves the
row to be claimed again once the lease expires.

Queuing marks the session (``QUEUED_INFO`` in ``Session.info``); once the transaction commits,
``channels.wakeup`` wakes an idle dispatcher through Redis, when REDIS_URL is set."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, insert, inspect, or_, select, update
from sqlalchemy.orm import Session, selectinload

from casework import audit
from casework.models import (
    Case,
    Contact,
    DeliveryStatus,
    Direction,
    Message,
)

LEASE = timedelta(minutes=2)
QUEUED_INFO = "sawti.outbox_queued"  # Session.info key: this transaction queued messages
ERROR_LENGTH = 255
_MESSAGES = Message.__table__
_INSERT = insert(_MESSAGES).returning(_MESSAGES.c.id, sort_by_parameter_order=True)
_RELEASE = (
    update(_MESSAGES)
    .where(_MESSAGES.c.contact_id == bindparam("for_contact"),
           _MESSAGES.c.direction == Direction.OUTBOUND,
           _MESSAGES.c.status == DeliveryStatus.HELD)
    .values(status=DeliveryStatus.QUEUED, next_attempt_at=bindparam("due"), hold_reason=None)
)


def enqueue(session: Session, contact: Contact, case: Case | None, body: str, *, kind: str,
            language: str, now: datetime) -> Message:
    message = Message(
        contact=contact, case=case, direction=Direction.OUTBOUND, channel=contact.channel,
        kind=kind, body=body, language=language, status=DeliveryStatus.QUEUED,
        next_attempt_at=now, created_at=now,
    )
    session.add(message)
    session.info[QUEUED_INFO] = True
    return message


def enqueue_all(session: Session, contact: Contact, case: Case | None,
                replies: Iterable[tuple[str, str]], *, language: str, now: datetime
                ) -> list[int]:
    """Queue (body, kind) replies with one INSERT, after the flush that gave the contact and
    case their ids; returns the new messages' ids, in order. No objects are loaded: for
    callers that only need the ids (intake)."""
    rows = [{"contact_id": contact.id, "case_id": case.id if case else None,
             "direction": Direction.OUTBOUND, "channel": contact.channel, "kind": kind,
             "body": body, "language": language, "status": DeliveryStatus.QUEUED,
             "attempts": 0, "next_attempt_at": now, "created_at": now}
            for body, kind in replies]
    if not rows:
        return []
    session.info[QUEUED_INFO] = True
    return list(session.scalars(_INSERT, rows))


def claim_due(session: Session, now: datetime, limit: int = 50,
              lease: timedelta = LEASE) -> list[Message]:
    """Lease up to ``limit`` messages that are due (or whose lease expired); caller commits."""
    due = or_(
        (Message.status == DeliveryStatus.QUEUED) & (Message.next_attempt_at <= now),
        (Message.status == DeliveryStatus.SENDING) & (Message.lease_until <= now),
    )
    messages = list(session.scalars(
        select(Message).where(Message.direction == Direction.OUTBOUND, due)
        .order_by(Message.next_attempt_at, Message.id).limit(limit)
        .with_for_update(skip_locked=True, of=Message)
        # what sending reads, in two queries a batch rather than two a message
        .options(selectinload(Message.contact), selectinload(Message.case))
    ))
    for message in messages:
        message.status = DeliveryStatus.SENDING
        message.lease_until = now + lease
        message.attempts += 1
    return messages


def mark_sent(message: Message, external_id: str | None, now: datetime) -> None:
    message.status = DeliveryStatus.SENT
    message.external_id = external_id
    message.sent_at = now
    message.lease_until = None
    message.last_error = None
    case = message.case
    if case is not None and case.delivery_failed_at is not None and message.kind == "reply" \
            and message.created_at >= case.delivery_failed_at:
        # An answer written after the failure went out: the case no longer needs action for it.
        case.delivery_failed_at = case.delivery_error = None


def mark_retry(message: Message, error: str, now: datetime, *, base_seconds: float,
               max_seconds: float, not_before: float | None = None) -> None:
    """Back off exponentially (with jitter), or sooner/later if the provider said when."""
    delay = min(max_seconds, base_seconds * 2 ** (message.attempts - 1))
    delay *= random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security
    if not_before is not None:
        delay = max(delay, not_before)
    message.status = DeliveryStatus.QUEUED
    message.next_attempt_at = now + timedelta(seconds=delay)
    message.lease_until = None
    message.last_error = error[:ERROR_LENGTH]


def mark_failed(session: Session, message: Message, error: str, now: datetime) -> None:
    """A final failure, recorded on the case for officers to see."""
    message.status = DeliveryStatus.FAILED
    message.lease_until = None
    message.last_error = error[:ERROR_LENGTH]
    if message.case is not None:
        message.case.delivery_failed_at = now
        message.case.delivery_error = message.last_error
    audit.record(session, "message.failed", case=message.case, message_id=message.id,
                 kind=message.kind, error=message.last_error)


def hold(message: Message, reason: str) -> None:
    """Keep the message until the person writes again (see ``release_held``)."""
    message.status = DeliveryStatus.HELD
    message.hold_reason = reason
    message.lease_until = None
    message.next_attempt_at = None


def release_held(session: Session, contact: Contact, now: datetime) -> int:
    """The person wrote again: everything held for them is due now."""
    if contact.id is None:
        return 0
    released = session.execute(_RELEASE, {"for_contact": contact.id, "due": now}).rowcount
    if released:
        session.info[QUEUED_INFO] = True
        # rare: the contact's messages this session holds may be out of date
        for item in list(session.identity_map.values()):
            if isinstance(item, Message) and inspect(item).dict.get("contact_id") == contact.id:
                session.expire(item)
    return released


BEHIND_SENDING = timedelta(seconds=1)  # an earlier message is being sent: soon done


def held_up_by_earlier(session: Session, claimed: list[Message], now: datetime
                       ) -> dict[int, datetime]:
    """The claimed messages that must wait for an earlier message to the same person on the
    same channel that is not among them and has not gone out yet: id -> when to try again.

    People read messages in the order they arrive: the location question must not come before
    the acknowledgement it follows, whose send is being retried or which another worker is
    sending at this moment. Held messages (a closed WhatsApp window) hold nothing up."""
    if not claimed:
        return {}
    unsent = session.execute(
        select(Message.contact_id, Message.channel, Message.id, Message.status,
               Message.next_attempt_at)
        .where(Message.contact_id.in_({message.contact_id for message in claimed}),
               Message.direction == Direction.OUTBOUND,
               Message.status.in_([DeliveryStatus.QUEUED, DeliveryStatus.SENDING]),
               Message.id.not_in([message.id for message in claimed]))
        .order_by(Message.id))
    earliest: dict[tuple[int, str], tuple[int, datetime]] = {}
    for contact_id, channel, message_id, status, due in unsent:
        retry = due if status == DeliveryStatus.QUEUED and due and due > now \
            else now + BEHIND_SENDING
        earliest.setdefault((contact_id, channel), (message_id, retry))
    held: dict[int, datetime] = {}
    for message in claimed:
        found = earliest.get((message.contact_id, message.channel))
        if found is not None and found[0] < message.id:
            held[message.id] = found[1]
    return held


def has_pending(session: Session, contact: Contact, kind: str) -> bool:
    return session.scalar(
        select(Message.id).where(
            Message.contact_id == contact.id, Message.kind == kind,
            Message.status.in_([DeliveryStatus.QUEUED, DeliveryStatus.SENDING]),
        ).limit(1)
    ) is not None


def find_sent(session: Session, channels: frozenset[str], external_id: str) -> Message | None:
    return session.scalars(
        select(Message).where(Message.channel.in_(channels),
                              Message.direction == Direction.OUTBOUND,
                              Message.external_id == external_id)
    ).first()


def cancel(message: Message, reason: str) -> None:
    message.status = DeliveryStatus.CANCELLED
    message.lease_until = None
    message.last_error = reason[:ERROR_LENGTH]


def oldest_due_at(session: Session, now: datetime) -> datetime | None:
    """When the longest-waiting due message became due: the dispatcher's lag."""
    return session.scalar(
        select(Message.next_attempt_at)
        .where(Message.direction == Direction.OUTBOUND, Message.status == DeliveryStatus.QUEUED,
               Message.next_attempt_at <= now)
        .order_by(Message.next_attempt_at).limit(1)
    )


def next_due_at(session: Session) -> datetime | None:
    """When the dispatcher next has something to do: the earliest queued message's time, or
    the earliest lease to expire; None when nothing waits."""
    queued = session.scalar(
        select(func.min(Message.next_attempt_at))
        .where(Message.status == DeliveryStatus.QUEUED, Message.direction == Direction.OUTBOUND))
    leased = session.scalar(
        select(func.min(Message.lease_until))
        .where(Message.status == DeliveryStatus.SENDING,
               Message.direction == Direction.OUTBOUND))
    times = [moment for moment in (queued, leased) if moment is not None]
    return min(times) if times else None
