"""Database models (SQLAlchemy 2, typed).

No plaintext phone number or Telegram id is stored anywhere: a contact is known by a keyed
pseudonym, and the address needed to answer is kept only encrypted (see ``casework.privacy``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python, naive UTC in the database (SQLite has no time zones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


class CaseStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    REFERRED = "referred"
    CLOSED = "closed"


class Role(StrEnum):
    ADMIN = "admin"  # users, settings, canned responses; aggregate reports only
    OFFICER = "officer"  # non-sensitive cases of their locations
    PSEA = "psea"  # sensitive cases in full
    FOCAL_POINT = "focal_point"  # only cases referred to them, without contact details
    VIEWER = "viewer"  # aggregate reports only


class Direction(StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


class DeliveryStatus(StrEnum):
    RECEIVED = "received"  # inbound
    QUEUED = "queued"  # outbound, waiting in the outbox
    SENDING = "sending"  # claimed by a dispatcher (lease_until set)
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    CANCELLED = "cancelled"  # not sent on purpose (the person opted out)
    HELD = "held"  # waiting until the person writes again (WhatsApp's 24-hour window)


# How far along a message is; a status callback never moves a message backwards.
DELIVERY_PROGRESS = {
    DeliveryStatus.QUEUED: 0, DeliveryStatus.HELD: 0, DeliveryStatus.SENDING: 1,
    DeliveryStatus.SENT: 2, DeliveryStatus.DELIVERED: 3, DeliveryStatus.READ: 4,
    DeliveryStatus.FAILED: 5, DeliveryStatus.CANCELLED: 5,
}


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    pseudonym: Mapped[str] = mapped_column(String(64), unique=True)
    address_encrypted: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8), default="ar")
    opted_out: Mapped[bool] = mapped_column(default=False)
    opted_out_at: Mapped[datetime | None]
    consent_to_contact: Mapped[bool | None]
    location: Mapped[str | None] = mapped_column(String(32))
    dialogue_state: Mapped[str] = mapped_column(String(32), default="idle")
    # The case the current conversation opened: a soft link (no constraint) to avoid a cycle.
    dialogue_case_id: Mapped[int | None]
    dialogue_updated_at: Mapped[datetime | None]
    last_inbound_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Per-sender flood limit: a fixed one-minute window and how many messages arrived in it.
    rate_window_start: Mapped[datetime | None]
    rate_window_count: Mapped[int] = mapped_column(default=0)

    cases: Mapped[list[Case]] = relationship(
        back_populates="contact", foreign_keys="Case.contact_id"
    )
    dialogue_case: Mapped[Case | None] = relationship(
        primaryjoin="foreign(Contact.dialogue_case_id) == Case.id", post_update=True
    )


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_due_at", "status", "due_at"),
        Index("ix_cases_contact_id_last_activity_at", "contact_id", "last_activity_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(7), unique=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    channel: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.NEW)
    level: Mapped[int | None] = mapped_column(Integer, index=True)
    sensitive: Mapped[bool] = mapped_column(default=False)
    urgent: Mapped[bool] = mapped_column(default=False)
    category: Mapped[str | None] = mapped_column(String(64), index=True)
    location: Mapped[str | None] = mapped_column(String(32), index=True)
    language: Mapped[str] = mapped_column(String(8), default="ar")
    consent_to_contact: Mapped[bool | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    acknowledged_at: Mapped[datetime | None]
    due_at: Mapped[datetime]
    first_response_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_followup_ack_at: Mapped[datetime | None]
    delivery_failed_at: Mapped[datetime | None]
    delivery_error: Mapped[str | None] = mapped_column(String(255))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    project: Mapped[str | None] = mapped_column(String(64))
    gender: Mapped[str | None] = mapped_column(String(16))
    age_group: Mapped[str | None] = mapped_column(String(16))
    resolution: Mapped[str | None] = mapped_column(Text)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    received_by: Mapped[str | None] = mapped_column(String(16))  # in_person, box, staff, phone

    contact: Mapped[Contact | None] = relationship(
        back_populates="cases", foreign_keys=[contact_id]
    )
    messages: Mapped[list[Message]] = relationship(
        back_populates="case", order_by="Message.id"
    )
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    notes: Mapped[list[Note]] = relationship(back_populates="case", order_by="Note.id")
    referrals: Mapped[list[Referral]] = relationship(back_populates="case",
                                                     order_by="Referral.id")
    documents: Mapped[list[CaseDocument]] = relationship(back_populates="case",
                                                         order_by="CaseDocument.id")

    @property
    def is_open(self) -> bool:
        return self.status != CaseStatus.CLOSED


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "direction", "external_id", name="uq_messages_external"),
        Index("ix_messages_outbox", "status", "next_attempt_at"),
        Index("ix_messages_contact_id_id", "contact_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str | None] = mapped_column(String(128))
    # The provider's id of the message itself when it differs from the delivery id
    # (Telegram: message_id, while external_id is the update_id).
    provider_ref: Mapped[str | None] = mapped_column(String(128))
    edit_of_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    kind: Mapped[str] = mapped_column(String(32), default="text")
    body: Mapped[str | None] = mapped_column(Text)
    # normalize_for_matching(body): what search looks in (hamza, taa marbuta... made alike)
    search_text: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(255))
    hold_reason: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]

    case: Mapped[Case | None] = relationship(back_populates="messages")
    contact: Mapped[Contact] = relationship()
    edit_of: Mapped[Message | None] = relationship(remote_side=[id])
    attachments: Mapped[list[Attachment]] = relationship(back_populates="message")


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # voice, audio, image, document
    content_type: Mapped[str | None] = mapped_column(String(100))
    # What the channel needs to download it: a Telegram file_id or a Twilio media URL.
    external_id: Mapped[str | None] = mapped_column(String(512))
    size_bytes: Mapped[int | None]
    storage_key: Mapped[str | None] = mapped_column(String(255))
    fetch_status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    fetch_attempts: Mapped[int] = mapped_column(default=0)
    next_fetch_at: Mapped[datetime | None]
    fetch_error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    message: Mapped[Message] = relationship(back_populates="attachments")


class AuditEvent(Base):
    """Who did what, when. Details never hold an address or message text."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64), default="system")
    action: Mapped[str] = mapped_column(String(64), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    case: Mapped[Case | None] = relationship()


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    totp_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    totp_confirmed_at: Mapped[datetime | None]
    # Location codes (governorates or districts) an officer works on; empty means all.
    locations: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    language: Mapped[str] = mapped_column(String(8), default="ar")
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    # Bumped by "log out everywhere" and password changes: older sessions stop working.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class Note(Base):
    """An internal note on a case; never sent to the person."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="notes")
    author: Mapped[User | None] = relationship()


class Referral(Base):
    """A case passed to a focal point, with a due date; their answer lands in the timeline."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    to_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    message: Mapped[str] = mapped_column(Text, default="")
    due_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship(back_populates="referrals")
    to_user: Mapped[User] = relationship(foreign_keys=[to_user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])


class CannedResponse(Base):
    """An agreed talking point; ``%(reference)s`` in the text becomes the case reference."""

    __tablename__ = "canned_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    body_ar: Mapped[str] = mapped_column(Text, default="")
    body_en: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)


class CaseDocument(Base):
    """A file an officer attached to a case; restricted like the case itself."""

    __tablename__ = "case_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int]
    storage_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="documents")


class VoiceCall(Base):
    """One telephone call on the voice line: a missed call we rejected (``in``), or a call we
    placed (``out``: one attempt at a call-back or at a reply, ``message_id``). Keyed by
    Twilio's CallSid, so a replayed webhook or status callback is recognised."""

    __tablename__ = "voice_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    direction: Mapped[str] = mapped_column(String(3))
    # None when the caller withheld their number: nobody can be called back.
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    # The outbound message (kind callback or reply) this call delivers, or was merged into.
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    # in: missed, withheld; out: Twilio's call status (queued ... completed, busy, no-answer)
    status: Mapped[str] = mapped_column(String(16))
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    duration_seconds: Mapped[int | None]
    error_code: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    contact: Mapped[Contact | None] = relationship()
    message: Mapped[Message | None] = relationship()
