"""Case endpoints: cases addressed by reference, with the console's authorisation rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import TypeVar

from flask import abort, g, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel
from sqlalchemy import select

from admin.api import bp
from admin.api.openapi import (
    QUERY_TEXT,
    REFERENCE,
    Operation,
    Parameter,
    document,
    operation,
)
from admin.api.schemas import (
    CaseDetail,
    CaseList,
    CaseSummary,
    CloseIn,
    Created,
    NoteIn,
    ReferralIn,
    ReplyIn,
    ReplyOut,
    TimelineEntry,
    TriageIn,
)
from casework import cases, intake
from casework.access import CONTENT_ROLES, Action, can, can_list
from casework.accounts import find_user
from casework.models import Case, CaseStatus, Direction, utcnow
from casework.queue import QueueFilters, latest_ids
from casework.replies import ReplyRefused, queue_reply
from casework.text import ascii_digits
from extensions import db
from services import services

Body = TypeVar("Body", bound=BaseModel)
Result = TypeVar("Result")
CURSOR_DIGITS = 9  # ids are 32-bit integers on PostgreSQL: a longer one is no cursor
# Refusals that are about the case's state rather than the request's content.
STATE_CONFLICTS = {"already_closed", "already_answered", "already_merged", "not_closed", "closed",
                   "unread_message"}


@bp.get("/openapi.json", endpoint="openapi")
def openapi() -> ResponseReturnValue:
    return jsonify(document())


@operation(bp, Operation("GET", "/cases/{reference}", "get_case",
                         "A case with its timeline", response=CaseDetail,
                         parameters=(REFERENCE,), errors=(401, 403, 404, 429)))
def get_case(reference: str) -> ResponseReturnValue:
    case = visible_case(reference)
    if not can(g.user, Action.VIEW, case):
        return jsonify(summary(case).model_dump(mode="json"))
    return jsonify(detail(case).model_dump(mode="json"))


@operation(bp, Operation("POST", "/cases/{reference}/replies", "reply_to_case",
                         "Queue a reply to the person, on the case's channel",
                         response=ReplyOut, status=202, body=ReplyIn, parameters=(REFERENCE,),
                         errors=(400, 401, 403, 404, 409, 413, 422, 429)))
def reply_to_case(reference: str) -> ResponseReturnValue:
    case = allowed_case(reference, Action.REPLY)
    body = parse(ReplyIn)
    try:
        message = queue_reply(db.session, case, body.body, actor=actor(), now=utcnow())
    except ReplyRefused as refused:
        status = 422 if refused.reason in ("empty", "too_long", "too_long_for_channel") else 409
        abort(status, description=f"{refused.reason}: {refused}")
    adapter = services().adapters.get(case.channel)
    window_open = adapter is None or adapter.freeform_allowed(
        case.channel, case.contact.last_inbound_at if case.contact else None, utcnow())
    out = ReplyOut(message_id=message.id, status=message.status, deliverable_now=window_open,
                   reason=None if window_open else "whatsapp_window")
    return jsonify(out.model_dump(mode="json")), 202


# --- helpers shared by the case endpoints ---------------------------------------------------

def visible_case(reference: str) -> Case:
    """The case if this token's user may see it listed; 404 otherwise (no existence leak)."""
    case = intake.find_case(db.session, ascii_digits(reference))
    if case is None or not can_list(g.user, case):
        abort(404, description="No case with this reference is visible to you.")
    return case


def allowed_case(reference: str, action: Action) -> Case:
    case = visible_case(reference)
    if not can(g.user, action, case):
        abort(403, description=f"Your role may not {action.value.replace('_', ' ')} this case.")
    return case


def parse(model: type[Body]) -> Body:
    if not request.is_json:
        abort(415 if request.data else 400,
              description="Send a JSON object with Content-Type: application/json.")
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        abort(400, description="The body must be a JSON object.")
    return model.model_validate(payload)


def actor() -> str:
    return f"{g.user.email} (token {g.token.id})"


def summary(case: Case) -> CaseSummary:
    restricted = not can(g.user, Action.VIEW, case)
    return CaseSummary(
        reference=case.reference, status=case.status, channel=case.channel, level=case.level,
        sensitive=case.sensitive, urgent=case.urgent,
        category=None if restricted else case.category,
        location=None if restricted else case.location,
        created_at=case.created_at, due_at=case.due_at, closed_at=case.closed_at,
        overdue=case.status != CaseStatus.CLOSED and case.due_at < utcnow(),
        restricted=restricted,
    )


def detail(case: Case) -> CaseDetail:
    return CaseDetail(**summary(case).model_dump(), project=case.project,
                      project_id=case.project_id, gender=case.gender,
                      age_group=case.age_group, resolution=_resolution(case),
                      timeline=timeline(case),
                      latest_message_id=cases.latest_inbound_id(db.session, case))


def _resolution(case: Case) -> str | None:
    """Staff's words; for a merge, an automatic answer or a missed call whose person was
    reached later, a sentence in English, as the API speaks (and as Sawti once stored them)."""
    found = cases.resolution(db.session, case)
    if found is None:
        return None  # open (a reopened case's earlier resolution is a note on it)
    if found.written:
        return found.written
    if found.merged_into is not None:
        return f"Merged into {found.merged_into.reference}"
    if found.answered_automatically:
        code = f" ({found.entry.code})" if found.entry is not None else ""
        return f"Answered automatically by the information line{code}"
    if found.caller_reached:
        return "The person was reached on a later call-back"
    return None


def timeline(case: Case) -> list[TimelineEntry]:
    """The console's timeline (casework.cases.timeline), as API entries."""
    return [_entry(entry) for entry in cases.timeline(db.session, case)]


def _entry(entry: cases.Entry) -> TimelineEntry:
    item = entry.item
    if entry.kind == "message":
        return TimelineEntry(at=entry.at, kind="message", channel=item.channel,
                             direction="in" if item.direction == Direction.INBOUND else "out",
                             body=item.body, status=item.status,
                             detail=item.hold_reason or item.last_error, actor=entry.actor)
    if entry.kind == "note":
        return TimelineEntry(at=entry.at, kind="note", body=item.body, actor=entry.actor)
    if entry.kind == "referral":
        return TimelineEntry(at=entry.at, kind="referral", body=item.message,
                             detail=item.to_user.email, actor=entry.actor)
    if entry.kind == "answer":
        return TimelineEntry(at=entry.at, kind="referral_answer", body=item.answer,
                             actor=entry.actor)
    return TimelineEntry(at=entry.at, kind="event", detail=item.action, actor=entry.actor)


# --- list and actions ------------------------------------------------------------------------

LIST_PARAMETERS = (
    Parameter("status", "query", {"type": "string", "enum": [s.value for s in CaseStatus]}),
    Parameter("level", "query", {"type": "integer", "minimum": 0, "maximum": 99}),
    Parameter("channel", "query", QUERY_TEXT),
    Parameter("location", "query", QUERY_TEXT,
              "A governorate or district code; a governorate includes its districts"),
    Parameter("overdue", "query", {"type": "boolean"}),
    Parameter("q", "query", QUERY_TEXT,
              "Search in messages (Arabic spelling variants match) or a reference"),
    Parameter("cursor", "query", {"type": "string", "pattern": "^[0-9]{1,9}$"},
              "next_cursor of the previous page"),
    Parameter("limit", "query", {"type": "integer", "minimum": 1, "maximum": 200}),
)


@operation(bp, Operation("GET", "/cases", "list_cases", "Cases visible to the token's user, "
                         "newest first (stable cursor pagination)", response=CaseList,
                         parameters=LIST_PARAMETERS, errors=(400, 401, 403, 429)))
def list_cases() -> ResponseReturnValue:
    if g.user.role not in CONTENT_ROLES:
        abort(403, description="Your role reads aggregate reports only (/reports/kpis).")
    cursor, limit = _cursor(), _int_arg("limit", 50, 1, 200)
    ids = latest_ids(db.session, g.user, _list_filters(), below=cursor, limit=limit + 1)
    found = list(db.session.scalars(select(Case).where(Case.id.in_(ids))
                                    .order_by(Case.id.desc())))
    page, more = found[:limit], len(found) > limit
    next_cursor = _encode_cursor(page[-1].id) if more and page else None
    body = CaseList(items=[summary(case) for case in page], next_cursor=next_cursor)
    return jsonify(body.model_dump(mode="json"))


@operation(bp, Operation("PATCH", "/cases/{reference}", "triage_case",
                         "Triage: level (grid), category, location, project, gender, age "
                         "group, urgent", response=CaseDetail, body=TriageIn,
                         parameters=(REFERENCE,), errors=(400, 401, 403, 404, 413, 422, 429)))
def triage_case(reference: str) -> ResponseReturnValue:
    case = allowed_case(reference, Action.TRIAGE)
    values = parse(TriageIn).model_dump(exclude_unset=True)
    _refusing(lambda: cases.triage(db.session, g.user, case, values, utcnow(),
                                   org_data=services().org_data))
    return jsonify(detail(case).model_dump(mode="json"))


@operation(bp, Operation("POST", "/cases/{reference}/notes", "add_note",
                         "Add an internal note (never sent to the person)", response=Created,
                         status=201, body=NoteIn, parameters=(REFERENCE,)))
def add_note(reference: str) -> ResponseReturnValue:
    case = allowed_case(reference, Action.NOTE)
    body = parse(NoteIn)
    note = _refusing(lambda: cases.add_note(db.session, g.user, case, body.body, utcnow()))
    return jsonify(Created(id=note.id).model_dump()), 201


@operation(bp, Operation("POST", "/cases/{reference}/referrals", "refer_case",
                         "Refer the case to a focal point with a due date", response=Created,
                         status=201, body=ReferralIn, parameters=(REFERENCE,)))
def refer_case(reference: str) -> ResponseReturnValue:
    case = allowed_case(reference, Action.REFER)
    body = parse(ReferralIn)
    to_user = find_user(db.session, body.to)
    due = datetime.combine(body.due_on, time(23, 59), tzinfo=UTC)
    referral = _refusing(lambda: cases.refer(db.session, g.user, case, to_user, due,
                                             body.message, utcnow()))
    return jsonify(Created(id=referral.id).model_dump()), 201


@operation(bp, Operation("POST", "/cases/{reference}/close", "close_case",
                         "Close with the resolution given to the person", response=CaseDetail,
                         body=CloseIn, parameters=(REFERENCE,),
                         errors=(400, 401, 403, 404, 409, 413, 422, 429)))
def close_case(reference: str) -> ResponseReturnValue:
    case = allowed_case(reference, Action.CLOSE)
    body = parse(CloseIn)
    _refusing(lambda: cases.close(db.session, g.user, case, body.resolution, utcnow(),
                                  seen_message_id=body.seen_message_id))
    return jsonify(detail(case).model_dump(mode="json"))


@operation(bp, Operation("POST", "/cases/{reference}/reopen", "reopen_case",
                         "Reopen a closed case", response=CaseDetail, parameters=(REFERENCE,),
                         errors=(401, 403, 404, 409, 429)))
def reopen_case(reference: str) -> ResponseReturnValue:
    case = allowed_case(reference, Action.REOPEN)
    _refusing(lambda: cases.reopen(db.session, g.user, case, utcnow()))
    return jsonify(detail(case).model_dump(mode="json"))


def _refusing(action: Callable[[], Result]) -> Result:
    """Run a casework service; its refusal becomes 409 (state) or 422 (input)."""
    try:
        return action()
    except cases.CaseActionRefused as refused:
        status = 409 if refused.reason in STATE_CONFLICTS else 422
        abort(status, description=f"{refused.reason}: {refused}")


def _list_filters() -> QueueFilters:
    status = request.args.get("status")
    if status is not None and status not in set(CaseStatus):
        abort(400, description="'status' must be one of new, open, referred, closed")
    overdue = request.args.get("overdue")
    if overdue not in (None, "true", "false"):
        abort(400, description="'overdue' must be true or false")
    return QueueFilters(
        status=CaseStatus(status) if status else None,
        level=_int_arg("level", None, 0, 99),
        channel=request.args.get("channel") or None,
        location=request.args.get("location") or None,
        overdue=None if overdue is None else overdue == "true",
        text=request.args.get("q") or None,
    )


def _int_arg(name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return default
    value = ascii_digits(raw)
    if not value.isdigit() or not low <= int(value) <= high:
        abort(400, description=f"'{name}' must be a whole number from {low} to {high}")
    return int(value)


def _cursor() -> int | None:
    """Keyset pagination: the cursor is the id of the last case given (newest first)."""
    raw = request.args.get("cursor")
    if raw is None:
        return None
    value = ascii_digits(raw)
    if not value.isdigit() or len(value) > CURSOR_DIGITS:
        abort(400, description="'cursor' is not a cursor this API gave out")
    return int(value)


def _encode_cursor(case_id: int) -> str:
    return str(case_id)
