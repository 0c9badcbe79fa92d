"""Console: "erase this person", for administrators, on the person's request.

Administrators never open case content (``casework.access``), so the action has its own page:
the person (or whoever acts for them) gives a case reference; the page shows only the case
skeleton and how much would be erased, and the administrator confirms with a reason code and
by typing the reference again. What is erased and what is kept: ``casework.retention``.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, SelectField, StringField

from admin import bp
from admin.queue import STATUS_LABELS
from admin.security import roles_required
from casework import intake, retention
from casework.channel_names import channel_name
from casework.manual import staff_actor
from casework.models import Case, Role, utcnow
from casework.references import is_valid_reference
from casework.text import ascii_digits
from extensions import db
from services import services

REASON_LABELS = {
    "person_request": _l("The person asked to be erased"),
    "representative_request": _l("Someone entitled to act for the person asked"),
    "safety_risk": _l("Keeping the data puts the person at risk"),
}


class LookupForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form that changes nothing

    reference = StringField(_l("Case reference"))


class EraseForm(FlaskForm):
    reason = SelectField(_l("Reason"), validate_choice=False)
    confirm = StringField(_l("Type the case reference again to confirm"))


@bp.get("/erasure")
@roles_required(Role.ADMIN)
def erasure() -> ResponseReturnValue:
    lookup = LookupForm(formdata=request.args)
    typed = lookup.reference.data or ""
    case = _case(typed) if typed else None
    if typed and case is None:
        lookup.reference.errors = [_("No case has this reference.")]
    return _page(case, EraseForm(), lookup=lookup)


@bp.post("/erasure/<reference>")
@roles_required(Role.ADMIN)
def erase(reference: str) -> ResponseReturnValue:
    case = _case(reference) or abort(404, description=_("No case has this reference."))
    form = EraseForm()
    if not form.validate_on_submit():
        abort(400)
    problem = _problem(form, case)
    if problem:
        field, message = problem
        field.errors = [*field.errors, message]  # shown under the field it is about
        return _page(case, form, lookup=_looked_up(case)), 400
    svc = services()
    try:
        result = retention.erase_person(db.session, svc.attachment_store, svc.vault, case,
                                        actor=staff_actor(g.user), reason=form.reason.data,
                                        now=utcnow())
    except retention.ErasureRefused:
        flash(_("This case has no person to erase."), "error")
        return _page(case, form, lookup=_looked_up(case)), 409
    flash(_("Erased: %(messages)s message text(s) and %(attachments)s attachment(s) of "
            "%(cases)s case(s). The case records stay for statistics.",
            messages=result.messages, attachments=result.attachments, cases=result.cases),
          "info")
    return redirect(url_for("admin.erasure", reference=case.reference))


def _problem(form: EraseForm, case: Case) -> tuple[Field, str] | None:
    """The field that stops the erasure, and what is wrong with it."""
    if form.reason.data not in retention.ERASURE_REASONS:
        return form.reason, _("Choose the reason for the erasure.")
    if ascii_digits(form.confirm.data or "").strip() != case.reference:
        return form.confirm, _("Type the case reference again to confirm.")
    return None


def _case(reference: str) -> Case | None:
    reference = ascii_digits(reference).strip()
    if not is_valid_reference(reference):
        return None
    return intake.find_case(db.session, reference)


def _looked_up(case: Case) -> LookupForm:
    """The look-up form as it was filled to find ``case``."""
    return LookupForm(formdata=None, reference=case.reference)


def _page(case: Case | None, form: EraseForm, *, lookup: LookupForm) -> ResponseReturnValue:
    form.reason.choices = [("", _("Choose…"))] + [
        (code, str(REASON_LABELS[code])) for code in retention.ERASURE_REASONS]
    plan = retention.plan_erasure(db.session, services().vault, case) if case else None
    return render_template("admin/erasure.html", case=case, plan=plan, form=form, lookup=lookup,
                           facts=_facts(case) if case else None)


def _facts(case: Case) -> dict[str, str]:
    """The case skeleton as the administrator reads it: names, and the local day it opened."""
    zone = ZoneInfo(services().settings.sawti_timezone)
    return {"opened": case.created_at.astimezone(zone).date().isoformat(),
            "channel": channel_name(case.channel, _),
            "status": str(STATUS_LABELS.get(case.status, case.status))}
