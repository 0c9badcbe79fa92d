"""Console: canned responses, the agreed talking points officers start a reply from.

Administrators list, create, edit and deactivate them (a response in use is never deleted).
The only placeholder is ``%(reference)s``, filled with the case reference (``fill``); the text
is checked so that filling it can never fail.
"""

from __future__ import annotations

import re

from flask import abort, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms import BooleanField, StringField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, Optional

from admin import bp
from admin.forms import ConfirmForm, max_length
from admin.security import roles_required
from casework import audit
from casework.manual import staff_actor
from casework.models import CannedResponse, Role
from casework.replies import MAX_REPLY_LENGTH
from casework.text import clean_text
from extensions import db

PLACEHOLDER = "%(reference)s"
# Shown inside Arabic text, "%(reference)s" would read backwards («s(reference)%»): a
# left-to-right isolate keeps it in the order it must be typed.
SHOWN_PLACEHOLDER = f"\u2066{PLACEHOLDER}\u2069"
_NAMED = re.compile(r"%\(([^)]*)\)")
_ALLOWED = re.compile(r"%\(reference\)s|%%")
# {reference}, {{ref}}, {رقم}: another template language's placeholder, which would reach the
# person as typed.
_BRACED = re.compile(r"\{+[^{}\n]{1,40}\}+")


def placeholder_error(text: str) -> str | None:
    """Why the text cannot be filled in (an unknown placeholder, a stray %), or None."""
    braced = sorted(set(_BRACED.findall(text)))
    if braced:
        return _("Write the placeholder as %(placeholder)s in place of: %(names)s",
                 placeholder=SHOWN_PLACEHOLDER, names=" ".join(_isolated(name) for name in braced))
    unknown = sorted(set(_NAMED.findall(_ALLOWED.sub("", text))) - {"reference"})
    if unknown:
        return _("Only the placeholder %(placeholder)s can be used. Remove: %(names)s",
                 placeholder=SHOWN_PLACEHOLDER,
                 names=" ".join(_isolated(f"%({name})s") for name in unknown))
    if "%" in _ALLOWED.sub("", text):
        return _("Write the placeholder exactly as %(placeholder)s, and a percent sign as ٪ "
                 "or %(escaped)s.", placeholder=SHOWN_PLACEHOLDER, escaped=_isolated("%%"))
    return None


# In a right-to-left cell the stored placeholder reads backwards too: shown isolated.
_SHOWN_IN_TEXT = Markup('<bdi dir="ltr">%(reference)s</bdi>')


@bp.app_template_filter("placeholder_isolated")
def placeholder_isolated(text: str | None) -> Markup:
    """The text, escaped, with each %(reference)s kept left to right inside Arabic."""
    return _SHOWN_IN_TEXT.join(escape(part) for part in (text or "").split(PLACEHOLDER))


def _isolated(code: str) -> str:
    return f"\u2066{code}\u2069"


def fill(text: str, reference: str) -> str:
    """The text with the case reference in place of %(reference)s (and %% as %)."""
    return text % {"reference": reference}


def _placeholders_only(form: FlaskForm, field: TextAreaField) -> None:
    error = placeholder_error(field.data or "")
    if error:
        raise ValidationError(error)


class CannedForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), max_length(120)])
    body_ar = TextAreaField(_l("Text in Arabic"),
                            validators=[DataRequired(), max_length(MAX_REPLY_LENGTH),
                                        _placeholders_only])
    body_en = TextAreaField(_l("Text in English (optional)"),
                            validators=[Optional(), max_length(MAX_REPLY_LENGTH),
                                        _placeholders_only])


class EditCannedForm(CannedForm):
    active = BooleanField(_l("Active: offered to officers when they reply"))


@bp.route("/canned", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def canned_responses() -> ResponseReturnValue:
    form = CannedForm()
    if form.validate_on_submit():
        item = CannedResponse(title=clean_text(form.title.data),
                              body_ar=clean_text(form.body_ar.data),
                              body_en=clean_text(form.body_en.data), active=True)
        db.session.add(item)
        db.session.flush()
        audit.record(db.session, "canned.created", actor=staff_actor(g.user), canned_id=item.id)
        db.session.commit()
        flash(_("The canned response was added."), "info")
        return redirect(url_for("admin.canned_responses"))
    items = list(db.session.scalars(
        select(CannedResponse).order_by(CannedResponse.active.desc(), CannedResponse.title)))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/canned.html", form=form, items=items, item=None,
                           placeholder=SHOWN_PLACEHOLDER), status


@bp.route("/canned/<int:canned_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_canned(canned_id: int) -> ResponseReturnValue:
    item = db.session.get(CannedResponse, canned_id) or abort(404)
    form = EditCannedForm(obj=item)
    if form.validate_on_submit():
        before = {"title": item.title, "body_ar": item.body_ar, "body_en": item.body_en,
                  "active": item.active}
        item.title = clean_text(form.title.data)
        item.body_ar = clean_text(form.body_ar.data)
        item.body_en = clean_text(form.body_en.data)
        item.active = bool(form.active.data)
        changed = sorted(name for name, value in before.items() if getattr(item, name) != value)
        if changed:
            audit.record(db.session, "canned.updated", actor=staff_actor(g.user),
                         canned_id=item.id, changed=changed, active=item.active)
        db.session.commit()
        flash(_("The canned response was saved."), "info")
        return redirect(url_for("admin.canned_responses"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/canned.html", form=form, items=[], item=item,
                           placeholder=SHOWN_PLACEHOLDER), status


@bp.post("/canned/<int:canned_id>/deactivate")
@roles_required(Role.ADMIN)
def deactivate_canned(canned_id: int) -> ResponseReturnValue:
    item = db.session.get(CannedResponse, canned_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if item.active:
        item.active = False
        audit.record(db.session, "canned.deactivated", actor=staff_actor(g.user),
                     canned_id=item.id)
        db.session.commit()
    flash(_("The canned response was deactivated; officers no longer see it."), "info")
    return redirect(url_for("admin.canned_responses"))
