"""Retention and erasure: personal data is kept only as long as it serves the person.

- **Retention** (``apply_retention``, a scheduled job): the encrypted address of a contact is
  erased ``SAWTI_RETENTION_CONTACT_DAYS`` (90) after their last case closed — only when they
  have no open case, have not written since, and nothing still waits to be sent to them (a
  contact who never opened a case: that long after their last message). Inbound and outbound
  attachment files are deleted ``SAWTI_RETENTION_ATTACHMENT_DAYS`` (365) after they arrived;
  the row stays, marked erased, with its kind, type and size for statistics. Cases, messages
  and everything statistics are made of stay.
- **Erasure** (``erase_person``, the console's "erase this person", administrators only, on the
  person's request): removes the address (of every contact with the same phone number on the
  phone channels), unlinks the pseudonym so a later message starts afresh, empties the text of
  every message to and from them, deletes their attachments and the words the triage
  assistant matched, and cancels what was still to be sent. The case skeleton stays for
  statistics: reference, dates, channel, level, category, location, status, gender and age
  group. Staff work stays too — internal notes, referrals, resolutions — as the record of what
  the organisation did; the console says so before the administrator confirms.

Both are audited with counts and a reason code only, never an address or a text. Both are
idempotent: running them again changes nothing.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Select, exists, func, or_, select, update
from sqlalchemy.orm import Session

from casework import audit
from casework.models import (
    Attachment,
    Case,
    CaseDocument,
    CaseStatus,
    Contact,
    DeliveryStatus,
    Direction,
    Message,
    TriageSuggestion,
)
from casework.privacy import AddressDecryptionError, Vault
from casework.storage import AttachmentStore

if TYPE_CHECKING:
    from config.settings import Settings
    from services import Services

log = logging.getLogger(__name__)
BATCH = 500
PHONE_CHANNELS = ("sms", "whatsapp", "voice")
PENDING = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING, DeliveryStatus.HELD)
ERASED_PSEUDONYM_PREFIX = "erased-"
# Why an administrator erased a person: codes only, the audit trail never holds free text.
ERASURE_REASONS = ("person_request", "representative_request", "safety_risk")


@dataclass(frozen=True)
class RetentionResult:
    contacts: int = 0
    attachments: int = 0
    files: int = 0

    def __bool__(self) -> bool:
        return bool(self.contacts or self.attachments)


@dataclass(frozen=True)
class ErasureResult:
    contacts: int
    cases: int
    messages: int
    attachments: int
    files: int
    cancelled: int


class ErasureRefused(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- retention ----------------------------------------------------------------------------

def retention_job(session: Session, services: Services, now: datetime) -> int:
    """The scheduler's entry point (``casework.scheduler.JOBS``)."""
    result = apply_retention(session, services.attachment_store, services.settings, now)
    return result.contacts + result.attachments


def apply_retention(session: Session, store: AttachmentStore, settings: Settings,
                    now: datetime) -> RetentionResult:
    """Erase what has been kept long enough, in batches, committing each; audited once with
    counts when anything changed."""
    contact_cutoff = now - timedelta(days=settings.sawti_retention_contact_days)
    attachment_cutoff = now - timedelta(days=settings.sawti_retention_attachment_days)
    try:
        contacts = _erase_expired_addresses(session, contact_cutoff, now)
        attachments, files = _erase_expired_attachments(session, store, attachment_cutoff, now)
        result = RetentionResult(contacts, attachments, files)
        if result:
            audit.record(session, "retention.applied", contacts=contacts,
                         attachments=attachments, files=files,
                         contact_days=settings.sawti_retention_contact_days,
                         attachment_days=settings.sawti_retention_attachment_days)
            log.info("retention applied", extra={"contacts": contacts,
                                                 "attachments": attachments})
        session.commit()
    except Exception:
        session.rollback()
        raise
    return result


def expired_contacts(cutoff: datetime) -> Select[tuple[int]]:
    """Contacts whose address may go: no open case, no case closed after the cutoff, quiet
    since the cutoff, nothing waiting to be sent to them."""
    open_case = exists().where(Case.contact_id == Contact.id, Case.status != CaseStatus.CLOSED)
    recent_close = exists().where(Case.contact_id == Contact.id, Case.closed_at > cutoff)
    pending = exists().where(Message.contact_id == Contact.id,
                             Message.direction == Direction.OUTBOUND,
                             Message.status.in_(PENDING))
    last_seen = func.coalesce(Contact.last_inbound_at, Contact.created_at)
    return (select(Contact.id)
            .where(Contact.address_encrypted.is_not(None), last_seen <= cutoff,
                   ~open_case, ~recent_close, ~pending)
            .order_by(Contact.id))


def _erase_expired_addresses(session: Session, cutoff: datetime, now: datetime) -> int:
    total = 0
    while ids := list(session.scalars(expired_contacts(cutoff).limit(BATCH))):
        session.execute(update(Contact).where(Contact.id.in_(ids))
                        .values(address_encrypted=None, erased_at=now))
        session.commit()
        total += len(ids)
    return total


def _erase_expired_attachments(session: Session, store: AttachmentStore, cutoff: datetime,
                               now: datetime) -> tuple[int, int]:
    total = files = 0
    query = (select(Attachment).where(Attachment.erased_at.is_(None),
                                      Attachment.created_at <= cutoff)
             .order_by(Attachment.id).limit(BATCH))
    while batch := list(session.scalars(query)):
        files += erase_attachments(session, store, batch, now)
        session.commit()
        total += len(batch)
    return total, files


# --- files --------------------------------------------------------------------------------

def erase_attachments(session: Session, store: AttachmentStore,
                      attachments: Iterable[Attachment], now: datetime) -> int:
    """Forget the attachments' files and download handles; returns how many files were
    deleted. Files are named by content, so one still used elsewhere is kept."""
    keys: set[str] = set()
    for attachment in attachments:
        if attachment.storage_key:
            keys.add(attachment.storage_key)
        if attachment.fetch_status == "pending":
            attachment.fetch_status = "erased"
        attachment.storage_key = attachment.external_id = None
        attachment.erased_at = attachment.erased_at or now
    session.flush()
    return sum(1 for key in sorted(keys) if _delete_unused(session, store, key))


def _delete_unused(session: Session, store: AttachmentStore, key: str) -> bool:
    still_used = session.scalar(select(
        exists().where(Attachment.storage_key == key)
        | exists().where(CaseDocument.storage_key == key)))
    if still_used:
        return False
    try:
        path = store.path(key)
    except ValueError:
        return False
    if not path.exists():
        return False
    path.unlink()
    return True


# --- erasure on request -------------------------------------------------------------------

@dataclass(frozen=True)
class ErasurePlan:
    """What erasing the person behind a case would touch (counts for the confirmation)."""

    contact_ids: tuple[int, ...]
    cases: int
    messages: int
    attachments: int
    already_erased: bool


def plan_erasure(session: Session, vault: Vault, case: Case) -> ErasurePlan:
    contact_ids = _person_behind(session, vault, case)
    if not contact_ids:
        return ErasurePlan((), 0, 0, 0, already_erased=True)
    messages = _messages_of(contact_ids)
    count_cases = select(func.count()).select_from(Case).where(Case.contact_id.in_(contact_ids))
    with_content = messages.where(or_(Message.body.is_not(None),
                                      Message.search_text.is_not(None)))
    live_attachments = (select(func.count()).select_from(Attachment)
                        .where(Attachment.message_id.in_(messages),
                               Attachment.erased_at.is_(None)))
    contacts = session.scalars(select(Contact).where(Contact.id.in_(contact_ids))).all()
    return ErasurePlan(
        contact_ids, session.scalar(count_cases) or 0,
        session.scalar(select(func.count()).select_from(with_content.subquery())) or 0,
        session.scalar(live_attachments) or 0,
        already_erased=all(contact.address_encrypted is None and contact.pseudonym.startswith(
            ERASED_PSEUDONYM_PREFIX) for contact in contacts))


def erase_person(session: Session, store: AttachmentStore, vault: Vault, case: Case, *,
                 actor: str, reason: str, now: datetime) -> ErasureResult:
    """Erase the person behind the case (see the module's docstring) and commit."""
    if reason not in ERASURE_REASONS:
        raise ErasureRefused("reason")
    if not _person_behind(session, vault, case):
        raise ErasureRefused("no_contact")
    try:
        result = _erase(session, store, vault, case, now)
        audit.record(session, "person.erased", case=case, actor=actor, reason=reason,
                     contacts=result.contacts, cases=result.cases, messages=result.messages,
                     attachments=result.attachments, files=result.files,
                     cancelled=result.cancelled)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return result


def _erase(session: Session, store: AttachmentStore, vault: Vault, case: Case, now: datetime
           ) -> ErasureResult:
    contact_ids = _person_behind(session, vault, case)
    messages = _messages_of(contact_ids)
    cancelled = session.execute(
        update(Message).where(Message.contact_id.in_(contact_ids),
                              Message.direction == Direction.OUTBOUND,
                              Message.status.in_(PENDING))
        .values(status=DeliveryStatus.CANCELLED, lease_until=None, next_attempt_at=None,
                last_error="person erased")).rowcount
    erased_messages = session.execute(
        update(Message).where(Message.contact_id.in_(contact_ids),
                              or_(Message.body.is_not(None), Message.search_text.is_not(None)))
        .values(body=None, search_text=None)).rowcount
    session.execute(update(TriageSuggestion)
                    .where(TriageSuggestion.message_id.in_(messages)).values(hits=[]))
    attachments = list(session.scalars(select(Attachment).where(
        Attachment.message_id.in_(messages),
        or_(Attachment.erased_at.is_(None), Attachment.storage_key.is_not(None)))))
    files = erase_attachments(session, store, attachments, now)
    cases = session.execute(
        update(Case).where(Case.contact_id.in_(contact_ids))
        .values(latitude=None, longitude=None, consent_to_contact=None)).rowcount
    for contact in session.scalars(select(Contact).where(Contact.id.in_(contact_ids))):
        _anonymise(contact, now)
    session.flush()
    return ErasureResult(len(contact_ids), cases, erased_messages, len(attachments), files,
                         cancelled)


def _anonymise(contact: Contact, now: datetime) -> None:
    contact.address_encrypted = None
    if not contact.pseudonym.startswith(ERASED_PSEUDONYM_PREFIX):
        contact.pseudonym = ERASED_PSEUDONYM_PREFIX + secrets.token_hex(28)
    contact.erased_at = contact.erased_at or now
    contact.location = contact.consent_to_contact = None
    contact.dialogue_state, contact.dialogue_case_id = "idle", None
    contact.dialogue_updated_at = now  # moves the stamp: a session in Redis is disowned
    contact.rate_window_start, contact.rate_window_count = None, 0


def _messages_of(contact_ids: tuple[int, ...]) -> Select[tuple[int]]:
    return select(Message.id).where(Message.contact_id.in_(contact_ids))


def _person_behind(session: Session, vault: Vault, case: Case) -> tuple[int, ...]:
    """The contacts of the person behind a case. A case entered by hand with no number has
    no contact of its own; its messages hang on a placeholder, whose text is still theirs."""
    if case.contact is not None:
        return tuple(sorted(_same_person(session, vault, case.contact)))
    return tuple(session.scalars(
        select(Message.contact_id).where(Message.case_id == case.id,
                                         Message.direction == Direction.INBOUND)
        .distinct().order_by(Message.contact_id)))


def _same_person(session: Session, vault: Vault, contact: Contact | None) -> set[int]:
    """The contact and, for a phone number, its contacts on the other phone channels."""
    if contact is None:
        return set()
    ids = {contact.id}
    if contact.channel not in PHONE_CHANNELS or contact.address_encrypted is None:
        return ids
    try:
        number = vault.decrypt(contact.address_encrypted)
    except AddressDecryptionError:
        return ids
    pseudonyms = [vault.pseudonym(channel, number) for channel in PHONE_CHANNELS]
    ids.update(session.scalars(select(Contact.id).where(Contact.pseudonym.in_(pseudonyms))))
    return ids
