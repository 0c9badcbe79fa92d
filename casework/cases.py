"""What officers do to a case: triage, notes, referrals, closing, reopening, merging.

Each service validates its input, writes the change and an audit row in one transaction and
commits, or raises ``CaseActionRefused`` (a stable ``reason`` code and an English message)
having changed nothing. Who may call which service is ``casework.access``'s business and is
checked by the caller; the services check only what is about the data itself (the referral's
recipient answers it; a merge target must be visible to the actor).

Audit details hold old → new values of the triage fields and ids, never message text, note
text or addresses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework import audit, deadlines, notifications
from casework.access import Action, can
from casework.models import (
    AuditEvent,
    Case,
    CaseStatus,
    Direction,
    InfoAnswer,
    InfoEntry,
    Message,
    Note,
    Project,
    Referral,
    Role,
    User,
)
from casework.references import is_valid_reference
from casework.text import ascii_digits, clean_text
from config.data import OrgData

GENDERS = ("female", "male", "other", "unknown")
AGE_GROUPS = ("child", "adult", "elderly", "unknown")
TRIAGE_FIELDS = ("level", "category", "location", "project", "project_id", "gender", "age_group",
                 "urgent")
MAX_PROJECT_LENGTH = 64
MAX_NOTE_LENGTH = 10_000
MAX_TEXT_LENGTH = 4_000  # referral messages and answers, resolutions
REFERRAL_ROLES = frozenset({Role.FOCAL_POINT, Role.PSEA, Role.OFFICER})
# Resolutions Sawti once stored itself, in English, for a merge or the information line's
# answer; pages now say these in the reader's language from the merge link or the answer.
_STORED_MERGE = re.compile(r"(Merged into|Duplicate of) \d+")
_STORED_INFO_ANSWER = re.compile(r"Answered automatically by the information line( \(.*\))?")
ACTOR_LENGTH = 64  # AuditEvent.actor


class CaseActionRefused(ValueError):
    """The action cannot be done; ``reason`` is a stable code, the message says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


# --- triage ------------------------------------------------------------------------------


def triage(session: Session, actor: User, case: Case, values: Mapping[str, Any],
           now: datetime, *, org_data: OrgData) -> dict[str, list[Any]]:
    """Apply the triage fields present in ``values``; returns the changes (field → [old, new]).

    A level change recomputes the deadline from the case's creation and its sensitivity from
    the grid; a case that becomes sensitive is restricted and the PSEA staff are notified.
    """
    wanted = _validated_triage(session, case, values, org_data)
    changes = {name: [getattr(case, name), value] for name, value in wanted.items()
               if getattr(case, name) != value}
    was_sensitive = case.sensitive
    first_triage = case.status == CaseStatus.NEW
    try:
        for name, (_old, new) in changes.items():
            setattr(case, name, new)
        if "level" in changes:
            grid = org_data.grid
            old_due = case.due_at
            case.due_at = deadlines.due_at(case.created_at, case.level, grid)
            case.sensitive = grid.is_sensitive(case.level)
            if case.due_at != old_due:
                changes["due_at"] = [_iso(old_due), _iso(case.due_at)]
            if case.sensitive != was_sensitive:
                changes["sensitive"] = [was_sensitive, case.sensitive]
        if first_triage:
            case.status = CaseStatus.OPEN
            changes["status"] = [CaseStatus.NEW.value, CaseStatus.OPEN.value]
        if changes:
            audit.record(session, "case.triaged", case=case, actor=actor_name(actor),
                         changes=changes)
        if case.sensitive and not was_sensitive:
            _restrict(session, actor, case, now)
        elif was_sensitive and not case.sensitive:
            audit.record(session, "case.unrestricted", case=case, actor=actor_name(actor),
                         level=case.level)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return changes


def _restrict(session: Session, actor: User, case: Case, now: datetime) -> None:
    audit.record(session, "case.restricted", case=case, actor=actor_name(actor), level=case.level)
    # Alerted in this same transaction: the worker delivers them by e-mail and Telegram.
    alerts = notifications.alert_sensitive(session, case, now, except_user_id=actor.id)
    session.flush()
    audit.record(session, "psea.notified", case=case,
                 user_ids=[alert.user_id for alert in alerts],
                 notification_ids=[alert.id for alert in alerts])


def _validated_triage(session: Session, case: Case, values: Mapping[str, Any],
                      org_data: OrgData) -> dict[str, Any]:
    unknown = set(values) - set(TRIAGE_FIELDS)
    if unknown:
        raise CaseActionRefused("unknown_field",
                                f"Unknown triage fields: {', '.join(sorted(unknown))}.")
    wanted: dict[str, Any] = {}
    if "level" in values:
        wanted["level"] = _level(values["level"], case, org_data)
    if "category" in values:
        category = _optional_code(values["category"])
        if category is not None and org_data.category(category) is None:
            raise CaseActionRefused("invalid_category", "The category is not a known one.")
        wanted["category"] = category
    if "location" in values:
        location = _optional_code(values["location"])
        if location is not None and org_data.location(location) is None:
            raise CaseActionRefused("invalid_location", "The location is not a known one.")
        wanted["location"] = location
    if "project" in values:
        if not isinstance(values["project"], str | None):
            raise CaseActionRefused("invalid_project", "The project must be text.")
        project = clean_text(values["project"])
        if len(project) > MAX_PROJECT_LENGTH:
            raise CaseActionRefused(
                "project_too_long",
                f"The project is longer than {MAX_PROJECT_LENGTH} characters.")
        wanted["project"] = project or None
    if "project_id" in values:
        wanted["project_id"] = _project_id(session, values["project_id"])
    for name, allowed in (("gender", GENDERS), ("age_group", AGE_GROUPS)):
        if name in values:
            value = _optional_code(values[name])
            if value is not None and value not in allowed:
                raise CaseActionRefused(f"invalid_{name}",
                                        f"The {name.replace('_', ' ')} must be one of "
                                        f"{', '.join(allowed)}.")
            wanted[name] = value
    if "urgent" in values:
        if not isinstance(values["urgent"], bool):
            raise CaseActionRefused("invalid_urgent", "Urgent must be true or false.")
        wanted["urgent"] = values["urgent"]
    return wanted


def _project_id(session: Session, value: Any) -> int | None:
    """A programme project's id (None or "" unlinks); refused unless the project exists."""
    if value is None or value == "":
        return None
    ident = int(value) if isinstance(value, int | str) and str(value).isdecimal() else None
    if ident is None or isinstance(value, bool) or ident > 2**31 - 1 \
            or session.get(Project, ident) is None:
        raise CaseActionRefused("unknown_project", "The project is not a known one.")
    return ident


def _level(value: Any, case: Case, org_data: OrgData) -> int | None:
    if value is None or value == "":
        if case.level is None:
            return None
        raise CaseActionRefused("invalid_level", "A graded case keeps a level of the grid.")
    if isinstance(value, bool):
        raise CaseActionRefused("invalid_level", "The level is not a level of the grid.")
    try:
        level = int(ascii_digits(value.strip()) if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise CaseActionRefused("invalid_level",
                                "The level is not a level of the grid.") from None
    if org_data.grid.get(level) is None:
        raise CaseActionRefused("invalid_level", "The level is not a level of the grid.")
    return level


def _optional_code(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise CaseActionRefused("invalid_value", "Expected a code as text.")
    return value.strip() or None


# --- notes and referrals ----------------------------------------------------------------


def add_note(session: Session, actor: User, case: Case, body: str | None, now: datetime
             ) -> Note:
    text = _required_text(body, MAX_NOTE_LENGTH, "note")
    note = Note(case=case, author_id=actor.id, body=text, created_at=now)
    try:
        session.add(note)
        session.flush()
        audit.record(session, "case.noted", case=case, actor=actor_name(actor), note_id=note.id)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return note


def referral_targets(session: Session, case: Case) -> list[User]:
    """The active staff a case may be referred to: focal points, and case handlers who can
    open this case (an officer of its location for a programme case, PSEA for a sensitive
    one)."""
    users = session.scalars(
        select(User).where(User.active.is_(True), User.role.in_(list(REFERRAL_ROLES)))
        .order_by(User.name, User.email))
    return [user for user in users if _may_receive(user, case)]


def _may_receive(user: User, case: Case) -> bool:
    if not user.active or user.role not in REFERRAL_ROLES:
        return False
    if user.role == Role.FOCAL_POINT:
        return True  # the referral itself gives them the case
    return can(user, Action.VIEW, case)


def refer(session: Session, actor: User, case: Case, to_user: User | None,
          due_at: datetime | None, message: str | None, now: datetime) -> Referral:
    """Refer the case to a focal point (or a colleague who can open it) with a due date."""
    if case.status == CaseStatus.CLOSED:
        raise CaseActionRefused("closed", "A closed case cannot be referred; reopen it first.")
    if to_user is None or not _may_receive(to_user, case):
        raise CaseActionRefused("invalid_recipient",
                                "Refer to an active focal point, or to a PSEA focal point or "
                                "officer who can open this case.")
    if due_at is None:
        raise CaseActionRefused("due_required", "A referral needs a due date.")
    if due_at.tzinfo is None:
        raise CaseActionRefused("due_required", "The due date needs a time zone.")
    if due_at <= now:
        raise CaseActionRefused("due_in_past", "The due date must be in the future.")
    text = _required_text(message, MAX_TEXT_LENGTH, "referral message")
    referral = Referral(case=case, to_user_id=to_user.id, created_by_id=actor.id, message=text,
                        due_at=due_at, created_at=now)
    old_status = case.status
    try:
        session.add(referral)
        case.status = CaseStatus.REFERRED
        session.flush()
        audit.record(session, "case.referred", case=case, actor=actor_name(actor),
                     referral_id=referral.id, to_user_id=to_user.id, due_at=_iso(due_at),
                     status=[old_status, CaseStatus.REFERRED.value])
        if to_user.id != actor.id:
            notifications.alert_referral(session, referral, to_user, now)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return referral


def answer_referral(session: Session, actor: User, case: Case, referral: Referral,
                    answer: str | None, now: datetime) -> Referral:
    """The recipient's answer; the case goes back to open once no referral is pending."""
    if referral.case_id != case.id:
        raise CaseActionRefused("not_found", "This referral belongs to another case.")
    if referral.to_user_id != actor.id:
        raise CaseActionRefused("not_recipient", "Only the person the case was referred to "
                                                 "can answer the referral.")
    if referral.answered_at is not None:
        raise CaseActionRefused("already_answered", "This referral was answered already.")
    text = _required_text(answer, MAX_TEXT_LENGTH, "answer")
    try:
        referral.answer, referral.answered_at = text, now
        pending = any(other.answered_at is None for other in case.referrals
                      if other.id != referral.id)
        old_status = case.status
        if case.status == CaseStatus.REFERRED and not pending:
            case.status = CaseStatus.OPEN
        audit.record(session, "referral.answered", case=case, actor=actor_name(actor),
                     referral_id=referral.id, status=[old_status, case.status])
        session.commit()
    except Exception:
        session.rollback()
        raise
    return referral


# --- closing, reopening, merging ----------------------------------------------------------


def close(session: Session, actor: User, case: Case, resolution: str | None, now: datetime,
          *, seen_message_id: int | None = None) -> Case:
    """Close the case. ``seen_message_id``: the person's latest message the officer had on
    screen; a later one refuses the close, so that nothing they wrote meanwhile goes unread."""
    # Locked (PostgreSQL) before the checks: a message arriving now waits, then sees the case
    # closed and opens a new one; or it came first, and the check below sees it.
    session.refresh(case, with_for_update={"key_share": True})
    if case.status == CaseStatus.CLOSED:
        raise CaseActionRefused("already_closed", "The case is closed already.")
    if seen_message_id is not None:
        _refuse_if_unread(session, case, seen_message_id)
    text = clean_text(resolution)
    if not text:
        raise CaseActionRefused("resolution_required",
                                "Say how the case was resolved before closing it.")
    if len(text) > MAX_TEXT_LENGTH:
        raise CaseActionRefused("too_long",
                                f"The resolution is longer than {MAX_TEXT_LENGTH} characters.")
    old_status = case.status
    try:
        case.status, case.closed_at, case.resolution = CaseStatus.CLOSED, now, text
        audit.record(session, "case.closed", case=case, actor=actor_name(actor),
                     status=[old_status, CaseStatus.CLOSED.value],
                     within_deadline=now <= case.due_at)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return case


def _refuse_if_unread(session: Session, case: Case, seen_message_id: int) -> None:
    latest = latest_inbound_id(session, case)
    if latest is not None and latest > seen_message_id:
        raise CaseActionRefused("unread_message", "The person wrote again after you opened "
                                "the case: read the new message before closing it.")


def latest_inbound_id(session: Session, case: Case) -> int | None:
    """The id of the person's latest message on the case."""
    return session.scalar(select(func.max(Message.id)).where(
        Message.case_id == case.id, Message.direction == Direction.INBOUND))


def reopen(session: Session, actor: User, case: Case, now: datetime) -> Case:
    """Back to open; a merged duplicate reopened is no longer merged (undoing a wrong merge)."""
    if case.status != CaseStatus.CLOSED:
        raise CaseActionRefused("not_closed", "Only a closed case can be reopened.")
    try:
        reopen_in_transaction(session, case, now, actor=actor_name(actor))
        session.commit()
    except Exception:
        session.rollback()
        raise
    return case


def reopen_in_transaction(session: Session, case: Case, now: datetime, *, actor: str,
                          **reason: Any) -> None:
    """``reopen`` inside the caller's transaction, for actors that are not staff (the system,
    when the person asks in the satisfaction survey); ``reason`` goes to the audit row."""
    if case.status != CaseStatus.CLOSED:
        raise CaseActionRefused("not_closed", "Only a closed case can be reopened.")
    details: dict[str, Any] = {"status": [CaseStatus.CLOSED.value, CaseStatus.OPEN.value]}
    if case.merged_into_id is not None:
        details["merged_into_id"] = [case.merged_into_id, None]
        case.merged_into_id = None
    kept = _keep_resolution_as_note(session, case, now)
    if kept is not None:
        details["resolution_note_id"] = kept.id
    case.status, case.closed_at, case.resolution = CaseStatus.OPEN, None, None
    case.last_activity_at = now  # the person's next message joins this case again
    audit.record(session, "case.reopened", case=case, actor=actor[:ACTOR_LENGTH],
                 **details, **reason)


def _keep_resolution_as_note(session: Session, case: Case, now: datetime) -> Note | None:
    """The resolution staff wrote, kept in the case's history as a note by whoever closed the
    case, dated when it was closed: a reopened case has no resolution, and its next closing
    writes a new one without losing this."""
    written = _written_resolution(case)
    if written is None:
        return None
    closer = session.scalar(select(AuditEvent.actor).where(
        AuditEvent.case_id == case.id, AuditEvent.action == "case.closed")
        .order_by(AuditEvent.id.desc()).limit(1))
    author = session.scalar(select(User.id).where(User.email == closer)) if closer else None
    note = Note(case=case, author_id=author, body=written,
                created_at=case.closed_at or now)
    session.add(note)
    session.flush()
    return note


def merge(session: Session, actor: User, case: Case, into_reference: str | None,
          now: datetime) -> Case:
    """Close ``case`` as a duplicate of another; returns the case it was merged into.

    Messages, notes and referrals stay where they are: the duplicate keeps its history and
    links to the case that continues.
    """
    if case.merged_into_id is not None:
        raise CaseActionRefused("already_merged", "This case is merged already.")
    reference = ascii_digits(into_reference or "").strip()
    if not reference:
        raise CaseActionRefused("into_required", "Give the reference of the case to merge into.")
    if not is_valid_reference(reference):
        raise CaseActionRefused("invalid_reference", "This is not a valid case reference; "
                                                     "check the digits.")
    if reference == case.reference:
        raise CaseActionRefused("same_case", "A case cannot be merged into itself.")
    into = session.scalars(select(Case).where(Case.reference == reference)).first()
    if into is None or not can(actor, Action.VIEW, into):
        # The same answer whether it does not exist or is not theirs to see.
        raise CaseActionRefused("into_not_found", "No case with this reference that you can "
                                                  "open.")
    if into.merged_into_id is not None:
        raise CaseActionRefused("into_merged", "That case is itself merged into another; "
                                               "merge into the case that continues.")
    old_status = case.status
    try:
        case.merged_into_id = into.id
        case.status = CaseStatus.CLOSED
        case.closed_at = case.closed_at if old_status == CaseStatus.CLOSED else now
        if old_status != CaseStatus.CLOSED:
            case.resolution = None  # the page shows the merge link; a closed case keeps its own
        audit.record(session, "case.merged", case=case, actor=actor_name(actor),
                     into_case_id=into.id, into_reference=into.reference,
                     status=[old_status, CaseStatus.CLOSED.value])
        audit.record(session, "case.merge_received", case=into, actor=actor_name(actor),
                     from_case_id=case.id, from_reference=case.reference)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return into


@dataclass(frozen=True)
class Resolution:
    """How a closed case was resolved: staff's words, a merge, the information line, or (for
    a case opened for a missed call) the person reached on a later call-back."""

    written: str | None
    merged_into: Case | None = None
    answered_automatically: bool = False
    entry: InfoEntry | None = None  # the information entry that answered, when known
    caller_reached: bool = False


def resolution(session: Session, case: Case) -> Resolution | None:
    """None while the case is open."""
    if case.status != CaseStatus.CLOSED:
        return None
    merged_into = session.get(Case, case.merged_into_id) if case.merged_into_id else None
    written = _written_resolution(case)
    if written or merged_into is not None:
        return Resolution(written, merged_into)
    if _closed_as_caller_reached(session, case):
        return Resolution(None, caller_reached=True)
    answer = session.scalars(select(InfoAnswer).where(
        InfoAnswer.case_id == case.id, InfoAnswer.satisfied.is_(True))
        .order_by(InfoAnswer.id.desc()).limit(1)).first()
    if answer is None:
        return Resolution(None)
    return Resolution(None, answered_automatically=True, entry=answer.entry)


def _closed_as_caller_reached(session: Session, case: Case) -> bool:
    """The case's latest closing was the voice line's, on reaching the person of a missed
    call (``channels.twilio_voice.caller_reached``)."""
    closing = session.scalars(select(AuditEvent).where(
        AuditEvent.case_id == case.id, AuditEvent.action == "case.closed")
        .order_by(AuditEvent.id.desc()).limit(1)).first()
    return closing is not None and bool((closing.details or {}).get("caller_reached"))


# Audit actions that only read a case: staff who did only these have not acted on it.
READING_ACTIONS = frozenset({"case.viewed", "document.downloaded"})


def touched_by_staff(session: Session, case: Case) -> bool:
    """Whether a person has acted on a case Sawti opened by itself (new, with no level, as for
    a missed call): assigned it, referred it, wrote a note or a reply, gave it a level, moved
    its status from new (Sawti's own closing on reaching the caller aside), or did anything
    else the audit trail records under a staff member's name. Reading it is not acting."""
    if case.assignee_id is not None or case.level is not None:
        return True
    if case.status != CaseStatus.NEW and not _closed_as_caller_reached(session, case):
        return True
    staff_actors = select(func.substr(User.email, 1, ACTOR_LENGTH))
    done = (
        select(Note.id).where(Note.case_id == case.id),
        select(Referral.id).where(Referral.case_id == case.id),
        select(Message.id).where(Message.case_id == case.id,
                                 Message.direction == Direction.OUTBOUND,
                                 Message.kind == "reply"),
        select(AuditEvent.id).where(AuditEvent.case_id == case.id,
                                    AuditEvent.action.not_in(READING_ACTIONS),
                                    AuditEvent.actor.in_(staff_actors)),
    )
    return any(session.scalar(query.limit(1)) is not None for query in done)


def _written_resolution(case: Case) -> str | None:
    text = case.resolution
    if not text or _STORED_INFO_ANSWER.fullmatch(text):
        return None
    if case.merged_into_id is not None and _STORED_MERGE.fullmatch(text):
        return None
    return text


# --- whether a reply can go out now ----------------------------------------------------


@dataclass(frozen=True)
class Deliverability:
    can_send_now: bool
    # opted_out | whatsapp_window | voice | no_contact | channel_unavailable | None
    reason: str | None = None


VOICE_CHANNEL = "voice"


def deliverability(case: Case, now: datetime, adapters: Mapping[str, Any]) -> Deliverability:
    """Whether a written reply on the case's channel would go out now, and if not why.

    The same rules the dispatcher applies when it sends (see ``channels.dispatcher``).
    """
    contact = case.contact
    if contact is None or contact.address_encrypted is None:
        return Deliverability(False, "no_contact")
    if contact.opted_out:
        return Deliverability(False, "opted_out")
    adapter = adapters.get(case.channel)
    if adapter is None:
        return Deliverability(False, "channel_unavailable")
    if case.channel == VOICE_CHANNEL:  # read to them in a call-back, within calling hours
        return Deliverability(False, "voice")
    if not adapter.freeform_allowed(case.channel, contact.last_inbound_at, now):
        return Deliverability(False, "whatsapp_window")
    return Deliverability(True, None)


# --- the timeline -----------------------------------------------------------------------

# Audit actions shown in the timeline; the others are either shown through their own rows
# (messages, notes, referrals) or are not something a person did to the case.
TIMELINE_EVENTS = frozenset({
    "case.created", "case.entered", "case.acknowledged", "case.consent", "case.triaged",
    "case.restricted", "case.unrestricted", "psea.notified", "case.assigned", "case.closed",
    "case.reopened", "case.merged", "case.merge_received", "message.held", "message.failed",
    "voice.unreachable", "attachment.fetch_failed", "document.uploaded", "contact.revealed",
    "case.flagged_sensitive", "case.flagged_urgent", "voice.caller_reached",
    "voice.recording_joined",
})


@dataclass(frozen=True)
class Entry:
    """One line of the timeline: ``kind`` is message, note, referral, answer or event."""

    at: datetime
    kind: str
    item: Any
    actor: str | None = None  # who did it (an email, "system", or None for the person)
    order: int = 0


def timeline(session: Session, case: Case) -> list[Entry]:
    """Everything that happened to the case, oldest first."""
    events = list(session.scalars(
        select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.id)))
    reply_authors = {event.details.get("message_id"): event.actor for event in events
                     if event.action == "case.replied"}
    entries: list[Entry] = []
    for message in session.scalars(
            select(Message).where(Message.case_id == case.id).order_by(Message.id)):
        inbound = message.direction == Direction.INBOUND
        at = (message.received_at if inbound else None) or message.created_at
        actor = None if inbound else reply_authors.get(message.id, "system")
        entries.append(Entry(at, "message", message, actor, message.id))
    for note in case.notes:
        author = note.author.email if note.author else None
        entries.append(Entry(note.created_at, "note", note, author, note.id))
    for referral in case.referrals:
        by = referral.created_by.email if referral.created_by else None
        entries.append(Entry(referral.created_at, "referral", referral, by, referral.id))
        if referral.answered_at is not None:
            entries.append(Entry(referral.answered_at, "answer", referral,
                                 referral.to_user.email, referral.id))
    entries += [Entry(event.at, "event", event, event.actor, event.id) for event in events
                if event.action in TIMELINE_EVENTS]
    kinds = {"message": 0, "note": 1, "referral": 2, "answer": 3, "event": 4}
    return sorted(entries, key=lambda entry: (entry.at, kinds[entry.kind], entry.order))


# --- helpers ------------------------------------------------------------------------------


def _required_text(value: str | None, limit: int, what: str) -> str:
    text = clean_text(value)
    if not text:
        raise CaseActionRefused("empty", f"The {what} is empty.")
    if len(text) > limit:
        raise CaseActionRefused("too_long", f"The {what} is longer than {limit} characters.")
    return text


def actor_name(user: User) -> str:
    """How staff appear in the audit trail: their email (cut to the column's length)."""
    return user.email[:ACTOR_LENGTH]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
