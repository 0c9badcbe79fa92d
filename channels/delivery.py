"""What happens to an outbound message after the provider got it, or could not take it.

- A status callback moves a message forward only (a late "sent" after "delivered" is
  ignored), so replays and out-of-order callbacks are harmless.
- Outside WhatsApp's 24-hour window free text cannot be sent: the message is held, and an
  approved template tells the person a reply is waiting; the held message goes out as soon as
  they write again (``casework.outbox.release_held`` in intake).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from bot.messages import Speaker
from casework import audit, outbox
from casework.models import DELIVERY_PROGRESS, DeliveryStatus, Message
from channels.base import StatusUpdate

WINDOW_HOLD = "whatsapp_window"
NOTICE_KIND = "reply_waiting"


def hold_for_window(session: Session, message: Message, now: datetime) -> None:
    """Hold the message and queue the template notice (once) that a reply is waiting."""
    outbox.hold(message, WINDOW_HOLD)
    audit.record(session, "message.held", case=message.case, message_id=message.id,
                 reason=WINDOW_HOLD)
    if outbox.has_pending(session, message.contact, NOTICE_KIND):
        return
    speaker = Speaker(message.contact.language)
    reference = message.case.reference if message.case else ""
    body = speaker._("A reply about your case %(reference)s is waiting for you. Send us any "
                     "message to receive it.", reference=reference)
    outbox.enqueue(session, message.contact, message.case, body, kind=NOTICE_KIND,
                   language=speaker.language, now=now)


def record_statuses(session: Session, channels: frozenset[str],
                    updates: Iterable[StatusUpdate], now: datetime) -> int:
    """Apply delivery reports and commit; returns how many messages changed."""
    changed = 0
    try:
        for update in updates:
            message = outbox.find_sent(session, channels, update.external_id)
            if message is not None and _apply(session, message, update, now):
                changed += 1
        session.commit()
    except Exception:
        session.rollback()
        raise
    return changed


def _apply(session: Session, message: Message, update: StatusUpdate, now: datetime) -> bool:
    if update.opted_out:
        message.contact.opted_out, message.contact.opted_out_at = True, now
    if update.window_closed and message.kind != NOTICE_KIND:
        if message.status == DeliveryStatus.HELD:
            return False
        hold_for_window(session, message, now)
        return True
    new = DeliveryStatus(update.status)
    if DELIVERY_PROGRESS[new] <= DELIVERY_PROGRESS[DeliveryStatus(message.status)]:
        return False  # a replay, or a report that arrived late
    if new == DeliveryStatus.FAILED:
        outbox.mark_failed(session, message, f"provider error {update.error_code}", now)
    else:
        message.status = new
        if new in (DeliveryStatus.DELIVERED, DeliveryStatus.READ) and not message.delivered_at:
            message.delivered_at = now
    return True
