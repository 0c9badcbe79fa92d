"""Officers' replies to a case: queued in the outbox for the case's own channel and contact.

Whether a reply can go out now is the channel's business (the dispatcher holds a WhatsApp
reply outside the 24-hour window and tells the person a reply is waiting); what is decided
here is whether it can be accepted at all.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from casework import audit, outbox
from casework.models import Case, CaseStatus, Message
from casework.text import clean_text

MAX_REPLY_LENGTH = 4000


class ReplyRefused(ValueError):
    """The reply cannot be accepted; ``reason`` is a stable code, the message says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def queue_reply(session: Session, case: Case, body: str, *, actor: str, now: datetime
                ) -> Message:
    """Queue an officer's reply and commit; raises ReplyRefused with a clear reason."""
    text = clean_text(body)
    if not text:
        raise ReplyRefused("empty", "The reply is empty.")
    if len(text) > MAX_REPLY_LENGTH:
        raise ReplyRefused("too_long", f"The reply is longer than {MAX_REPLY_LENGTH} characters.")
    contact = case.contact
    if contact is None or contact.address_encrypted is None:
        raise ReplyRefused("no_contact", "This case has no contact address to reply to.")
    if contact.opted_out:
        raise ReplyRefused("opted_out", "The person opted out; they get messages again only "
                                        "after writing to us.")
    try:
        message = outbox.enqueue(session, contact, case, text, kind="reply",
                                 language=contact.language, now=now)
        case.first_response_at = case.first_response_at or now
        if case.status == CaseStatus.NEW:
            case.status = CaseStatus.OPEN
        case.last_activity_at = now
        session.flush()
        audit.record(session, "case.replied", case=case, actor=actor, message_id=message.id)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return message
