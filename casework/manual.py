"""Cases that arrive outside the channels: a field visit, a complaint box, a colleague, a staffed
phone line. An officer enters them; they get a reference and follow the same triage, deadlines
and reports as any other case.

When the person left a phone number and agreed to be contacted, the case belongs to the SMS
contact for that number (the same pseudonym and encrypted address intake would use), so
replies go out by SMS. Otherwise no number is kept at all and the case has no contact.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import audit, notifications, triage
from casework.intake import _unused_reference
from casework.models import (
    Case,
    CaseStatus,
    Contact,
    DeliveryStatus,
    Direction,
    Message,
    Role,
    User,
)
from casework.privacy import Vault
from casework.text import ascii_digits, clean_text, normalize_for_matching
from casework.triage import Lexicon
from config.data import OrgData

RECEIVED_BY = ("in_person", "box", "staff", "phone")
SMS = "sms"
MAX_TEXT_LENGTH = 10_000

_PHONE = re.compile(r"\+[1-9][0-9]{7,14}")
_PHONE_SEPARATORS = re.compile(r"[\s\-.()\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y", "%d-%m-%Y")
_DATE_SEPARATORS = str.maketrans({"\u066b": "/", "\u060c": "/", ".": "/"})
# Messages need a contact; a case entered without a number has an address-less one per case,
# never shared, so no two people's messages are ever linked. Its pseudonym says what it is.
PLACEHOLDER_PREFIX = "manual:"


class EntryRefused(ValueError):
    """The entry cannot be accepted; ``reason`` is a stable code for the caller's message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


ACTOR_LENGTH = 64  # AuditEvent.actor


def staff_actor(user: User) -> str:
    """How a console user appears as the actor of an audit event: their email, as elsewhere."""
    return user.email[:ACTOR_LENGTH]


def parse_phone(text: str | None) -> str | None:
    """An international number (``+`` or ``00``, country code, 8 to 15 digits) in E.164, or None.

    Spaces, dashes, dots and brackets are ignored; Arabic-Indic digits are accepted.
    """
    number = _PHONE_SEPARATORS.sub("", ascii_digits((text or "").strip()))
    if number.startswith("00"):
        number = "+" + number[2:]
    return number if _PHONE.fullmatch(number) else None


def parse_date(text: str | None) -> date | None:
    """YYYY-MM-DD (or DD/MM/YYYY), with ASCII, Arabic-Indic or Eastern Arabic-Indic digits."""
    value = ascii_digits((text or "").strip()).translate(_DATE_SEPARATORS)
    for layout in _DATE_FORMATS:
        try:
            return datetime.strptime(value, layout).date()
        except ValueError:
            continue
    return None


def local_today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def start_of_day(day: date, timezone: str) -> datetime:
    """Midnight of that day where the organisation works, as UTC."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def enter_case(
    session: Session, actor: User, *, received_by: str, received_on: date, text: str,
    location: str | None, phone: str | None, consent: bool, vault: Vault, org_data: OrgData,
    timezone: str, now: datetime, lexicon: Lexicon | None = None,
) -> Case:
    """Open a case for a complaint received outside the channels (the caller commits).

    Raises EntryRefused(received_by | future_date | empty | too_long | location | phone |
    consent_without_phone). A case a PSEA focal point enters is sensitive: it is theirs.
    """
    body = clean_text(text)
    number = parse_phone(phone) if phone and phone.strip() else None
    _check(received_by, received_on, body, location, phone, number, consent, org_data,
           local_today(now, timezone))
    started = start_of_day(received_on, timezone)
    contact = _sms_contact(session, number, vault) if number and consent else None
    case = Case(
        reference=_unused_reference(session), contact=contact,
        channel=SMS if contact is not None else received_by, received_by=received_by,
        status=CaseStatus.NEW, language=contact.language if contact else "ar",
        location=location or None, sensitive=actor.role == Role.PSEA,
        consent_to_contact=True if contact is not None else (False if number else None),
        created_at=started, due_at=started + org_data.grid.deadline_for(None),
        last_activity_at=now,
    )
    session.add(case)
    message = Message(
        contact=contact or _placeholder_contact(session, received_by), case=case,
        direction=Direction.INBOUND, channel=case.channel, kind="text", body=body,
        search_text=normalize_for_matching(body) or None, language=case.language,
        status=DeliveryStatus.RECEIVED, received_at=started, created_at=now,
    )
    session.add(message)
    session.flush()
    audit.record(session, "case.entered", case=case, actor=staff_actor(actor),
                 received_by=received_by, channel=case.channel,
                 with_contact=contact is not None)
    if case.sensitive:  # a PSEA focal point entered it: the others are told at once
        notifications.alert_sensitive(session, case, now, except_user_id=actor.id)
    if lexicon is not None:
        triage.flag_inbound(session, case, message, lexicon, org_data, now)
    return case


def _check(received_by: str, received_on: date, body: str, location: str | None,
           phone: str | None, number: str | None, consent: bool, org_data: OrgData,
           today: date) -> None:
    if received_by not in RECEIVED_BY:
        raise EntryRefused("received_by")
    if received_on > today:
        raise EntryRefused("future_date")
    if not body:
        raise EntryRefused("empty")
    if len(body) > MAX_TEXT_LENGTH:
        raise EntryRefused("too_long")
    if location and org_data.location(location) is None:
        raise EntryRefused("location")
    if phone and phone.strip() and number is None:
        raise EntryRefused("phone")
    if consent and number is None:
        raise EntryRefused("consent_without_phone")


def _sms_contact(session: Session, number: str, vault: Vault) -> Contact:
    """The SMS contact for this number, found or created exactly as intake would."""
    pseudonym = vault.pseudonym(SMS, number)
    contact = session.scalars(select(Contact).where(Contact.pseudonym == pseudonym)).first()
    if contact is None:
        contact = Contact(channel=SMS, pseudonym=pseudonym, address_encrypted=vault.encrypt(number),
                          language="ar", opted_out=False, dialogue_state="idle")
        session.add(contact)
    contact.consent_to_contact = True
    return contact


def _placeholder_contact(session: Session, received_by: str) -> Contact:
    contact = Contact(channel=received_by, pseudonym=PLACEHOLDER_PREFIX + secrets.token_hex(28),
                      address_encrypted=None, language="ar", opted_out=False,
                      dialogue_state="idle")
    session.add(contact)
    return contact
