"""What happens to an outbound message after the provider got it, or could not take it.

- A status callback moves a message forward only (a late "sent" after "delivered" is
  ignored), so replays and out-of-order callbacks are harmless.
- A failure the provider says may pass (a handset switched off, Twilio's 30003) sends the
  message again later, up to ``DELIVERY_TRIES`` sends; any other failure is final and shown
  on the case.
- A report may arrive before the dispatcher has stored the provider's id for the message (the
  provider answered the send and reported on it before our commit): it is kept as a
  ``PendingStatus`` and applied when the dispatcher records the id, exactly as it would have
  been had it come later: a failure that may pass is sent again, any other is shown on the
  case, and none is lost.
- Outside WhatsApp's 24-hour window free text cannot be sent: the message is held, and an
  approved template tells the person a reply is waiting; the held message goes out as soon as
  they write again (``casework.outbox.release_held`` in intake).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.messages import Speaker
from casework import audit, outbox
from casework.models import DELIVERY_PROGRESS, DeliveryStatus, Message, PendingStatus
from channels.base import StatusUpdate

WINDOW_HOLD = "whatsapp_window"
PENDING_KEPT = timedelta(days=2)
# A failure the provider reports as worth another try (a phone switched off in a power cut)
# sends the message again after 30 minutes, then 1 and 2 hours: four sends in all.
DELIVERY_TRIES = 4
DELIVERY_RETRY_SECONDS = 30 * 60.0
DELIVERY_RETRY_MAX_SECONDS = 4 * 3600.0
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
            if message is None:
                _keep_for_later(session, channels, update, now)
            elif _apply(session, message, update, now):
                changed += 1
        session.commit()
    except Exception:
        session.rollback()
        raise
    return changed


def apply_pending(session: Session, now: datetime, limit: int = 200) -> int:
    """Apply the kept reports whose message now has its provider id, and forget them; the
    caller commits. Run by the dispatcher every round: the table is almost always empty, and
    a report kept in any moment before the id's commit is found on the next round. One that
    still has no message after ``PENDING_KEPT`` is dropped."""
    applied = 0
    for report in session.scalars(select(PendingStatus).order_by(PendingStatus.id)
                                  .limit(limit)).all():
        message = outbox.find_sent(session, frozenset(report.channels.split(",")),
                                   report.external_id)
        if message is None:
            if now - report.received_at > PENDING_KEPT:  # it will never find its message
                session.delete(report)
            continue
        _apply(session, message, StatusUpdate(
            external_id=report.external_id, status=report.status,
            error_code=report.error_code, opted_out=report.opted_out,
            window_closed=report.window_closed, retryable=report.retryable), now)
        session.delete(report)
        applied += 1
    return applied


def _keep_for_later(session: Session, channels: frozenset[str], update: StatusUpdate,
                    now: datetime) -> None:
    session.add(PendingStatus(
        channels=",".join(sorted(channels)), external_id=update.external_id[:128],
        status=update.status, error_code=update.error_code, opted_out=update.opted_out,
        window_closed=update.window_closed, retryable=update.retryable, received_at=now))


def _failed(session: Session, message: Message, update: StatusUpdate, now: datetime) -> None:
    """Send it again later if the provider's reason may pass, else record the failure on the
    case. The copy that failed keeps no id here, so late reports on it change nothing."""
    error = f"provider error {update.error_code}" if update.error_code else "provider: failed"
    if not update.retryable or message.attempts >= DELIVERY_TRIES:
        outbox.mark_failed(session, message, error, now)
        return
    message.external_id = None
    outbox.mark_retry(message, f"{error}; sending again", now,
                      base_seconds=DELIVERY_RETRY_SECONDS,
                      max_seconds=DELIVERY_RETRY_MAX_SECONDS)


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
        _failed(session, message, update, now)
    else:
        message.status = new
        if new in (DeliveryStatus.DELIVERED, DeliveryStatus.READ) and not message.delivered_at:
            message.delivered_at = now
    return True
