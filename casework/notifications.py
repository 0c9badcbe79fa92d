"""Alerts for staff: created here, listed in the console, delivered by e-mail and Telegram.

A notification stores *parameters* — case references, levels, dates, counts — never message
text, notes or addresses, and only what its user may see: a notification about a case carries
its reference, level and dates whatever the user's role (``casework.access`` decides which
cases reach a digest at all). Its words are chosen when it is shown or sent, in the reader's
language (``describe``).

Delivery (``deliver_due``) is a scheduled job: each transport of each notification is tried,
retried with back-off, and ends ``sent``, ``failed`` (error kept on the row, logged without
the address) or ``skipped`` (the transport is not configured, or the user has not linked
Telegram). Whatever happens to the transports, the notification stays in the console.

Telegram linking: the user asks for a code in the console (``start_telegram_link``) and sends
``/link CODE`` to the bot within ``LINK_CODE_LIFETIME``; the dialogue calls ``link_telegram``
with the chat's already encrypted address. A code works once.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from casework import audit
from casework.access import Action, can
from casework.models import Case, Notification, Referral, Role, User
from casework.text import ascii_digits

log = logging.getLogger(__name__)

SENSITIVE = "case_sensitive"
URGENT = "case_urgent"
DIGEST = "digest"
REFERRAL_NEW = "referral_new"
REFERRAL_DUE_SOON = "referral_due_soon"
REFERRAL_DUE = "referral_due"

PENDING, SENT, FAILED, SKIPPED = "pending", "sent", "failed", "skipped"
TRANSPORTS = ("email", "telegram")
DELIVERY_LEASE = timedelta(minutes=5)  # a worker that dies mid-send leaves the row to retry
DELIVERY_BATCH = 50
ERROR_LENGTH = 255

LINK_CODE_DIGITS = 8
LINK_CODE_LIFETIME = timedelta(minutes=10)
LINK_CODE_ATTEMPTS = 5  # fresh codes tried when one happens to be in use already


# --- creating -----------------------------------------------------------------------------


def case_params(case: Case) -> dict[str, Any]:
    """What any notification may say about a case, whoever reads it."""
    return {"reference": case.reference, "level": case.level, "due_at": case.due_at.isoformat()}


def create(session: Session, user: User, kind: str, *, params: dict[str, Any], now: datetime,
           case: Case | None = None, dedupe_key: str | None = None) -> Notification | None:
    """Add a notification in the caller's transaction; None if ``dedupe_key`` was used before
    (by this process or another one: the unique constraint decides)."""
    if dedupe_key is not None and session.scalar(
            select(Notification.id).where(Notification.dedupe_key == dedupe_key)) is not None:
        return None
    notification = Notification(user_id=user.id, kind=kind, case=case, params=params,
                                dedupe_key=dedupe_key, created_at=now,
                                email_status=PENDING, email_attempts=0,
                                telegram_status=PENDING, telegram_attempts=0)
    if dedupe_key is None:
        session.add(notification)
        return notification
    try:
        with session.begin_nested():
            session.add(notification)
    except IntegrityError:  # another worker recorded the same one in the meantime
        return None
    return notification


def alert_sensitive(session: Session, case: Case, now: datetime, *,
                    except_user_id: int | None = None) -> list[Notification]:
    """Tell every active PSEA user at once that ``case`` became sensitive (caller commits).

    Triage calls it in the triage's own transaction; so will the triage assistant.
    """
    users = session.scalars(
        select(User).where(User.role == Role.PSEA, User.active.is_(True)).order_by(User.id))
    created = []
    for user in users:
        if user.id == except_user_id:
            continue  # they made it sensitive themselves
        notification = create(session, user, SENSITIVE, params=case_params(case), now=now,
                              case=case)
        if notification is not None:
            created.append(notification)
    return created


def alert_urgent(session: Session, case: Case, now: datetime) -> list[Notification]:
    """Tell at once everyone who may open ``case`` and handle it — the officers of its place,
    or the PSEA focal points when it is sensitive — that the triage assistant flagged it
    possibly urgent: a life in danger, violence now (caller commits)."""
    role = Role.PSEA if case.sensitive else Role.OFFICER
    handlers = session.scalars(
        select(User).where(User.role == role, User.active.is_(True)).order_by(User.id))
    created = []
    for user in handlers:
        if not can(user, Action.VIEW, case):
            continue
        notification = create(session, user, URGENT, params=case_params(case), now=now,
                              case=case)
        if notification is not None:
            created.append(notification)
    return created


def referral_params(referral: Referral) -> dict[str, Any]:
    """A referral's notification: the case's reference and level, the referral's due date."""
    return case_params(referral.case) | {"due_at": referral.due_at.isoformat(),
                                         "referral_id": referral.id}


def alert_referral(session: Session, referral: Referral, recipient: User, now: datetime
                   ) -> Notification | None:
    """Tell the recipient at once that a case was referred to them (caller commits): the
    reminders come only near the due date, days later."""
    return create(session, recipient, REFERRAL_NEW, params=referral_params(referral), now=now,
                  case=referral.case)


def unread_count(session: Session, user: User) -> int:
    return session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def mark_read(session: Session, user: User, notification_ids: Iterable[int] | None,
              now: datetime) -> int:
    """Mark the user's own notifications read (all unread ones when ids is None); commits."""
    query = select(Notification).where(Notification.user_id == user.id,
                                       Notification.read_at.is_(None))
    if notification_ids is not None:
        query = query.where(Notification.id.in_(list(notification_ids)))
    changed = 0
    try:
        for notification in session.scalars(query):
            notification.read_at = now
            changed += 1
        session.commit()
    except Exception:
        session.rollback()
        raise
    return changed


# --- words --------------------------------------------------------------------------------


class Translator(Protocol):
    language: str

    def _(self, message: str, **values: object) -> str: ...


@dataclass(frozen=True)
class Rendered:
    title: str
    lines: tuple[str, ...]
    reference: str | None = None  # the case the notification is about, to link to it

    def text(self) -> str:
        return "\n".join((self.title, *self.lines))


def describe(notification: Notification, speaker: Translator, timezone: str) -> Rendered:
    """The notification in the reader's words (``speaker``), times in the organisation's zone."""
    params = notification.params or {}
    _ = speaker._
    reference = params.get("reference")
    when = _moment(params.get("due_at"), timezone)
    level = _level(params.get("level"), speaker)
    if notification.kind == SENSITIVE:
        return Rendered(
            _("Case %(reference)s is sensitive (level %(level)s).", reference=reference,
              level=level),
            (_("Only PSEA focal points can open it. It is due by %(due)s.", due=when),),
            reference)
    if notification.kind == URGENT:
        return Rendered(
            _("Case %(reference)s may be urgent.", reference=reference),
            (_("The triage assistant found words of a danger to life or an emergency. Please "
               "look at it now."),), reference)
    if notification.kind == REFERRAL_NEW:
        return Rendered(_("Case %(reference)s was referred to you.", reference=reference),
                        (_("Please answer it by %(due)s.", due=when),), reference)
    if notification.kind in (REFERRAL_DUE_SOON, REFERRAL_DUE):
        title = (_("A referral to you is due today: case %(reference)s.", reference=reference)
                 if notification.kind == REFERRAL_DUE else
                 _("A referral to you is due soon: case %(reference)s.", reference=reference))
        return Rendered(title, (_("Please answer it by %(due)s.", due=when),), reference)
    if notification.kind == DIGEST:
        return _describe_digest(params, speaker, timezone)
    return Rendered(notification.kind, (), reference)


def _describe_digest(params: dict[str, Any], speaker: Translator, timezone: str) -> Rendered:
    _ = speaker._
    overdue, soon = params.get("overdue") or [], params.get("due_soon") or []
    lines: list[str] = []
    for heading, items, total in (
            (_("Overdue: %(count)s", count=params.get("overdue_total", len(overdue))), overdue,
             params.get("overdue_total", len(overdue))),
            (_("Due in the next 3 days: %(count)s", count=params.get("due_soon_total",
                                                                      len(soon))),
             soon, params.get("due_soon_total", len(soon)))):
        if not total:
            continue
        lines.append(heading)
        lines += [_("- case %(reference)s, level %(level)s, due %(due)s",
                    reference=item.get("reference"), level=_level(item.get("level"), speaker),
                    due=_moment(item.get("due_at"), timezone)) for item in items]
        if total > len(items):
            lines.append(_("- and %(count)s more in the console", count=total - len(items)))
    trends = params.get("trends") or []
    if trends:
        lines.append(_("Trends to look at:"))
        lines += [_("- %(what)s: %(count)s cases this week (usually %(baseline)s)",
                    what=trend.get(f"label_{speaker.language}") or trend.get("code") or "?",
                    count=trend.get("count", "?"), baseline=_number(trend.get("baseline")))
                  for trend in trends]
    title = _("Your cases on %(date)s", date=params.get("date", ""))
    return Rendered(title, tuple(lines))


def _moment(value: object, timezone: str) -> str:
    if not isinstance(value, str):
        return "—"
    moment = datetime.fromisoformat(value).astimezone(ZoneInfo(timezone))
    return moment.strftime("%Y-%m-%d %H:%M")


def _number(value: object) -> str:
    return f"{value:g}" if isinstance(value, int | float) else "?"


def _level(value: object, speaker: Translator) -> str:
    return str(value) if value is not None else speaker._("not graded yet")


# --- delivery -----------------------------------------------------------------------------


class DeliveryError(Exception):
    """A transport could not send; the message never holds an address or the text."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class Transport(Protocol):
    def send(self, address: str, subject: str, body: str) -> None:
        """Deliver or raise DeliveryError."""


@dataclass(frozen=True)
class DeliverySettings:
    timezone: str
    max_attempts: int
    backoff_seconds: float
    backoff_max_seconds: float
    console_url: str | None  # PUBLIC_URL, to link to the console from e-mails and messages
    org_name: str


@dataclass(frozen=True)
class _Outgoing:
    notification_id: int
    transport: str
    address: str  # an e-mail address, or the encrypted Telegram chat
    subject: str
    body: str


SpeakerFactory = Any  # Callable[[str], Translator]; kept loose to avoid importing bot here


def deliver_due(session: Session, transports: dict[str, Transport | None],
                settings: DeliverySettings, speaker_for: SpeakerFactory, now: datetime) -> int:
    """Send every transport that is due; returns how many sends were attempted.

    Rows are leased in one short transaction, sent outside any transaction, and each result
    is recorded in its own, so a slow mail server never holds the database.
    """
    batch = _claim(session, transports, settings, speaker_for, now)
    for item in batch:
        transport = transports[item.transport]
        assert transport is not None  # unconfigured transports were skipped when claiming
        try:
            transport.send(item.address, item.subject, item.body)
        except DeliveryError as error:
            _record(session, item, error, settings, now)
        else:
            _record(session, item, None, settings, now)
    return len(batch)


def _claim(session: Session, transports: dict[str, Transport | None],
           settings: DeliverySettings, speaker_for: SpeakerFactory, now: datetime
           ) -> list[_Outgoing]:
    batch: list[_Outgoing] = []
    try:
        for transport in TRANSPORTS:
            status = getattr(Notification, f"{transport}_status")
            next_at = getattr(Notification, f"{transport}_next_at")
            rows = session.scalars(
                select(Notification).where(status == PENDING,
                                           or_(next_at.is_(None), next_at <= now))
                .order_by(Notification.id).limit(DELIVERY_BATCH)
                .with_for_update(skip_locked=True))
            for notification in rows:
                address = _address(notification, transport, transports)
                if address is None:
                    continue
                setattr(notification, f"{transport}_next_at", now + DELIVERY_LEASE)
                setattr(notification, f"{transport}_attempts",
                        getattr(notification, f"{transport}_attempts") + 1)
                subject, body = _message(notification, settings, speaker_for)
                batch.append(_Outgoing(notification.id, transport, address, subject, body))
        session.commit()
    except Exception:
        session.rollback()
        raise
    return batch


def _address(notification: Notification, transport: str,
             transports: dict[str, Transport | None]) -> str | None:
    """Where to send, or None after marking the transport skipped (with the reason)."""
    user = notification.user
    reason = None
    if transports.get(transport) is None:
        reason = f"{transport} is not configured"
    elif not user.active:
        reason = "the user is deactivated"
    elif transport == "telegram" and not user.telegram_chat_encrypted:
        reason = "telegram is not linked"
    if reason is not None:
        setattr(notification, f"{transport}_status", SKIPPED)
        setattr(notification, f"{transport}_error", reason)
        setattr(notification, f"{transport}_next_at", None)
        return None
    return user.email if transport == "email" else user.telegram_chat_encrypted


def _message(notification: Notification, settings: DeliverySettings,
             speaker_for: SpeakerFactory) -> tuple[str, str]:
    speaker = speaker_for(notification.user.language or "ar")
    rendered = describe(notification, speaker, settings.timezone)
    lines = [*rendered.lines]
    if settings.console_url:
        base = settings.console_url.rstrip("/") + "/admin/"
        link = f"cases/{rendered.reference}" if rendered.reference else "notifications"
        lines += ["", base + link]
    subject = f"[{settings.org_name}] {rendered.title}"
    return subject, "\n".join((rendered.title, *lines))


def _record(session: Session, item: _Outgoing, error: DeliveryError | None,
            settings: DeliverySettings, now: datetime) -> None:
    transport = item.transport
    try:
        notification = session.get(Notification, item.notification_id)
        if notification is None:  # deleted meanwhile
            session.commit()
            return
        attempts = getattr(notification, f"{transport}_attempts")
        if error is None:
            updates: dict[str, Any] = {"status": SENT, "sent_at": now, "error": None,
                                       "next_at": None}
        elif error.permanent or attempts >= settings.max_attempts:
            updates = {"status": FAILED, "error": str(error)[:ERROR_LENGTH], "next_at": None}
            log.error("notification not delivered, giving up",
                      extra={"notification_id": item.notification_id, "transport": transport,
                             "attempts": attempts, "error": str(error)})
        else:
            delay = min(settings.backoff_max_seconds,
                        settings.backoff_seconds * 2 ** (attempts - 1))
            updates = {"status": PENDING, "error": str(error)[:ERROR_LENGTH],
                       "next_at": now + timedelta(seconds=delay)}
            log.warning("notification not delivered, will retry",
                        extra={"notification_id": item.notification_id, "transport": transport,
                               "attempts": attempts, "retry_in_seconds": round(delay),
                               "error": str(error)})
        for name, value in updates.items():
            setattr(notification, f"{transport}_{name}", value)
        session.commit()
    except Exception:
        session.rollback()
        raise


# --- linking Telegram ---------------------------------------------------------------------


def start_telegram_link(session: Session, user: User, now: datetime) -> str:
    """A fresh one-time code for ``user`` (any earlier code stops working); commits."""
    try:
        for _attempt in range(LINK_CODE_ATTEMPTS):
            code = f"{secrets.randbelow(10 ** LINK_CODE_DIGITS):0{LINK_CODE_DIGITS}d}"
            taken = session.scalar(select(User.id).where(
                User.telegram_link_code_hash == _code_hash(code), User.id != user.id))
            if taken is None:
                break
        else:
            raise RuntimeError("no free Telegram link code found")
        user.telegram_link_code_hash = _code_hash(code)
        user.telegram_link_expires_at = now + LINK_CODE_LIFETIME
        audit.record(session, "user.telegram_link_started", actor=user.email, user_id=user.id)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return code


def link_telegram(session: Session, code: str, chat_encrypted: str, now: datetime
                  ) -> User | None:
    """Link the chat to the user whose unexpired code this is; None if there is none.

    Runs in the caller's transaction (the dialogue's). The code is spent on success.
    """
    digits = "".join(ascii_digits(code).split()).replace("-", "")
    user = None
    if digits.isascii() and digits.isdigit() and len(digits) == LINK_CODE_DIGITS:
        user = session.scalars(select(User).where(
            User.telegram_link_code_hash == _code_hash(digits))).first()
    if user is None or not user.active or user.telegram_link_expires_at is None \
            or user.telegram_link_expires_at <= now:
        reason = "unknown" if user is None else "expired"
        audit.record(session, "user.telegram_link_refused", reason=reason)
        return None
    user.telegram_chat_encrypted = chat_encrypted
    user.telegram_linked_at = now
    user.telegram_link_code_hash = None
    user.telegram_link_expires_at = None
    audit.record(session, "user.telegram_linked", actor=user.email, user_id=user.id)
    return user


def unlink_telegram(session: Session, user: User, now: datetime) -> None:
    try:
        user.telegram_chat_encrypted = None
        user.telegram_linked_at = None
        user.telegram_link_code_hash = None
        user.telegram_link_expires_at = None
        audit.record(session, "user.telegram_unlinked", actor=user.email, user_id=user.id)
        session.commit()
    except Exception:
        session.rollback()
        raise


def _code_hash(code: str) -> str:
    return hashlib.sha256(f"sawti-telegram-link:{code}".encode()).hexdigest()


def users_with_roles(session: Session, roles: Sequence[Role]) -> list[User]:
    return list(session.scalars(select(User).where(User.role.in_(list(roles)),
                                                   User.active.is_(True)).order_by(User.id)))
