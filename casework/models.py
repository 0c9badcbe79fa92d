"""Database models (SQLAlchemy 2, typed).

No plaintext phone number or Telegram id is stored anywhere: a contact is known by a keyed
pseudonym, and the address needed to answer is kept only encrypted (see ``casework.privacy``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    registry,
    relationship,
)

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
    # When the address was erased (retention or the person's request); see casework.retention
    erased_at: Mapped[datetime | None]

    cases: Mapped[list[Case]] = relationship(
        back_populates="contact", foreign_keys="Case.contact_id"
    )
    dialogue_case: Mapped[Case | None] = relationship(
        primaryjoin="foreign(Contact.dialogue_case_id) == Case.id", post_update=True
    )


DIALOGUE_ATTRIBUTES = ("dialogue_state", "dialogue_case_id", "dialogue_case")


@event.listens_for(Session, "before_flush")
def _stamp_dialogue_changes(session: Session, _context: object, _instances: object) -> None:
    """``dialogue_updated_at`` is the dialogue's stamp (a copy in Redis is used only while it
    matches, see ``bot.sessions``): a change to the dialogue that does not set it moves it."""
    for contact in session.dirty:
        if not isinstance(contact, Contact):
            continue
        state = inspect(contact).attrs
        if state.dialogue_updated_at.history.has_changes():
            continue
        if any(state[name].history.has_changes() for name in DIALOGUE_ATTRIBUTES):
            contact.dialogue_updated_at = utcnow()


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
    closed_at: Mapped[datetime | None] = mapped_column(index=True)  # reports: closures
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_followup_ack_at: Mapped[datetime | None]
    delivery_failed_at: Mapped[datetime | None]
    delivery_error: Mapped[str | None] = mapped_column(String(255))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    project: Mapped[str | None] = mapped_column(String(64))
    # The programme record (casework.programme) the case belongs to, set at triage.
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    gender: Mapped[str | None] = mapped_column(String(16))
    age_group: Mapped[str | None] = mapped_column(String(16))
    resolution: Mapped[str | None] = mapped_column(Text)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    received_by: Mapped[str | None] = mapped_column(String(16))  # in_person, box, staff, phone
    # The person's answer to the survey after closure: 1 satisfied, 2 partly, 3 not satisfied.
    satisfaction: Mapped[int | None]
    satisfaction_at: Mapped[datetime | None]
    survey_sent_at: Mapped[datetime | None]

    contact: Mapped[Contact | None] = relationship(
        back_populates="cases", foreign_keys=[contact_id]
    )
    messages: Mapped[list[Message]] = relationship(
        back_populates="case", order_by="Message.id"
    )
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    project_record: Mapped[Project | None] = relationship(foreign_keys=[project_id])
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
        Index("ix_messages_kind_created_at", "kind", "created_at"),  # reports: replies
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


# The queue's counts (casework.queue) read these instead of the table: its default view
# (still open, by deadline), status and level filters, and a PSEA focal point's sensitive cases.
Index("ix_cases_queue", Case.status, Case.level, Case.location, Case.sensitive,
      Case.merged_into_id, Case.delivery_failed_at, Case.due_at, Case.created_at, Case.id)
Index("ix_cases_sensitive_created_at", Case.created_at, Case.merged_into_id,
      postgresql_where=Case.sensitive.is_(True), sqlite_where=Case.sensitive.is_(True))


# Search: every term must occur in some inbound message of a case. Each case's inbound
# Message.search_text, one per line, make its search document in ``case_search``, so that one
# trigram index look-up finds the cases with every term (terms have no spaces, so none can run
# across two messages) without reading the much larger messages table. PostgreSQL keeps the
# documents in a table with a GIN (pg_trgm) index, SQLite in an FTS5 table with the trigram
# tokenizer (SQLite 3.34+); triggers on ``messages`` keep them in step. Alembic cannot describe
# either, so they are DDL here (for create_all) and in migration 0005, and autogenerate leaves
# them out (``include_in_autogenerate``). A migration that rebuilds ``messages`` on SQLite (batch
# "move and copy") drops its triggers: create them again after it.
SEARCH_TABLE = "case_search"


_SQLITE_REFRESH = (  # rebuild the document of case CASE
    "DELETE FROM case_search WHERE rowid = CASE; "
    "INSERT INTO case_search(rowid, search_text) "
    "SELECT case_id, group_concat(search_text, char(10)) FROM messages "
    "WHERE case_id = CASE AND direction = 'in' AND search_text IS NOT NULL GROUP BY case_id;")


def _sqlite_refresh(case_id: str) -> str:
    return _SQLITE_REFRESH.replace("CASE", case_id)


SQLITE_SEARCH_DDL = (
    "CREATE VIRTUAL TABLE case_search USING fts5(search_text, tokenize='trigram')",
    "CREATE TRIGGER messages_case_search_insert AFTER INSERT ON messages "
    "WHEN new.case_id IS NOT NULL AND new.direction = 'in' AND new.search_text IS NOT NULL "
    f"BEGIN {_sqlite_refresh('new.case_id')} END",
    "CREATE TRIGGER messages_case_search_update "
    "AFTER UPDATE OF case_id, direction, search_text ON messages "
    "WHEN old.case_id IS NOT new.case_id OR old.direction IS NOT new.direction "
    "OR old.search_text IS NOT new.search_text "
    f"BEGIN {_sqlite_refresh('old.case_id')} {_sqlite_refresh('new.case_id')} END",
    "CREATE TRIGGER messages_case_search_delete AFTER DELETE ON messages "
    "WHEN old.case_id IS NOT NULL AND old.direction = 'in' AND old.search_text IS NOT NULL "
    f"BEGIN {_sqlite_refresh('old.case_id')} END",
)
SQLITE_SEARCH_DROP = ("DROP TABLE IF EXISTS case_search",)  # its triggers go with messages
POSTGRESQL_SEARCH_DDL = (
    "CREATE TABLE case_search (case_id integer PRIMARY KEY, search_text text NOT NULL)",
    # The operator class is named in the schema pg_trgm lives in, which need not be on the path.
    "DO $$ DECLARE trgm_schema text; BEGIN "
    "CREATE EXTENSION IF NOT EXISTS pg_trgm; "
    "SELECT extnamespace::regnamespace::text INTO trgm_schema "
    "FROM pg_extension WHERE extname = 'pg_trgm'; "
    "EXECUTE format('CREATE INDEX ix_case_search_search_text_trgm ON case_search "
    "USING gin (search_text %s.gin_trgm_ops)', trgm_schema); END $$",
    # A new message is appended to its case's document; other changes rebuild it. Both hold
    # the document's row lock until commit, and a rebuild reads the messages only once it has
    # the lock, so concurrent transactions do not lose each other's text.
    "CREATE FUNCTION case_search_refresh(wanted integer) RETURNS void LANGUAGE plpgsql AS $$ "
    "DECLARE document text; BEGIN "
    "PERFORM 1 FROM case_search WHERE case_id = wanted FOR UPDATE; "
    "SELECT string_agg(search_text, E'\\n' ORDER BY id) INTO document FROM messages "
    "WHERE case_id = wanted AND direction = 'in' AND search_text IS NOT NULL; "
    "IF document IS NULL THEN DELETE FROM case_search WHERE case_id = wanted; "
    "ELSE INSERT INTO case_search (case_id, search_text) VALUES (wanted, document) "
    "ON CONFLICT (case_id) DO UPDATE SET search_text = EXCLUDED.search_text; "
    "END IF; END $$",
    "CREATE FUNCTION messages_case_search() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP = 'INSERT' THEN "
    "IF NEW.case_id IS NOT NULL AND NEW.direction = 'in' AND NEW.search_text IS NOT NULL THEN "
    "INSERT INTO case_search AS doc (case_id, search_text) "
    "VALUES (NEW.case_id, NEW.search_text) ON CONFLICT (case_id) DO UPDATE "
    "SET search_text = doc.search_text || E'\\n' || EXCLUDED.search_text; "
    "END IF; "
    "ELSE "
    "PERFORM case_search_refresh(OLD.case_id); "
    "IF TG_OP = 'UPDATE' AND NEW.case_id IS DISTINCT FROM OLD.case_id THEN "
    "PERFORM case_search_refresh(NEW.case_id); "
    "END IF; "
    "END IF; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER messages_case_search "
    "AFTER INSERT OR DELETE OR UPDATE OF case_id, direction, search_text ON messages "
    "FOR EACH ROW EXECUTE FUNCTION messages_case_search()",
)
POSTGRESQL_SEARCH_DROP = (
    "DROP TRIGGER IF EXISTS messages_case_search ON messages",
    "DROP FUNCTION IF EXISTS messages_case_search()",
    "DROP FUNCTION IF EXISTS case_search_refresh(integer)",
    "DROP TABLE IF EXISTS case_search",
)
for _dialect, _create, _drop in (("sqlite", SQLITE_SEARCH_DDL, SQLITE_SEARCH_DROP),
                                 ("postgresql", POSTGRESQL_SEARCH_DDL, POSTGRESQL_SEARCH_DROP)):
    for _statement in _create:
        event.listen(Message.__table__, "after_create",
                     DDL(_statement.replace("%", "%%")).execute_if(dialect=_dialect))
    for _statement in _drop:
        event.listen(Message.__table__, "before_drop", DDL(_statement).execute_if(dialect=_dialect))


def include_in_autogenerate(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic ``include_name``: leave out the search tables described above (and the shadow
    tables FTS5 keeps beside its own)."""
    return not (type_ == "table" and name is not None
                and (name == SEARCH_TABLE or name.startswith(SEARCH_TABLE + "_")))


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
    # When the file was deleted (retention or erasure); kind, type and size stay for statistics
    erased_at: Mapped[datetime | None]

    message: Mapped[Message] = relationship(back_populates="attachments")


class PendingStatus(Base):
    """A delivery report that arrived before the dispatcher stored the provider's id for the
    message (the provider answered the send, then reported on it, before our commit). The
    dispatcher applies it as it records the id; old ones are deleted by the retention job."""

    __tablename__ = "pending_statuses"

    id: Mapped[int] = mapped_column(primary_key=True)
    channels: Mapped[str] = mapped_column(String(64))  # the reporting adapter's, comma-separated
    external_id: Mapped[str] = mapped_column(String(128), index=True)
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(32))
    opted_out: Mapped[bool] = mapped_column(default=False)
    window_closed: Mapped[bool] = mapped_column(default=False)
    # The provider says sending again may get past this failure (Twilio 30003, 30008...):
    # kept so that the report is applied as it would have been had the id been stored.
    retryable: Mapped[bool] = mapped_column(default=False)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


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
    # The 30-second step of the last code accepted: a code seen once is refused after.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
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
    # The Telegram chat that receives this user's alerts, encrypted like contact addresses;
    # linked by sending "/link CODE" to the bot (the code's hash and expiry until then).
    telegram_chat_encrypted: Mapped[str | None] = mapped_column(Text)
    telegram_linked_at: Mapped[datetime | None]
    telegram_link_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True,
                                                                 index=True)
    telegram_link_expires_at: Mapped[datetime | None]


class Notification(Base):
    """An alert for one staff member, shown in the console and delivered by e-mail and
    Telegram. ``params`` holds only what the user may see (references, levels, dates, counts),
    never message text or addresses; the words are chosen when it is shown or sent.

    Each transport's ``*_status`` is pending (to try at ``*_next_at``), sent, failed (after
    the last attempt) or skipped (the transport is not configured or the user not linked).
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
        Index("ix_notifications_email_status_email_next_at", "email_status", "email_next_at"),
        Index("ix_notifications_telegram_status_telegram_next_at", "telegram_status",
              "telegram_next_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # What was sent, for jobs that must not send twice (e.g. "digest:7:2026-12-01").
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    email_status: Mapped[str] = mapped_column(String(16), default="pending")
    email_attempts: Mapped[int] = mapped_column(default=0)
    email_next_at: Mapped[datetime | None]
    email_sent_at: Mapped[datetime | None]
    email_error: Mapped[str | None] = mapped_column(String(255))
    telegram_status: Mapped[str] = mapped_column(String(16), default="pending")
    telegram_attempts: Mapped[int] = mapped_column(default=0)
    telegram_next_at: Mapped[datetime | None]
    telegram_sent_at: Mapped[datetime | None]
    telegram_error: Mapped[str | None] = mapped_column(String(255))

    user: Mapped[User] = relationship()
    case: Mapped[Case | None] = relationship()


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


# "A referral was answered" is part of the queue's default view: the answered referrals' case
# ids, read from this index alone instead of the whole table on every queue page.
Index("ix_referrals_answered_case_id", Referral.case_id,
      postgresql_where=Referral.answered_at.is_not(None),
      sqlite_where=Referral.answered_at.is_not(None))


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


class TriageSuggestion(Base):
    """What the triage assistant (``casework.triage``) said of one inbound message, and why.

    Kept beside the officer's final decision on the case, so that the assistant's precision
    and recall can be reported. ``hits`` holds the matched rule ids and words: words of the
    message, so it is case content, shown only to who may open the case.
    """

    __tablename__ = "triage_suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    sensitive: Mapped[bool] = mapped_column(default=False)
    urgent: Mapped[bool] = mapped_column(default=False)
    category: Mapped[str | None] = mapped_column(String(64))
    level: Mapped[int | None]
    hits: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship()
    message: Mapped[Message | None] = relationship()


class InfoEntry(Base):
    """An answer to a common question, kept by officers, that the information line sends at
    once (``casework.info``). Used only when approved, active and within its dates."""

    __tablename__ = "info_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    question_ar: Mapped[str] = mapped_column(Text, default="")
    question_en: Mapped[str] = mapped_column(Text, default="")
    answer_ar: Mapped[str] = mapped_column(Text, default="")
    answer_en: Mapped[str] = mapped_column(Text, default="")
    # Optional: a Sorani (ckb) reader gets these when written, else the Arabic ones.
    question_ckb: Mapped[str] = mapped_column(Text, default="")
    answer_ckb: Mapped[str] = mapped_column(Text, default="")
    # A recorded answer the voice line plays instead of reading answer_ar (attachment storage).
    audio_storage_key: Mapped[str | None] = mapped_column(String(64))
    audio_content_type: Mapped[str | None] = mapped_column(String(100))
    # How a message is matched: see casework.faq (the same term syntax as config/triage.yaml).
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    also: Mapped[list[str]] = mapped_column(JSON, default=list)
    asks: Mapped[list[str]] = mapped_column(JSON, default=list)
    unless: Mapped[list[str]] = mapped_column(JSON, default=list)
    examples: Mapped[list[str]] = mapped_column(JSON, default=list)
    locations: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: everywhere
    projects: Mapped[list[str]] = mapped_column(JSON, default=list)
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]
    active: Mapped[bool] = mapped_column(default=True)
    approved_by: Mapped[str | None] = mapped_column(String(120))
    approved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class InfoAnswer(Base):
    """One information request: the entry that answered it (None: a question nothing
    matched, for officers to write new entries) and whether it satisfied the person."""

    __tablename__ = "info_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for a voice caller who picked the entry from the menu: no case, no message.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("info_entries.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    satisfied: Mapped[bool | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    feedback_at: Mapped[datetime | None]

    case: Mapped[Case | None] = relationship()
    message: Mapped[Message | None] = relationship()
    entry: Mapped[InfoEntry | None] = relationship()


# --- programme records (casework.programme): what an accountability officer is judged on ------

class Project(Base):
    """An aid project, with whether it has a strategy for informing beneficiaries, communities
    and stakeholders about the CRM (and the document), and the focal point for referrals."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    donor: Mapped[str] = mapped_column(String(200), default="")
    locations: Mapped[list[str]] = mapped_column(JSON, default=list)  # location codes
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    team: Mapped[str] = mapped_column(Text, default="")  # the implementing team, free text
    has_strategy: Mapped[bool] = mapped_column(default=False)
    # The strategy document: a file in the attachment store (casework.storage), or None.
    strategy_filename: Mapped[str | None] = mapped_column(String(255))
    strategy_content_type: Mapped[str | None] = mapped_column(String(100))
    strategy_storage_key: Mapped[str | None] = mapped_column(String(64))
    focal_point_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    focal_point: Mapped[User | None] = relationship()


class Training(Base):
    """A training session for staff, partners or contractors on accountability and the CRM.
    Participants are rows (``TrainingParticipant``), one per organisation, so that the
    trained share can count our own staff apart from partners'."""

    __tablename__ = "trainings"

    id: Mapped[int] = mapped_column(primary_key=True)
    held_on: Mapped[date] = mapped_column(index=True)
    location: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200), default="")
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    participants: Mapped[list[TrainingParticipant]] = relationship(
        back_populates="training", order_by="TrainingParticipant.id",
        cascade="all, delete-orphan")

    @property
    def participant_count(self) -> int:
        return sum(row.count for row in self.participants)


class TrainingParticipant(Base):
    """How many people of one organisation took part in a training; ``own_staff`` marks our
    own organisation's staff (they count towards the trained share)."""

    __tablename__ = "training_participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    training_id: Mapped[int] = mapped_column(ForeignKey("trainings.id"), index=True)
    organisation: Mapped[str] = mapped_column(String(200))
    own_staff: Mapped[bool] = mapped_column(default=False)
    count: Mapped[int] = mapped_column(default=0)

    training: Mapped[Training] = relationship(back_populates="participants")


class StaffHeadcount(Base):
    """Our staff in one area (a governorate code), the denominator of the trained share."""

    __tablename__ = "staff_headcounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    location: Mapped[str] = mapped_column(String(32), unique=True)
    headcount: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AwarenessSession(Base):
    """A session in a community that explained the CRM; participants are approximate."""

    __tablename__ = "awareness_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    held_on: Mapped[date] = mapped_column(index=True)
    location: Mapped[str | None] = mapped_column(String(32))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    women: Mapped[int] = mapped_column(default=0)
    men: Mapped[int] = mapped_column(default=0)
    girls: Mapped[int] = mapped_column(default=0)
    boys: Mapped[int] = mapped_column(default=0)
    channels_promoted: Mapped[list[str]] = mapped_column(JSON, default=list)
    materials: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    project: Mapped[Project | None] = relationship()

    @property
    def participants(self) -> int:
        # "or 0": a session not yet flushed has None where the column's default will go
        return sum(count or 0 for count in (self.women, self.men, self.girls, self.boys))


class AwarenessSurvey(Base):
    """The results of an awareness survey in one location over a period: people interviewed,
    how many knew the CRM exists, how many knew how to use it, and the channel each prefers
    (channel code → number of people)."""

    __tablename__ = "awareness_surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    location: Mapped[str] = mapped_column(String(32))
    period_start: Mapped[date]
    period_end: Mapped[date] = mapped_column(index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    interviewed: Mapped[int] = mapped_column(default=0)
    aware: Mapped[int] = mapped_column(default=0)
    know_how: Mapped[int] = mapped_column(default=0)
    preferred_channels: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    project: Mapped[Project | None] = relationship()


class ChannelAvailability(Base):
    """An officer's correction of the derived channel availability in one location
    (``casework.programme.channel_availability``); None keeps the derived value."""

    __tablename__ = "channel_availability"
    __table_args__ = (UniqueConstraint("location", "channel",
                                       name="uq_channel_availability_location_channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    location: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    promoted: Mapped[bool | None]
    working: Mapped[bool | None]
    note: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportSubmission(Base):
    """One month's CRM report: when it was first and last generated, and when it was marked
    submitted (to the line manager, country director and HQ) and by whom."""

    __tablename__ = "report_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(unique=True)  # the first day of the month
    generated_at: Mapped[datetime | None]
    last_generated_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")

    submitted_by: Mapped[User | None] = relationship()


class LessonStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class LessonLearned(Base):
    """A lesson learned, linked to a case, a category or a project, with a recommendation
    and where its follow-up stands."""

    __tablename__ = "lessons_learned"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    recommendation: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=LessonStatus.OPEN)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    category: Mapped[str | None] = mapped_column(String(64))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case | None] = relationship()
    project: Mapped[Project | None] = relationship()
