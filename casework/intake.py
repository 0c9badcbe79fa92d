"""Intake: store what a person sent, exactly once, under a pseudonymous contact.

``receive`` is de-duplicated on (channel, external id): a provider that retries a webhook
never creates a second message or case. Two copies arriving at the same instant both pass the
look-up; the unique constraint then rejects the second at flush, and the caller retries it,
finding the first. Case creation is a separate step because whether a
message opens a case (or is a status query, an opt-out, an empty message) is the dialogue's
decision; everything runs inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
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
from casework.text import clean_text, normalize_for_matching
from config.data import Grid

REFERENCE_ATTEMPTS = 20


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


@dataclass
class Received:
    contact: Contact
    message: Message
    duplicate: bool
    new_contact: bool
    edit: bool = False  # a new version of an earlier message, already on its case


def receive(session: Session, inbound: Inbound, vault: Vault) -> Received:
    """Find or create the contact and store the message; a replay returns the first copy."""
    existing = _find_message(session, inbound.channel, inbound.external_id)
    if existing is not None:
        return Received(existing.contact, existing, duplicate=True, new_contact=False)
    contact, new_contact = _contact_for(session, inbound, vault)
    message = Message(
        contact=contact, direction=Direction.INBOUND, channel=inbound.channel,
        external_id=inbound.external_id, provider_ref=inbound.provider_ref,
        body=clean_text(inbound.text), kind="location" if inbound.location else "text",
        search_text=normalize_for_matching(inbound.text or "") or None,
        status=DeliveryStatus.RECEIVED, received_at=inbound.received_at,
        attachments=[Attachment(kind=item.kind, content_type=item.content_type,
                                external_id=item.external_id, size_bytes=item.size_bytes,
                                fetch_status="pending", fetch_attempts=0,
                                next_fetch_at=inbound.received_at)
                     for item in inbound.attachments],
    )
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
    return session.scalars(
        select(Case)
        .where(Case.contact_id == contact.id, Case.status != CaseStatus.CLOSED,
               Case.last_activity_at >= now - window)
        .order_by(Case.last_activity_at.desc())
        .limit(1)
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
    message.case = case
    case.last_activity_at = now


def find_case(session: Session, reference: str) -> Case | None:
    return session.scalars(select(Case).where(Case.reference == reference)).first()


def _find_message(session: Session, channel: str, external_id: str) -> Message | None:
    return session.scalars(
        select(Message).where(Message.channel == channel,
                              Message.direction == Direction.INBOUND,
                              Message.external_id == external_id)
    ).first()


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


def _contact_for(session: Session, inbound: Inbound, vault: Vault) -> tuple[Contact, bool]:
    pseudonym = vault.pseudonym(inbound.channel, inbound.address)
    contact = session.scalars(select(Contact).where(Contact.pseudonym == pseudonym)).first()
    if contact is not None:
        return contact, False
    contact = Contact(channel=inbound.channel, pseudonym=pseudonym,
                      address_encrypted=vault.encrypt(inbound.address), language="ar",
                      opted_out=False, dialogue_state="idle")
    session.add(contact)
    return contact, True


def _unused_reference(session: Session) -> str:
    for _ in range(REFERENCE_ATTEMPTS):
        reference = new_reference()
        if session.scalar(select(Case.id).where(Case.reference == reference)) is None:
            return reference
    raise RuntimeError("no free case reference found; the reference space is nearly full")
