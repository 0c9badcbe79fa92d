"""Intake: store what a person sent, exactly once, under a pseudonymous contact.

``receive`` is de-duplicated on (channel, external id): a provider that retries a webhook
never creates a second message or case. Two copies arriving at the same instant both pass the
look-up; the unique constraint then rejects the second when it is written, and the caller
retries it, finding the first. Case creation is a separate step because whether a message
opens a case (or is a status query, an opt-out, an empty message) is the dialogue's decision;
everything runs inside the caller's transaction.

On SQLite the transaction holds the database's write lock from its first statement, so what
needs no database (the pseudonym, the clean text) is worked out before it, by ``prepare``,
and the look-ups that need no objects are plain statements built once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from casework import audit
from casework.models import (
    Attachment,
    Case,
    CaseStatus,
    Contact,
    DeliveryStatus,
    Direction,
    Message,
)
from casework.privacy import Vault
from casework.references import new_reference
from casework.text import clean_text, fits_a_column, normalize_for_matching
from config.data import Grid

EXTERNAL_ID_LENGTH, CONTENT_TYPE_LENGTH = 512, 100  # the columns' sizes
_CONTENT_TYPE = re.compile(r"[A-Za-z0-9][\w.+-]*/[\w.+-]+(\s*;[ -~]*)?", re.ASCII)

# Random references drawn per look-up, growing: one almost always suffices, and as the
# space of a million references fills up, larger draws still find a free one in a query
# (at 99% full, all 2,341 taken has a chance of 1 in 10^10; at 80%, 20 single draws failed
# one new case in a hundred).
REFERENCE_DRAWS = (1, 4, 32, 256, 2048)

# Built once, run for every message (SQLAlchemy caches their compiled form).
_MESSAGES = Message.__table__
_INBOUND_ID = select(_MESSAGES.c.id).where(
    _MESSAGES.c.channel == bindparam("channel"), _MESSAGES.c.direction == Direction.INBOUND,
    _MESSAGES.c.external_id == bindparam("external_id"))
# FOR NO KEY UPDATE (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers): two
# messages from one person handled at once by two web processes take turns, so the second sees
# the case and the dialogue state the first left, instead of opening a second case. "No key":
# the foreign key checks of others inserting rows for this contact (an officer's reply) are
# not held up by it.
_CONTACT = (select(Contact).where(Contact.pseudonym == bindparam("pseudonym"))
            .with_for_update(key_share=True))
_CURRENT_CASE = (
    select(Case)
    .where(Case.contact_id == bindparam("contact_id"), Case.status != CaseStatus.CLOSED,
           Case.last_activity_at >= bindparam("since"))
    .order_by(Case.last_activity_at.desc())
    .limit(1)
    # An officer closing it at this moment: wait, then see it closed (and open a new case)
    # rather than add the message to a case nobody will look at again.
    .with_for_update(key_share=True)
)
_REFERENCES_TAKEN = select(Case.__table__.c.reference).where(
    Case.__table__.c.reference.in_(bindparam("references", expanding=True)))


@dataclass(frozen=True)
class InboundAttachment:
    kind: str  # voice, audio, image, document, location
    content_type: str | None = None
    external_id: str | None = None
    size_bytes: int | None = None


@dataclass(frozen=True)
class Inbound:
    """One message as a channel adapter parsed it from the provider's request."""

    channel: str
    address: str
    external_id: str
    text: str
    received_at: datetime
    attachments: tuple[InboundAttachment, ...] = ()
    location: tuple[float, float] | None = None  # latitude, longitude
    provider_ref: str | None = None  # the provider's id of the message (if not external_id)
    edit_of: str | None = None  # provider_ref of the message this one edits
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Prepared:
    """An inbound message with what can be worked out before the transaction starts."""

    inbound: Inbound
    pseudonym: str
    body: str  # what is stored and read: clean_text(inbound.text)
    search_text: str | None


@dataclass
class Received:
    contact: Contact
    message: Message
    duplicate: bool
    new_contact: bool
    edit: bool = False  # a new version of an earlier message, already on its case


def prepare(inbound: Inbound, vault: Vault) -> Prepared:
    """What ``receive`` needs that takes no database work (done before the transaction)."""
    return Prepared(inbound, vault.pseudonym(inbound.channel, inbound.address),
                    clean_text(inbound.text), normalize_for_matching(inbound.text or "") or None)


def receive(session: Session, prepared: Prepared, vault: Vault) -> Received:
    """Find or create the contact and store the message; a replay returns the first copy."""
    inbound = prepared.inbound
    message = _message(prepared)  # before the first statement: outside SQLite's write lock
    existing = session.scalar(_INBOUND_ID, {"channel": inbound.channel,
                                            "external_id": inbound.external_id})
    if existing is not None:
        stored = session.get_one(Message, existing)
        return Received(stored.contact, stored, duplicate=True, new_contact=False)
    contact, new_contact = _contact_for(session, prepared, vault)
    message.contact = contact
    session.add(message)
    contact.last_inbound_at = inbound.received_at
    original = _original(session, contact, inbound) if inbound.edit_of else None
    if original is not None:
        message.kind, message.edit_of, message.case = "edit", original, original.case
    return Received(contact, message, duplicate=False, new_contact=new_contact,
                    edit=original is not None)


def current_case(session: Session, contact: Contact, now: datetime, window: timedelta
                 ) -> Case | None:
    """The contact's open case that saw activity within the window, if any."""
    if contact.id is None:  # a contact created in this transaction has no case yet
        return None
    return session.scalars(_CURRENT_CASE, {"contact_id": contact.id, "since": now - window}
                           ).first()


def open_case(session: Session, contact: Contact, message: Message, grid: Grid, now: datetime
              ) -> Case:
    """A new case whose clock starts at the first message."""
    started = message.received_at or now
    case = Case(
        reference=_unused_reference(session), contact=contact, channel=contact.channel,
        status=CaseStatus.NEW, language=contact.language, location=contact.location,
        consent_to_contact=contact.consent_to_contact, created_at=started,
        due_at=started + grid.deadline_for(None), last_activity_at=now,
    )
    session.add(case)
    attach(case, message, now)
    audit.record(session, "case.created", case=case, channel=case.channel)
    return case


def attach(case: Case, message: Message, now: datetime) -> None:
    """Put the message on the case and count it as the case's latest activity."""
    message.case = case
    case.last_activity_at = now


def latest_case(session: Session, contact: Contact) -> Case | None:
    """The contact's most recent case that was not merged into another, whatever its age."""
    if contact.id is None:
        return None
    return session.scalars(
        select(Case).where(Case.contact_id == contact.id, Case.merged_into_id.is_(None))
        .order_by(Case.created_at.desc(), Case.id.desc()).limit(1)).first()


def find_case(session: Session, reference: str) -> Case | None:
    return session.scalars(select(Case).where(Case.reference == reference)).first()


def _message(prepared: Prepared) -> Message:
    inbound = prepared.inbound
    return Message(
        direction=Direction.INBOUND, channel=inbound.channel,
        external_id=inbound.external_id, provider_ref=inbound.provider_ref,
        body=prepared.body, kind="location" if inbound.location else "text",
        search_text=prepared.search_text, status=DeliveryStatus.RECEIVED,
        received_at=inbound.received_at,
        attachments=[_attachment(item, inbound.received_at) for item in inbound.attachments],
    )


def _attachment(item: InboundAttachment, received_at: datetime) -> Attachment:
    """The row of an attachment the provider announced. What a provider sends is checked
    here, where it meets the database (PostgreSQL refuses a NUL byte, a value longer than its
    column, an integer past 2³¹): a file id that cannot be used marks the attachment refused
    and keeps the message; a content type that is not one is dropped."""
    usable = bool(item.external_id) and fits_a_column(item.external_id or "", EXTERNAL_ID_LENGTH)
    size = item.size_bytes if item.size_bytes is not None and 0 <= item.size_bytes < 2**31 \
        else None
    return Attachment(
        kind=item.kind, external_id=item.external_id if usable else None, size_bytes=size,
        content_type=item.content_type if _is_content_type(item.content_type) else None,
        fetch_status="pending" if usable else "refused", fetch_attempts=0,
        next_fetch_at=received_at if usable else None,
        fetch_error=None if usable else "the provider's file id is unusable")


def _is_content_type(value: str | None) -> bool:
    return value is not None and len(value) <= CONTENT_TYPE_LENGTH \
        and _CONTENT_TYPE.fullmatch(value) is not None


def _original(session: Session, contact: Contact, inbound: Inbound) -> Message | None:
    if contact.id is None:
        return None
    return session.scalars(
        select(Message).where(Message.contact_id == contact.id,
                              Message.direction == Direction.INBOUND,
                              Message.provider_ref == inbound.edit_of,
                              Message.edit_of_id.is_(None))
        .limit(1)
    ).first()


def _contact_for(session: Session, prepared: Prepared, vault: Vault) -> tuple[Contact, bool]:
    contact = session.scalars(_CONTACT, {"pseudonym": prepared.pseudonym}).first()
    if contact is not None:
        return contact, False
    inbound = prepared.inbound
    contact = Contact(channel=inbound.channel, pseudonym=prepared.pseudonym,
                      address_encrypted=vault.encrypt(inbound.address), language="ar",
                      opted_out=False, dialogue_state="idle")
    session.add(contact)
    return contact, True


def _unused_reference(session: Session) -> str:
    for draw in REFERENCE_DRAWS:
        candidates = list(dict.fromkeys(new_reference() for _ in range(draw)))
        taken = set(session.scalars(_REFERENCES_TAKEN, {"references": candidates}))
        free = next((reference for reference in candidates if reference not in taken), None)
        if free is not None:
            return free
    raise RuntimeError("no free case reference found; the reference space is nearly full")
