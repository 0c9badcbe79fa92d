"""Console: enter a case received outside the channels (field visit, complaint box, colleague,
staffed phone line). The domain rules are in ``casework.manual``."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional

from admin import bp
from admin.documents import case_path
from admin.forms import max_length, organisation_today
from admin.security import roles_required
from casework.access import Action, can
from casework.manual import (
    MAX_TEXT_LENGTH,
    EntryRefused,
    enter_case,
    parse_date,
    parse_phone,
)
from casework.models import Case, Role, User, utcnow
from extensions import db
from services import services

RECEIVED_BY_CHOICES = [
    SelectChoice("in_person", _l("In person (field visit, distribution, help desk)")),
    SelectChoice("box", _l("Complaint box")),
    SelectChoice("staff", _l("Through a colleague")),
    SelectChoice("phone", _l("Staffed phone line")),
]


def _refusal_messages() -> dict[str, str]:
    return {
        "received_by": _("Choose how the complaint was received."),
        "future_date": _("The date received cannot be in the future."),
        "empty": _("Write the complaint."),
        "too_long": _("The complaint is too long."),
        "location": _("Choose a location from the list."),
        "phone": _("Enter the phone number in international form, for example +963 9…"),
        "consent_without_phone": _("Give the phone number the person agreed to be contacted on, "
                                   "or untick the agreement."),
    }


# The field each refusal of casework.manual is about.
REFUSAL_FIELDS = {"received_by": "received_by", "future_date": "received_on", "empty": "text",
                  "too_long": "text", "location": "location", "phone": "phone",
                  "consent_without_phone": "consent"}


class EntryForm(FlaskForm):
    received_by = SelectField(_l("How the complaint was received"), choices=RECEIVED_BY_CHOICES,
                              validators=[DataRequired()])
    # A native date input, like the console's other dates. A browser without a date picker
    # sends what was typed: parse_date also reads Arabic-Indic digits and DD/MM/YYYY.
    received_on = StringField(_l("Date received"), render_kw={"type": "date"},
                              validators=[DataRequired(), max_length(20)])
    text = TextAreaField(_l("The complaint, as the person gave it"),
                         validators=[DataRequired(), max_length(MAX_TEXT_LENGTH)])
    location = SelectField(_l("Location"), choices=[], validate_choice=True, default="")
    phone = StringField(_l("Phone number"), validators=[Optional(), max_length(40)])
    consent = BooleanField(_l("The person agreed to be contacted on this number"))

    def validate_received_on(self, field: StringField) -> None:
        day = parse_date(field.data)
        if day is None:
            raise ValidationError(_("Enter the date as YYYY-MM-DD, for example 2025-03-31."))
        if day > organisation_today():
            raise ValidationError(_refusal_messages()["future_date"])
        field.data = day.isoformat()  # what a date input shows when the form comes back

    def validate_phone(self, field: StringField) -> None:
        if field.data and field.data.strip() and parse_phone(field.data) is None:
            raise ValidationError(_refusal_messages()["phone"])

    def validate_consent(self, field: BooleanField) -> None:
        if field.data and not (self.phone.data or "").strip():
            raise ValidationError(_refusal_messages()["consent_without_phone"])


@bp.route("/cases/new", methods=["GET", "POST"])
@roles_required(Role.OFFICER, Role.PSEA)
def new_case() -> ResponseReturnValue:
    form = EntryForm()
    form.location.choices = _location_choices(g.user)
    if request.method == "GET":
        form.received_on.data = organisation_today().isoformat()
    if form.validate_on_submit():
        location = form.location.data or None
        if not _may_work_on(g.user, location):
            abort(403)
        phone = (form.phone.data or "").strip() or None
        try:
            case = enter_case(
                db.session, g.user, received_by=form.received_by.data or "",
                received_on=parse_date(form.received_on.data),  # type: ignore[arg-type]
                text=form.text.data or "", location=location, phone=phone,
                consent=bool(form.consent.data), vault=services().vault,
                org_data=services().org_data, timezone=services().settings.sawti_timezone,
                now=utcnow(), lexicon=services().dialogue.triage,
            )
        except EntryRefused as refused:
            db.session.rollback()
            message = _refusal_messages().get(refused.reason, _("The case was not entered."))
            field = form[REFUSAL_FIELDS[refused.reason]] \
                if refused.reason in REFUSAL_FIELDS else None
            if field is not None:  # under the field it is about, like a validation error
                field.errors = [*field.errors, message]
            else:
                flash(message, "error")
        else:
            db.session.commit()
            flash(_("Case %(reference)s was entered.", reference=case.reference), "info")
            if phone and not form.consent.data:
                flash(_("The phone number was not kept: the person did not agree to be "
                        "contacted."), "info")
            elif case.contact is not None and case.contact.opted_out:
                flash(_("This number had opted out of messages: nothing is sent to it until "
                        "the person writes again."), "error")
            return redirect(case_path(case.reference))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/new_case.html", form=form,
                           today=organisation_today().isoformat()), status


def _may_work_on(user: User, location: str | None) -> bool:
    """Whether the user could open a case entered with this location (the access rules)."""
    return can(user, Action.VIEW, Case(location=location, sensitive=user.role == Role.PSEA))


def _location_choices(user: User) -> list[SelectChoice]:
    """The locations this user works on, districts grouped under their governorate."""
    language = str(get_locale() or "ar")
    choices = [SelectChoice("", _("Not known"))]
    for governorate in services().org_data.governorates:
        group = governorate.name(language)
        options = [SelectChoice(governorate.code, _("%(governorate)s (whole governorate)",
                                                    governorate=group), optgroup=group)]
        options += [SelectChoice(district.code, district.name(language), optgroup=group)
                    for district in governorate.districts]
        choices += [option for option in options if _may_work_on(user, option.value)]
    return choices
