"""The information line: answers from the entries officers keep, the person's "did this answer
your question?", and what officers learn from both.

Most people who write want information, not to complain. When a new message asks something an
approved entry answers (``casework.faq`` decides, never for a message the triage assistant
flagged), the dialogue sends the entry's answer after the acknowledgement and asks 1 yes /
2 no. Yes closes the case as a level-1 information request answered automatically; no (or no
reply) leaves it open for an officer, marked as not satisfied. A question nothing answers is
kept too, so that officers see what to write next.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import case as when
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework import audit, faq
from casework.access import listed_cases, viewable_cases
from casework.models import (
    Case,
    CaseStatus,
    InfoAnswer,
    InfoEntry,
    Message,
    User,
)
from config.data import OrgData, read_yaml

ACTOR = "information-line"
INFO_CATEGORY = "information_request"
MAX_TEXT = 2000
TEXTS = ("question_ar", "question_en", "question_ckb", "answer_ar", "answer_en", "answer_ckb")
EDITABLE = ("code", *TEXTS, "keywords", "also", "asks", "unless", "examples", "locations",
            "projects", "valid_from", "valid_to", "active")


class EntryRefused(ValueError):
    """The entry cannot be saved; ``reason`` is a stable code for the caller's message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- matching --------------------------------------------------------------------------------

_matchers: dict[tuple[Any, ...], faq.Matcher] = {}


def usable(session: Session, today: date) -> list[InfoEntry]:
    """Entries the line may send today: approved, active and within their dates."""
    return list(session.scalars(select(InfoEntry).where(
        InfoEntry.active.is_(True), InfoEntry.approved_at.is_not(None),
        (InfoEntry.valid_from.is_(None)) | (InfoEntry.valid_from <= today),
        (InfoEntry.valid_to.is_(None)) | (InfoEntry.valid_to >= today),
    ).order_by(InfoEntry.id)))


def matcher(session: Session, today: date) -> faq.Matcher:
    """The matcher over today's usable entries, rebuilt only when an entry changed."""
    version = session.execute(select(func.count(InfoEntry.id), func.max(InfoEntry.updated_at))
                              ).one()
    key = (str(session.get_bind().url), today, *version)
    if key not in _matchers:
        _matchers.clear()
        _matchers[key] = faq.Matcher([as_faq_entry(row) for row in usable(session, today)])
    return _matchers[key]


def as_faq_entry(row: InfoEntry) -> faq.Entry:
    return faq.Entry(
        code=row.code, keywords=faq.parse_keywords(row.keywords or []),
        also=faq.parse_keywords(row.also or []), asks=tuple(row.asks or ()),
        unless=faq.parse_keywords(row.unless or []), examples=tuple(row.examples or ()),
        locations=tuple(row.locations or ()), valid_from=row.valid_from, valid_to=row.valid_to,
        ref=row.id)


def find_answer(session: Session, text: str | None, location: str | None, now: datetime
                ) -> InfoEntry | None:
    found = matcher(session, now.date()).match(text, location, now.date())
    return session.get(InfoEntry, found.entry.ref) if found is not None else None


def answer_text(entry: InfoEntry, language: str) -> str:
    return _in_language(language, entry.answer_ar, entry.answer_en, entry.answer_ckb)


def question_text(entry: InfoEntry, language: str) -> str:
    return _in_language(language, entry.question_ar, entry.question_en,
                        entry.question_ckb) or entry.code


def _in_language(language: str, arabic: str, english: str, sorani: str | None) -> str:
    """English for English; Sorani for Sorani when an officer wrote it, else Arabic, which a
    Kurdish reader reads sooner than English; Arabic for every other language. English only
    when there is no Arabic (an entry has one or the other)."""
    if language == "en":
        return english or arabic
    if language == "ckb" and sorani:
        return sorani
    return arabic or english


def record(session: Session, case: Case | None, message: Message | None,
           entry: InfoEntry | None, now: datetime, *, channel: str | None = None
           ) -> InfoAnswer:
    """Keep that the line answered ``message`` with ``entry`` (None: nothing matched). A voice
    caller who picks an entry from the menu has no case and no message."""
    answer = InfoAnswer(case=case, message=message, entry=entry, created_at=now,
                        channel=channel or (case.channel if case is not None else "unknown"))
    session.add(answer)
    return answer


def was_answered(session: Session, case: Case) -> bool:
    """Whether an entry already answered this case (the person may have said it did not help:
    the same answer is not sent again)."""
    return session.scalars(select(InfoAnswer.id).where(
        InfoAnswer.case_id == case.id, InfoAnswer.entry_id.is_not(None)).limit(1)).first() \
        is not None


def awaiting_feedback(session: Session, case: Case) -> InfoAnswer | None:
    return session.scalars(select(InfoAnswer).where(
        InfoAnswer.case_id == case.id, InfoAnswer.entry_id.is_not(None),
        InfoAnswer.satisfied.is_(None)).order_by(InfoAnswer.id.desc())).first()


def record_feedback(session: Session, answer: InfoAnswer, satisfied: bool, now: datetime,
                    org_data: OrgData) -> None:
    """Yes: close the case as an information request answered automatically. No: it stays
    open for an officer, marked as not satisfied. The caller commits."""
    answer.satisfied, answer.feedback_at = satisfied, now
    case = answer.case
    if not satisfied:
        audit.record(session, "info.not_satisfied", case=case, actor=ACTOR,
                     entry=answer.entry.code if answer.entry else None)
        return
    category = org_data.category(INFO_CATEGORY)
    case.level = case.level or (category.default_level if category else 1)
    case.category = case.category or INFO_CATEGORY
    case.status, case.closed_at, case.last_activity_at = CaseStatus.CLOSED, now, now
    case.first_response_at = case.first_response_at or now
    case.resolution = None  # pages say it from this answer (cases.resolution)
    audit.record(session, "case.closed", case=case, actor=ACTOR, automatic=True,
                 entry=answer.entry.code if answer.entry else None,
                 within_deadline=now <= case.due_at)


# --- entries, kept by officers ---------------------------------------------------------------

def save_entry(session: Session, actor: User, entry: InfoEntry | None,
               values: Mapping[str, Any], now: datetime) -> InfoEntry:
    """Create or change an entry and commit; a change needs approving again."""
    cleaned = _validated(session, entry, values)
    try:
        created = entry is None
        entry = entry or InfoEntry(created_at=now)
        changed = sorted(name for name, value in cleaned.items()
                         if getattr(entry, name, None) != value)
        if not created and not changed:
            return entry  # saved as it was: nothing to record, still approved
        for name, value in cleaned.items():
            setattr(entry, name, value)
        entry.updated_at = now
        if changed and not created:
            entry.approved_by, entry.approved_at = None, None  # the words changed: approve again
        session.add(entry)
        session.flush()
        audit.record(session, "info.created" if created else "info.updated",
                     actor=_actor(actor), entry_id=entry.id, code=entry.code, fields=changed)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return entry


def approve(session: Session, actor: User, entry: InfoEntry, now: datetime) -> None:
    entry.approved_by, entry.approved_at, entry.updated_at = _actor(actor), now, now
    audit.record(session, "info.approved", actor=_actor(actor), entry_id=entry.id,
                 code=entry.code)
    session.commit()


def set_audio(session: Session, actor: User, entry: InfoEntry, storage_key: str | None,
              content_type: str | None, now: datetime) -> None:
    entry.audio_storage_key, entry.audio_content_type = storage_key, content_type
    entry.updated_at = now
    audit.record(session, "info.audio", actor=_actor(actor), entry_id=entry.id, code=entry.code,
                 removed=storage_key is None)
    session.commit()


def _validated(session: Session, entry: InfoEntry | None, values: Mapping[str, Any]
               ) -> dict[str, Any]:
    cleaned = {name: values[name] for name in EDITABLE if name in values}
    code = str(cleaned.get("code") or (entry.code if entry else "")).strip()
    if not code or len(code) > 64 or not code.replace("_", "").replace("-", "").isalnum():
        raise EntryRefused("code")
    clash = session.scalars(select(InfoEntry).where(InfoEntry.code == code)).first()
    if clash is not None and clash is not entry:
        raise EntryRefused("code_taken")
    cleaned["code"] = code
    for name in TEXTS:
        if name in cleaned:
            cleaned[name] = str(cleaned[name] or "").strip()
            if len(cleaned[name]) > MAX_TEXT:
                raise EntryRefused("too_long")
    if not (cleaned.get("answer_ar") or cleaned.get("answer_en")
            or (entry and (entry.answer_ar or entry.answer_en))):
        raise EntryRefused("no_answer")
    for name in ("keywords", "also", "unless"):
        if name in cleaned:
            cleaned[name] = _terms(cleaned[name])
    if "keywords" in cleaned and not cleaned["keywords"]:
        raise EntryRefused("no_keywords")
    if "asks" in cleaned:
        cleaned["asks"] = [kind for kind in cleaned["asks"] if kind in faq.QUESTION_KINDS]
    valid_from, valid_to = cleaned.get("valid_from"), cleaned.get("valid_to")
    if valid_from and valid_to and valid_to < valid_from:
        raise EntryRefused("dates")
    return cleaned


def _terms(values: Sequence[str]) -> list[str]:
    terms = [value.strip() for value in values if value and value.strip()]
    try:
        faq.parse_keywords(terms)
    except ValueError:
        raise EntryRefused("keywords") from None
    return terms


def _actor(user: User) -> str:
    return user.email


# --- what officers learn ---------------------------------------------------------------------

@dataclass(frozen=True)
class Usage:
    entry: InfoEntry
    answered: int
    satisfied: int
    not_satisfied: int

    @property
    def no_reply(self) -> int:
        return self.answered - self.satisfied - self.not_satisfied


def usage(session: Session) -> list[Usage]:
    counts = {row.entry_id: row for row in session.execute(
        select(InfoAnswer.entry_id, func.count().label("answered"),
               func.sum(when((InfoAnswer.satisfied.is_(True), 1), else_=0)).label("yes"),
               func.sum(when((InfoAnswer.satisfied.is_(False), 1), else_=0)).label("no"))
        .where(InfoAnswer.entry_id.is_not(None)).group_by(InfoAnswer.entry_id))}
    return [Usage(entry, counts[entry.id].answered if entry.id in counts else 0,
                  int(counts[entry.id].yes or 0) if entry.id in counts else 0,
                  int(counts[entry.id].no or 0) if entry.id in counts else 0)
            for entry in session.scalars(select(InfoEntry).order_by(InfoEntry.code))]


def unmatched(session: Session, user: User, limit: int = 50) -> list[tuple[InfoAnswer, Message]]:
    """Recent questions nothing answered, from cases this user may open."""
    rows = session.execute(
        select(InfoAnswer, Message).join(Message, InfoAnswer.message_id == Message.id)
        .join(Case, InfoAnswer.case_id == Case.id)
        .where(InfoAnswer.entry_id.is_(None), listed_cases(user), viewable_cases(user))
        .order_by(InfoAnswer.id.desc()).limit(limit))
    return [(answer, message) for answer, message in rows]


@dataclass(frozen=True)
class InfoKpis:
    requests: int  # information requests: answered automatically or not matched
    answered: int
    satisfied: int
    not_satisfied: int
    closed_automatically: int  # cases no officer had to handle: the time saved

    @property
    def answered_share(self) -> float | None:
        return round(self.answered / self.requests, 4) if self.requests else None

    @property
    def satisfied_share(self) -> float | None:
        return round(self.satisfied / self.answered, 4) if self.answered else None


def kpis(session: Session, begin: datetime, end: datetime) -> InfoKpis:
    period = (InfoAnswer.created_at >= begin) & (InfoAnswer.created_at < end)
    row = session.execute(select(
        func.count(InfoAnswer.id),
        func.sum(when((InfoAnswer.entry_id.is_not(None), 1), else_=0)),
        func.sum(when((InfoAnswer.satisfied.is_(True), 1), else_=0)),
        func.sum(when((InfoAnswer.satisfied.is_(False), 1), else_=0)),
    ).where(period)).one()
    requests, answered, yes, no = (int(value or 0) for value in row)
    return InfoKpis(requests, answered, yes, no, closed_automatically=yes)


# --- loading entries from a file (demo data, migrations from another system) -----------------

def import_entries(session: Session, path: Path, actor: User, now: datetime,
                   *, approve_all: bool = False) -> int:
    """Create the entries of a YAML file (config/info_entries.yaml's format) that are not
    there yet; returns how many were created."""
    content = read_yaml(path)
    created = 0
    for item in content.get("entries") or []:
        if session.scalars(select(InfoEntry).where(InfoEntry.code == item["code"])).first():
            continue
        values = {name: item.get(name) for name in EDITABLE if name in item}
        entry = save_entry(session, actor, None, {**values, "active": True}, now)
        if approve_all:
            approve(session, actor, entry, now)
        created += 1
    return created
