"""Console: the audit log, for administrators. Read-only: there is no route that edits or
deletes an event. Filters: action, actor, case reference, date range (in the organisation's
time zone); 50 events a page, newest first."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Any

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import selectinload
from wtforms import SelectField, StringField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from admin import bp
from admin.audit_labels import ACTOR_LABELS, action_label, actor_label, detail_lines
from admin.forms import max_length
from admin.security import roles_required
from casework.accounts import normalize_email
from casework.manual import parse_date, staff_actor, start_of_day
from casework.models import AuditEvent, Case, Role, User
from casework.text import ascii_digits
from extensions import db
from services import services

PAGE_SIZE = 50
_USER_ACTOR = re.compile(r"user:(\d+)")


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form that changes nothing

    action = SelectField(_l("Action"), choices=[], validate_choice=True, default="")
    actor = StringField(_l("Actor (email, or as shown in the log)"),
                        validators=[Optional(), max_length(255)])
    case = StringField(_l("Case reference"), validators=[Optional(), max_length(20)])
    date_from = StringField(_l("From (YYYY-MM-DD)"), validators=[Optional(), max_length(20)])
    date_to = StringField(_l("To (YYYY-MM-DD)"), validators=[Optional(), max_length(20)])

    def validate_date_from(self, field: StringField) -> None:
        _check_date(field)

    def validate_date_to(self, field: StringField) -> None:
        _check_date(field)
        start, end = parse_date(self.date_from.data), parse_date(field.data)
        if start and end and end < start:
            raise ValidationError(_("The end date is before the start date."))


def _check_date(field: StringField) -> None:
    if field.data and field.data.strip() and parse_date(field.data) is None:
        raise ValidationError(_("Enter the date as YYYY-MM-DD, for example 2025-03-31."))


@bp.get("/audit")
@roles_required(Role.ADMIN)
def audit_log() -> ResponseReturnValue:
    form = AuditFilterForm(formdata=request.args)
    form.action.choices = [SelectChoice("", _("All actions"))] + [
        SelectChoice(action, action_label(action)) for action in _recorded_actions()
    ]
    if not form.validate():
        return render_template("admin/audit_log.html", form=form, rows=[], page=1, pages=1,
                               total=0, page_url=_page_url), 400
    conditions = _conditions(form)
    total = db.session.scalar(select(func.count(AuditEvent.id)).where(*conditions)) or 0
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    events = list(db.session.scalars(
        select(AuditEvent).where(*conditions).options(selectinload(AuditEvent.case))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ))
    return render_template("admin/audit_log.html", form=form, rows=_rows(events), page=page,
                           pages=pages, total=total, page_url=_page_url)


def _recorded_actions() -> list[str]:
    """The actions in the log, in the order of their labels in the reader's language."""
    actions = db.session.scalars(select(AuditEvent.action).distinct())
    return sorted(actions, key=lambda action: (action_label(action).casefold(), action))


def _conditions(form: AuditFilterForm) -> list[ColumnElement[bool]]:
    timezone = services().settings.sawti_timezone
    conditions: list[ColumnElement[bool]] = []
    if form.action.data:
        conditions.append(AuditEvent.action == form.action.data)
    actor = (form.actor.data or "").strip()
    if actor:
        conditions.append(AuditEvent.actor.in_(_actor_keys(actor)))
    reference = ascii_digits((form.case.data or "").strip()).replace(" ", "")
    if reference:
        conditions.append(AuditEvent.case_id.in_(
            select(Case.id).where(Case.reference == reference)))
    start, end = parse_date(form.date_from.data), parse_date(form.date_to.data)
    if start:
        conditions.append(AuditEvent.at >= start_of_day(start, timezone))
    if end:
        conditions.append(AuditEvent.at < start_of_day(end + timedelta(days=1), timezone))
    return conditions


def _actor_keys(actor: str) -> set[str]:
    """The stored spellings of an actor typed as shown: an email (any case), or the name of
    an actor that is not a user (as the log shows it, or its code: system, cli…)."""
    keys = {actor} | {code for code, label in ACTOR_LABELS.items()
                      if str(label).casefold() == actor.casefold()}
    user = db.session.scalars(
        select(User).where(User.email == normalize_email(actor))).first()
    if user is not None:
        keys |= {staff_actor(user), f"user:{user.id}"}
    return keys


def _rows(events: list[AuditEvent]) -> list[dict[str, Any]]:
    ids = {int(found.group(1)) for event in events
           if (found := _USER_ACTOR.fullmatch(event.actor))}
    users = {user.id: user for user in
             db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    rows = []
    for event in events:
        found = _USER_ACTOR.fullmatch(event.actor)
        user = users.get(int(found.group(1))) if found else None
        rows.append({
            "at": event.at,
            "actor": user.email if user else actor_label(event.actor),
            "action": event.action,
            "action_label": action_label(event.action),
            "reference": event.case.reference if event.case else "",
            "details": detail_lines(event.details),
        })
    return rows


def _page_url(page: int) -> str:
    filters = {key: value for key, value in request.args.items() if key != "page" and value}
    return url_for("admin.audit_log", **filters, page=page)

