"""Case endpoints: cases addressed by reference, with the console's authorisation rules."""

from __future__ import annotations

from typing import TypeVar

from flask import abort, g, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel

from admin.api import bp
from admin.api.openapi import REFERENCE, Operation, document, operation
from admin.api.schemas import CaseDetail, CaseSummary, ReplyIn, ReplyOut, TimelineEntry
from casework import intake
from casework.access import Action, can, can_list
from casework.models import Case, CaseStatus, Direction, utcnow
from casework.replies import ReplyRefused, queue_reply
from casework.text import ascii_digits
from extensions import db
from services import services

Body = TypeVar("Body", bound=BaseModel)


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
        status = 422 if refused.reason in ("empty", "too_long") else 409
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
    return CaseDetail(**summary(case).model_dump(), project=case.project, gender=case.gender,
                      age_group=case.age_group, resolution=case.resolution,
                      timeline=timeline(case))


def timeline(case: Case) -> list[TimelineEntry]:
    entries = [
        TimelineEntry(at=m.received_at or m.created_at, kind="message", channel=m.channel,
                      direction="in" if m.direction == Direction.INBOUND else "out",
                      body=m.body, status=m.status, detail=m.hold_reason or m.last_error)
        for m in case.messages
    ]
    entries += [TimelineEntry(at=n.created_at, kind="note", body=n.body,
                              actor=n.author.email if n.author else None) for n in case.notes]
    for referral in case.referrals:
        entries.append(TimelineEntry(at=referral.created_at, kind="referral",
                                     body=referral.message, actor=referral.to_user.email))
        if referral.answered_at:
            entries.append(TimelineEntry(at=referral.answered_at, kind="referral_answer",
                                         body=referral.answer, actor=referral.to_user.email))
    return sorted(entries, key=lambda entry: entry.at)
