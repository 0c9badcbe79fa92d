"""Read-only programme records (casework.programme): projects, lessons learned, trainings,
awareness sessions and surveys, the report submission log and channel availability.

Who: every role but focal points (they see only the cases referred to them). A lesson linked
to a sensitive case gives its reference only to the PSEA role.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, g, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel

from admin.api import bp
from admin.api.openapi import Operation, Parameter, operation
from admin.api.schemas import (
    AwarenessSessionList,
    AwarenessSurveyList,
    ChannelAvailabilityList,
    LessonList,
    ProjectList,
    ReportSubmissionList,
    TrainingList,
)
from casework import programme
from casework.models import LessonLearned, LessonStatus, Project, Role, utcnow
from casework.reports import local_midnight
from casework.text import ascii_digits
from extensions import db
from services import services

RECORD_ROLES = (Role.ADMIN, Role.OFFICER, Role.PSEA, Role.VIEWER)
DATE = {"type": "string", "format": "date"}
PERIOD = (Parameter("from", "query", DATE, "First day (YYYY-MM-DD), local time"),
          Parameter("to", "query", DATE, "Last day, included"))
ERRORS = (400, 401, 403, 429)
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)


def _allowed() -> None:
    if g.user.role not in RECORD_ROLES:
        abort(403)


def _period() -> tuple[date | None, date | None] | None:
    """The days asked for (either end may be open); None when they hold no day at all."""
    start, end = _date("from"), _date("to")
    return None if start and end and end < start else (start, end)


def _date(name: str) -> date | None:
    value = ascii_digits(request.args.get(name, "")).strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        abort(400, description=f"'{name}' must be a date as YYYY-MM-DD")
    return min(max(day, EARLIEST), LATEST)  # no record lies beyond; keeps the arithmetic safe


def _reply(model: type[BaseModel], items: list[dict[str, Any]]) -> ResponseReturnValue:
    return jsonify(model(items=items).model_dump(mode="json"))  # type: ignore[call-arg]


@operation(bp, Operation("GET", "/projects", "list_projects", "Projects, by name",
                         response=ProjectList, errors=ERRORS, parameters=(
                             Parameter("from", "query", DATE, "Only projects running on some "
                                       "day from this one"),
                             Parameter("to", "query", DATE, "... to this one"))))
def list_projects() -> ResponseReturnValue:
    _allowed()
    period = _period()
    if period is None:
        return _reply(ProjectList, [])
    start, end = period
    return _reply(ProjectList, [_project(item) for item in programme.list_projects(
        db.session, active_from=start, active_to=end)])


def _project(project: Project) -> dict[str, Any]:
    return {
        "id": project.id, "name": project.name, "donor": project.donor,
        "locations": project.locations or [], "start_date": project.start_date,
        "end_date": project.end_date, "team": project.team,
        "has_strategy": project.has_strategy,
        "strategy_document": project.strategy_storage_key is not None,
        "focal_point": (project.focal_point.name or None) if project.focal_point else None,
        "created_at": project.created_at, "updated_at": project.updated_at}


@operation(bp, Operation("GET", "/lessons", "list_lessons",
                         "Lessons learned, newest first", response=LessonList, errors=ERRORS,
                         parameters=(*PERIOD, Parameter(
                             "status", "query",
                             {"type": "string", "enum": [str(item) for item in LessonStatus]},
                             "Only lessons with this status"))))
def list_lessons() -> ResponseReturnValue:
    _allowed()
    status = (request.args.get("status") or "").strip() or None
    if status is not None and status not in programme.LESSON_STATUSES:
        abort(400, description="'status' must be open, in_progress or done")
    period = _period()
    if period is None:
        return _reply(LessonList, [])
    start, end = period
    tz = ZoneInfo(services().settings.sawti_timezone)
    lessons = programme.list_lessons(
        db.session, status=status, begin=local_midnight(start, tz) if start else None,
        finish=local_midnight(end + timedelta(days=1), tz) if end else None)
    return _reply(LessonList, [_lesson(item) for item in lessons])


def _lesson(lesson: LessonLearned) -> dict[str, Any]:
    case = lesson.case
    shown = case is not None and (not case.sensitive or g.user.role == Role.PSEA)
    return {
        "id": lesson.id, "title": lesson.title, "description": lesson.description,
        "recommendation": lesson.recommendation, "status": lesson.status,
        "case_reference": case.reference if shown and case is not None else None,
        "category": lesson.category, "project_id": lesson.project_id,
        "created_at": lesson.created_at, "updated_at": lesson.updated_at}


@operation(bp, Operation("GET", "/trainings", "list_trainings",
                         "Trainings on accountability and the CRM, newest first",
                         response=TrainingList, errors=ERRORS, parameters=PERIOD))
def list_trainings() -> ResponseReturnValue:
    _allowed()
    period = _period()
    if period is None:
        return _reply(TrainingList, [])
    start, end = period
    return _reply(TrainingList, [{
        "id": item.id, "held_on": item.held_on, "location": item.location,
        "title": item.title, "topics": item.topics or [],
        "participants": [{"organisation": row.organisation, "own_staff": row.own_staff,
                          "count": row.count} for row in item.participants],
        "participant_count": item.participant_count,
    } for item in programme.list_trainings(db.session, start=start, end=end)])


@operation(bp, Operation("GET", "/awareness-sessions", "list_awareness_sessions",
                         "Awareness sessions in communities, newest first",
                         response=AwarenessSessionList, errors=ERRORS, parameters=PERIOD))
def list_awareness_sessions() -> ResponseReturnValue:
    _allowed()
    period = _period()
    if period is None:
        return _reply(AwarenessSessionList, [])
    start, end = period
    return _reply(AwarenessSessionList, [{
        "id": item.id, "held_on": item.held_on, "location": item.location,
        "project_id": item.project_id, "women": item.women, "men": item.men,
        "girls": item.girls, "boys": item.boys, "participants": item.participants,
        "channels_promoted": item.channels_promoted or [], "materials": item.materials or [],
    } for item in programme.list_awareness_sessions(db.session, start=start, end=end)])


@operation(bp, Operation("GET", "/awareness-surveys", "list_awareness_surveys",
                         "Awareness survey results (by the end of their period), newest first",
                         response=AwarenessSurveyList, errors=ERRORS, parameters=PERIOD))
def list_awareness_surveys() -> ResponseReturnValue:
    _allowed()
    period = _period()
    if period is None:
        return _reply(AwarenessSurveyList, [])
    start, end = period
    return _reply(AwarenessSurveyList, [{
        "id": item.id, "location": item.location, "period_start": item.period_start,
        "period_end": item.period_end, "project_id": item.project_id,
        "interviewed": item.interviewed, "aware": item.aware, "know_how": item.know_how,
        "preferred_channels": item.preferred_channels or {},
    } for item in programme.list_surveys(db.session, start=start, end=end)])


@operation(bp, Operation("GET", "/report-submissions", "list_report_submissions",
                         "When each monthly CRM report was generated and submitted",
                         response=ReportSubmissionList, errors=(401, 403, 429)))
def list_report_submissions() -> ResponseReturnValue:
    _allowed()
    settings = services().settings
    today = utcnow().astimezone(ZoneInfo(settings.sawti_timezone)).date()
    items = []
    for row in programme.list_submissions(db.session):
        due = programme.due_date(row.month, settings.sawti_report_due_day)
        submitted = row.submitted_at.astimezone(ZoneInfo(settings.sawti_timezone)).date() \
            if row.submitted_at else None
        on_time = submitted <= due if submitted else (False if today > due else None)
        items.append({"month": row.month.strftime("%Y-%m"), "generated_at": row.generated_at,
                      "last_generated_at": row.last_generated_at,
                      "submitted_at": row.submitted_at, "due": due, "on_time": on_time})
    return _reply(ReportSubmissionList, items)


@operation(bp, Operation("GET", "/channel-availability", "list_channel_availability",
                         "Channels promoted and working in each governorate (derived from "
                         "configuration and the last 90 days of cases, with corrections)",
                         response=ChannelAvailabilityList, errors=(401, 403, 429)))
def list_channel_availability() -> ResponseReturnValue:
    _allowed()
    view = programme.channel_availability(
        db.session, configured=programme.configured_channels(services().settings),
        locations=[place.code for place in services().org_data.governorates], now=utcnow())
    return _reply(ChannelAvailabilityList, [{
        "location": state.location, "channel": state.channel, "configured": state.configured,
        "cases_90_days": state.cases, "promoted": state.promoted, "working": state.working,
        "corrected": state.promoted_override is not None or state.working_override is not None,
        "note": state.note,
    } for states in view.values() for state in states])
