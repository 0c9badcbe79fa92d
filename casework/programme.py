"""Accountability programme records: projects, staff trainings and headcounts, awareness
sessions and surveys, channel availability per location, the monthly report submission log
and lessons learned — what an accountability officer is judged on besides case handling.

Every ``save_*`` / ``set_*`` / ``mark_*`` function validates, writes one audit event and
commits (rolling back on error), like ``casework.info.save_entry``: the caller does not
commit. A value that cannot be saved raises ``RecordRefused`` with a stable ``reason`` code
(the console turns it into a message). ``values`` mappings hold only the fields that change.

Storage choices: training participants are rows (``TrainingParticipant``: organisation,
own staff or not, count), so the trained share sums our own staff in SQL; a survey's
preferred channels are a JSON object channel → people. The KPIs are in
``casework.programme_kpis``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from casework import audit
from casework.models import (
    AwarenessSession,
    AwarenessSurvey,
    Case,
    ChannelAvailability,
    LessonLearned,
    LessonStatus,
    Project,
    ReportSubmission,
    StaffHeadcount,
    Training,
    TrainingParticipant,
    User,
)
from casework.reports import governorate_of, month_start

if TYPE_CHECKING:
    from config.settings import Settings

MAX_NAME = 200
MAX_TEXT = 5000
MAX_CODE = 32
MAX_COUNT = 1_000_000
ACTIVITY_DAYS = 90  # a channel cases came through in this many days counts as working there
# A record of something that happened cannot be dated after today. The console checks today
# where the organisation works; here, where no time zone is known, the date must have begun
# somewhere on earth (UTC+14 is the furthest ahead).
FURTHEST_AHEAD = timedelta(hours=14)
# Every channel a person can reach the organisation by: the messaging channels and the ways a
# complaint arrives in person (manual entries, casework.cases). The simulator is not one.
MESSAGING_CHANNELS = ("telegram", "whatsapp", "sms", "voice")
MANUAL_CHANNELS = ("in_person", "box", "staff", "phone")
CHANNELS = MESSAGING_CHANNELS + MANUAL_CHANNELS
LESSON_STATUSES = tuple(LessonStatus)


class RecordRefused(ValueError):
    """The record cannot be saved; ``reason`` is a stable code for the caller's message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- shared -----------------------------------------------------------------------------------

def _actor(user: User | None) -> str:
    return user.email if user is not None else "system"


def _commit(session: Session, record: Any, actor: User | None, action: str,
            **details: Any) -> None:
    """Add ``record``, write the audit event (ids and field names only) and commit."""
    try:
        session.add(record)
        session.flush()
        audit.record(session, action, actor=_actor(actor), record_id=record.id, **details)
        session.commit()
    except Exception:
        session.rollback()
        raise


def _apply(record: Any, cleaned: Mapping[str, Any]) -> list[str]:
    """Set the cleaned values; return the names of the fields that changed."""
    changed = sorted(name for name, value in cleaned.items()
                     if getattr(record, name, None) != value)
    for name, value in cleaned.items():
        setattr(record, name, value)
    return changed


def _text(value: Any, limit: int = MAX_TEXT, *, required: bool = False) -> str:
    text = str(value or "").strip()
    if len(text) > limit:
        raise RecordRefused("too_long")
    if required and not text:
        raise RecordRefused("required")
    return text


def _count(value: Any) -> int:
    try:
        number = int(value or 0)
    except (TypeError, ValueError):
        raise RecordRefused("count") from None
    if not 0 <= number <= MAX_COUNT:
        raise RecordRefused("count")
    return number


def _code(value: Any, *, required: bool = False) -> str | None:
    code = str(value or "").strip()
    if len(code) > MAX_CODE:
        raise RecordRefused("location")
    if required and not code:
        raise RecordRefused("location")
    return code or None


def _codes(values: Any) -> list[str]:
    codes = [str(value).strip() for value in values or () if str(value).strip()]
    if any(len(code) > MAX_CODE for code in codes):
        raise RecordRefused("location")
    return list(dict.fromkeys(codes))


def _texts(values: Any) -> list[str]:
    return list(dict.fromkeys(_text(value, MAX_NAME) for value in values or ()
                              if str(value or "").strip()))


def _channels(values: Any) -> list[str]:
    channels = list(dict.fromkeys(str(value).strip() for value in values or ()))
    if any(channel not in CHANNELS for channel in channels):
        raise RecordRefused("channel")
    return channels


def _date(value: Any, *, required: bool = False) -> date | None:
    if value in (None, ""):
        if required:
            raise RecordRefused("date")
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise RecordRefused("date") from None


def _not_in_future(day: date | None, now: datetime) -> None:
    if day is not None and day > (now + FURTHEST_AHEAD).date():
        raise RecordRefused("future")


def _dates_in_order(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        raise RecordRefused("dates")


def _existing(session: Session, model: type[Any], value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        ident = int(value)
    except (TypeError, ValueError):
        raise RecordRefused("link") from None
    if session.get(model, ident) is None:
        raise RecordRefused("link")
    return ident


# --- projects ---------------------------------------------------------------------------------

PROJECT_FIELDS = ("name", "donor", "locations", "start_date", "end_date", "team",
                  "has_strategy", "focal_point_id")


def save_project(session: Session, actor: User | None, project: Project | None,
                 values: Mapping[str, Any], now: datetime) -> Project:
    """Create (``project`` None) or change a project and commit."""
    cleaned = _project_values(session, project, values)
    created = project is None
    project = project or Project(created_at=now)
    changed = _apply(project, cleaned)
    project.updated_at = now
    _commit(session, project, actor, "project.created" if created else "project.updated",
            fields=changed)
    return project


def _project_values(session: Session, project: Project | None, values: Mapping[str, Any]
                    ) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    if "name" in values or project is None:
        cleaned["name"] = _text(values.get("name"), MAX_NAME, required=True)
    if "donor" in values:
        cleaned["donor"] = _text(values["donor"], MAX_NAME)
    if "team" in values:
        cleaned["team"] = _text(values["team"])
    if "locations" in values:
        cleaned["locations"] = _codes(values["locations"])
    for name in ("start_date", "end_date"):
        if name in values:
            cleaned[name] = _date(values[name])
    if "has_strategy" in values:
        cleaned["has_strategy"] = bool(values["has_strategy"])
    if "focal_point_id" in values:
        cleaned["focal_point_id"] = _existing(session, User, values["focal_point_id"])
    _dates_in_order(cleaned.get("start_date", project.start_date if project else None),
                    cleaned.get("end_date", project.end_date if project else None))
    return cleaned


def set_strategy_document(session: Session, actor: User | None, project: Project, *,
                          filename: str | None, content_type: str | None,
                          storage_key: str | None, now: datetime) -> None:
    """Attach the strategy document (already in the attachment store) or remove it (all
    None) and commit. Attaching a document marks the project as having a strategy."""
    project.strategy_filename = (_text(filename, 255) or None) if storage_key else None
    project.strategy_content_type = content_type if storage_key else None
    project.strategy_storage_key = storage_key
    if storage_key:
        project.has_strategy = True
    project.updated_at = now
    _commit(session, project, actor, "project.strategy_document", removed=storage_key is None)


def get_project(session: Session, project_id: int) -> Project | None:
    return session.get(Project, project_id)


def list_projects(session: Session, *, active_from: date | None = None,
                  active_to: date | None = None) -> list[Project]:
    """All projects by name; with dates, those running on some day of ``active_from``..
    ``active_to`` (either may be open; no start date: began before; no end date: still
    running)."""
    query = select(Project).order_by(Project.name, Project.id)
    if active_to is not None:
        query = query.where((Project.start_date.is_(None)) | (Project.start_date <= active_to))
    if active_from is not None:
        query = query.where((Project.end_date.is_(None)) | (Project.end_date >= active_from))
    return list(session.scalars(query))


def link_case(session: Session, actor: User | None, case: Case, project: Project | None,
              now: datetime) -> None:
    """Link a case to a project (None: unlink) and commit."""
    case.project_id = project.id if project is not None else None
    case.last_activity_at = max(case.last_activity_at, now)
    try:
        audit.record(session, "case.project", case=case, actor=_actor(actor),
                     project_id=case.project_id)
        session.commit()
    except Exception:
        session.rollback()
        raise


# --- trainings and headcounts -------------------------------------------------------------------

TRAINING_FIELDS = ("held_on", "location", "title", "topics", "notes")


def save_training(session: Session, actor: User | None, training: Training | None,
                  values: Mapping[str, Any], now: datetime,
                  participants: Sequence[Mapping[str, Any]] | None = None) -> Training:
    """Create or change a training and commit. ``participants`` (when given) replaces the
    rows: each ``{"organisation": str, "own_staff": bool, "count": int}``."""
    cleaned = _training_values(training, values)
    _not_in_future(cleaned.get("held_on"), now)
    rows = _participant_rows(participants) if participants is not None else None
    created = training is None
    training = training or Training(created_at=now, created_by_id=actor.id if actor else None)
    changed = _apply(training, cleaned)
    if rows is not None:
        training.participants = rows
        changed.append("participants")
    training.updated_at = now
    _commit(session, training, actor, "training.created" if created else "training.updated",
            fields=changed)
    return training


def _training_values(training: Training | None, values: Mapping[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    if "held_on" in values or training is None:
        cleaned["held_on"] = _date(values.get("held_on"), required=True)
    if "location" in values:
        cleaned["location"] = _code(values["location"])
    if "title" in values:
        cleaned["title"] = _text(values["title"], MAX_NAME)
    if "topics" in values:
        cleaned["topics"] = _texts(values["topics"])
    if "notes" in values:
        cleaned["notes"] = _text(values["notes"])
    return cleaned


def _participant_rows(participants: Sequence[Mapping[str, Any]]) -> list[TrainingParticipant]:
    rows = []
    for item in participants:
        organisation = _text(item.get("organisation"), MAX_NAME, required=True)
        rows.append(TrainingParticipant(organisation=organisation,
                                        own_staff=bool(item.get("own_staff")),
                                        count=_count(item.get("count"))))
    return rows


def get_training(session: Session, training_id: int) -> Training | None:
    return session.get(Training, training_id)


def list_trainings(session: Session, *, start: date | None = None, end: date | None = None,
                   location: str | None = None) -> list[Training]:
    """Trainings held on ``start``..``end`` (either may be None), newest first."""
    query = (select(Training).options(selectinload(Training.participants))
             .order_by(Training.held_on.desc(), Training.id.desc()))
    if start is not None:
        query = query.where(Training.held_on >= start)
    if end is not None:
        query = query.where(Training.held_on <= end)
    if location:
        query = query.where(Training.location == location)
    return list(session.scalars(query))


def set_headcount(session: Session, actor: User | None, location: str, headcount: int,
                  now: datetime) -> StaffHeadcount:
    """Our staff headcount in a governorate (the trained share's denominator); commits."""
    code = _code(location, required=True)
    row = session.scalars(select(StaffHeadcount).where(StaffHeadcount.location == code)).first()
    row = row or StaffHeadcount(location=code)
    row.headcount, row.updated_at = _count(headcount), now
    _commit(session, row, actor, "headcount.set", location=code, headcount=row.headcount)
    return row


def headcounts(session: Session) -> dict[str, int]:
    """Location code → staff headcount."""
    return {row.location: row.headcount for row in session.scalars(
        select(StaffHeadcount).order_by(StaffHeadcount.location))}


# --- awareness sessions and surveys -------------------------------------------------------------

SESSION_FIELDS = ("held_on", "location", "project_id", "women", "men", "girls", "boys",
                  "channels_promoted", "materials", "notes")
SURVEY_FIELDS = ("location", "period_start", "period_end", "project_id", "interviewed",
                 "aware", "know_how", "preferred_channels", "notes")


def save_awareness_session(session: Session, actor: User | None,
                           record: AwarenessSession | None, values: Mapping[str, Any],
                           now: datetime) -> AwarenessSession:
    """Create or change an awareness session and commit. Refused if it is dated after today or
    nobody attended."""
    cleaned = _session_values(session, record, values)
    _not_in_future(cleaned.get("held_on"), now)
    created = record is None
    record = record or AwarenessSession(created_at=now,
                                        created_by_id=actor.id if actor else None)
    changed = _apply(record, cleaned)
    if not record.participants:
        session.rollback()  # undo the values just set on a stored session
        raise RecordRefused("nobody_attended")
    record.updated_at = now
    _commit(session, record, actor,
            "awareness_session.created" if created else "awareness_session.updated",
            fields=changed)
    return record


def _session_values(session: Session, record: AwarenessSession | None,
                    values: Mapping[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    if "held_on" in values or record is None:
        cleaned["held_on"] = _date(values.get("held_on"), required=True)
    if "location" in values:
        cleaned["location"] = _code(values["location"])
    if "project_id" in values:
        cleaned["project_id"] = _existing(session, Project, values["project_id"])
    for name in ("women", "men", "girls", "boys"):
        if name in values:
            cleaned[name] = _count(values[name])
    if "channels_promoted" in values:
        cleaned["channels_promoted"] = _channels(values["channels_promoted"])
    if "materials" in values:
        cleaned["materials"] = _texts(values["materials"])
    if "notes" in values:
        cleaned["notes"] = _text(values["notes"])
    return cleaned


def get_awareness_session(session: Session, record_id: int) -> AwarenessSession | None:
    return session.get(AwarenessSession, record_id)


def list_awareness_sessions(session: Session, *, start: date | None = None,
                            end: date | None = None, location: str | None = None
                            ) -> list[AwarenessSession]:
    query = select(AwarenessSession).order_by(AwarenessSession.held_on.desc(),
                                              AwarenessSession.id.desc())
    if start is not None:
        query = query.where(AwarenessSession.held_on >= start)
    if end is not None:
        query = query.where(AwarenessSession.held_on <= end)
    if location:
        query = query.where(AwarenessSession.location == location)
    return list(session.scalars(query))


def save_survey(session: Session, actor: User | None, survey: AwarenessSurvey | None,
                values: Mapping[str, Any], now: datetime) -> AwarenessSurvey:
    """Create or change an awareness survey's results and commit. Refused unless someone was
    interviewed, aware and know_how are at most that many, the preferred channels add up to at
    most that, and the period has begun."""
    cleaned = _survey_values(session, survey, values)
    _not_in_future(cleaned.get("period_start"), now)
    _not_in_future(cleaned.get("period_end"), now)
    created = survey is None
    survey = survey or AwarenessSurvey(created_at=now, created_by_id=actor.id if actor else None)
    changed = _apply(survey, cleaned)
    try:
        _check_survey(survey)
    except RecordRefused:
        session.rollback()  # undo the values just set on a stored survey
        raise
    survey.updated_at = now
    _commit(session, survey, actor, "survey.created" if created else "survey.updated",
            fields=changed)
    return survey


def _survey_values(session: Session, survey: AwarenessSurvey | None,
                   values: Mapping[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    if "location" in values or survey is None:
        cleaned["location"] = _code(values.get("location"), required=True)
    for name in ("period_start", "period_end"):
        if name in values or survey is None:
            cleaned[name] = _date(values.get(name), required=True)
    if "project_id" in values:
        cleaned["project_id"] = _existing(session, Project, values["project_id"])
    for name in ("interviewed", "aware", "know_how"):
        if name in values:
            cleaned[name] = _count(values[name])
    if "preferred_channels" in values:
        preferred = dict(values["preferred_channels"] or {})
        _channels(preferred)
        cleaned["preferred_channels"] = {channel: _count(number)
                                         for channel, number in preferred.items()
                                         if _count(number)}
    if "notes" in values:
        cleaned["notes"] = _text(values["notes"])
    return cleaned


def _check_survey(survey: AwarenessSurvey) -> None:
    _dates_in_order(survey.period_start, survey.period_end)
    interviewed = survey.interviewed or 0
    if not interviewed:
        raise RecordRefused("nobody_interviewed")
    if (survey.aware or 0) > interviewed or (survey.know_how or 0) > interviewed:
        raise RecordRefused("more_than_interviewed")
    if sum((survey.preferred_channels or {}).values()) > interviewed:
        raise RecordRefused("more_than_interviewed")


def get_survey(session: Session, survey_id: int) -> AwarenessSurvey | None:
    return session.get(AwarenessSurvey, survey_id)


def list_surveys(session: Session, *, start: date | None = None, end: date | None = None,
                 location: str | None = None) -> list[AwarenessSurvey]:
    """Surveys whose period ends on ``start``..``end``, newest first."""
    query = select(AwarenessSurvey).order_by(AwarenessSurvey.period_end.desc(),
                                             AwarenessSurvey.id.desc())
    if start is not None:
        query = query.where(AwarenessSurvey.period_end >= start)
    if end is not None:
        query = query.where(AwarenessSurvey.period_end <= end)
    if location:
        query = query.where(AwarenessSurvey.location == location)
    return list(session.scalars(query))


# --- channel availability ---------------------------------------------------------------------

@dataclass(frozen=True)
class ChannelState:
    """One channel in one governorate: what configuration and activity say, the officer's
    correction, and the result."""

    location: str
    channel: str
    configured: bool  # the channel is set up (settings)
    cases: int  # cases from this governorate through it in the last ACTIVITY_DAYS days
    promoted: bool
    working: bool
    promoted_override: bool | None
    working_override: bool | None
    note: str


def configured_channels(settings: Settings) -> list[str]:
    """The messaging channels whose settings are present — the same conditions as the
    adapters' ``from_settings`` in ``channels/`` (which casework does not import)."""
    twilio = bool(settings.twilio_account_sid and settings.twilio_auth_token)
    present = {
        "telegram": bool(settings.telegram_bot_token and settings.telegram_webhook_secret),
        "whatsapp": twilio and bool(settings.twilio_whatsapp_number),
        "sms": twilio and bool(settings.twilio_sms_number),
        "voice": twilio and bool(settings.twilio_voice_number),
    }
    return [channel for channel in MESSAGING_CHANNELS if present[channel]]


def channel_availability(session: Session, *, configured: Collection[str],
                         locations: Sequence[str], now: datetime
                         ) -> dict[str, list[ChannelState]]:
    """Governorate → its channels, derived then corrected. Derived: a channel is promoted
    where it is configured (messaging channels reach every place), and working where it is
    configured or cases came through it there in the last 90 days (in person, complaint
    box...). A stored ``ChannelAvailability`` value replaces the derived one. Listed: every
    configured, used or corrected channel of each of ``locations`` (and of any governorate
    that has activity or corrections)."""
    used = _recent_use(session, now)
    overrides = {(row.location, row.channel): row
                 for row in session.scalars(select(ChannelAvailability))}
    places = list(dict.fromkeys([*locations, *(place for place, _ in used),
                                 *(place for place, _ in overrides)]))
    result: dict[str, list[ChannelState]] = {}
    for place in places:
        channels = [channel for channel in CHANNELS
                    if channel in configured or (place, channel) in used
                    or (place, channel) in overrides]
        result[place] = [_state(place, channel, channel in configured,
                                used.get((place, channel), 0), overrides.get((place, channel)))
                         for channel in channels]
    return result


def _state(place: str, channel: str, configured: bool, cases: int,
           override: ChannelAvailability | None) -> ChannelState:
    promoted_override = override.promoted if override else None
    working_override = override.working if override else None
    return ChannelState(
        location=place, channel=channel, configured=configured, cases=cases,
        promoted=configured if promoted_override is None else promoted_override,
        working=(configured or cases > 0) if working_override is None else working_override,
        promoted_override=promoted_override, working_override=working_override,
        note=override.note if override else "")


def _recent_use(session: Session, now: datetime) -> dict[tuple[str, str], int]:
    """(governorate, channel) → cases received in the last ACTIVITY_DAYS days."""
    rows = session.execute(
        select(Case.location, Case.channel, func.count())
        .where(Case.created_at >= now - timedelta(days=ACTIVITY_DAYS), Case.created_at < now,
               Case.merged_into_id.is_(None), Case.location.is_not(None),
               Case.channel.in_(CHANNELS))
        .group_by(Case.location, Case.channel))
    used: dict[tuple[str, str], int] = {}
    for location, channel, count in rows:
        key = (governorate_of(location), channel)
        used[key] = used.get(key, 0) + count
    return used


def set_channel_availability(session: Session, actor: User | None, location: str,
                             channel: str, *, promoted: bool | None, working: bool | None,
                             note: str, now: datetime) -> ChannelAvailability:
    """Correct (or, with both None and no note, reset) one channel in one governorate."""
    code = _code(location, required=True)
    _channels([channel])
    row = session.scalars(select(ChannelAvailability).where(
        ChannelAvailability.location == code, ChannelAvailability.channel == channel)).first()
    row = row or ChannelAvailability(location=code, channel=channel)
    row.promoted, row.working, row.note = promoted, working, _text(note)
    row.updated_by_id, row.updated_at = (actor.id if actor else None), now
    _commit(session, row, actor, "channel_availability.set", location=code, channel=channel,
            promoted=promoted, working=working)
    return row


# --- report submissions -----------------------------------------------------------------------

def _submission(session: Session, month: date) -> ReportSubmission:
    first = month_start(month)
    row = session.scalars(select(ReportSubmission).where(ReportSubmission.month == first)
                          ).first()
    return row or ReportSubmission(month=first)


def record_generated(session: Session, month: date, now: datetime,
                     actor: User | None = None) -> ReportSubmission:
    """Note that the monthly report of ``month`` was generated (first and last time) and
    commit. Called by ``flask report monthly``, the scheduler's kept files and the console
    download."""
    row = _submission(session, month)
    row.generated_at = row.generated_at or now
    row.last_generated_at = now
    _commit(session, row, actor, "report.generated", month=row.month.isoformat())
    return row


def mark_submitted(session: Session, actor: User | None, month: date, now: datetime, *,
                   submitted_at: datetime | None = None, note: str = "") -> ReportSubmission:
    """Mark the report of ``month`` submitted (at ``submitted_at``, default now; an officer
    may record a past submission) and commit. Refused before the month began or in the
    future."""
    row = _submission(session, month)
    when = submitted_at or now
    if when.date() < row.month or when > now:
        raise RecordRefused("submitted_at")
    row.submitted_at, row.note = when, _text(note)
    row.submitted_by_id = actor.id if actor else None
    _commit(session, row, actor, "report.submitted", month=row.month.isoformat())
    return row


def unmark_submitted(session: Session, actor: User | None, month: date) -> ReportSubmission:
    """Undo a submission marked by mistake, and commit."""
    row = _submission(session, month)
    row.submitted_at, row.submitted_by_id = None, None
    _commit(session, row, actor, "report.unsubmitted", month=row.month.isoformat())
    return row


def list_submissions(session: Session) -> list[ReportSubmission]:
    return list(session.scalars(select(ReportSubmission)
                                .order_by(ReportSubmission.month.desc())))


def due_date(month: date, due_day: int) -> date:
    """The day by which the report of ``month`` is due: ``due_day`` of the next month."""
    return month_start(month, -1).replace(day=due_day)


# --- lessons learned --------------------------------------------------------------------------

LESSON_FIELDS = ("title", "description", "recommendation", "status", "case_id", "category",
                 "project_id")


def save_lesson(session: Session, actor: User | None, lesson: LessonLearned | None,
                values: Mapping[str, Any], now: datetime) -> LessonLearned:
    """Create or change a lesson learned and commit."""
    cleaned = _lesson_values(session, lesson, values)
    created = lesson is None
    lesson = lesson or LessonLearned(created_at=now, created_by_id=actor.id if actor else None)
    changed = _apply(lesson, cleaned)
    lesson.updated_at = now
    _commit(session, lesson, actor, "lesson.created" if created else "lesson.updated",
            fields=changed, status=lesson.status)
    return lesson


def _lesson_values(session: Session, lesson: LessonLearned | None,
                   values: Mapping[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    if "title" in values or lesson is None:
        cleaned["title"] = _text(values.get("title"), MAX_NAME, required=True)
    for name in ("description", "recommendation"):
        if name in values:
            cleaned[name] = _text(values[name])
    if "status" in values:
        if values["status"] not in LESSON_STATUSES:
            raise RecordRefused("status")
        cleaned["status"] = str(values["status"])
    if "case_id" in values:
        cleaned["case_id"] = _existing(session, Case, values["case_id"])
    if "category" in values:
        cleaned["category"] = _text(values["category"], 64) or None
    if "project_id" in values:
        cleaned["project_id"] = _existing(session, Project, values["project_id"])
    return cleaned


def get_lesson(session: Session, lesson_id: int) -> LessonLearned | None:
    return session.get(LessonLearned, lesson_id)


def list_lessons(session: Session, *, begin: datetime | None = None,
                 finish: datetime | None = None, status: str | None = None,
                 project_id: int | None = None) -> list[LessonLearned]:
    """Lessons recorded in [``begin``, ``finish``), newest first."""
    query = select(LessonLearned).order_by(LessonLearned.created_at.desc(),
                                           LessonLearned.id.desc())
    if begin is not None:
        query = query.where(LessonLearned.created_at >= begin)
    if finish is not None:
        query = query.where(LessonLearned.created_at < finish)
    if status:
        query = query.where(LessonLearned.status == status)
    if project_id is not None:
        query = query.where(LessonLearned.project_id == project_id)
    return list(session.scalars(query))
