"""API tokens in the console: create (shown once), list and revoke.

Everyone manages their own tokens; an admin sees and can revoke everyone's.
"""

from __future__ import annotations

from flask import abort, flash, g, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.utils import redirect
from wtforms import StringField

from admin import bp
from admin.forms import max_length
from admin.security import login_required
from casework.models import ApiToken, Role, utcnow
from casework.tokens import create_token, revoke
from extensions import db


class TokenForm(FlaskForm):
    name = StringField(_l("What the token is for"), validators=[max_length(120)])


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def tokens() -> ResponseReturnValue:
    form = TokenForm()
    new_token = None
    if form.validate_on_submit():
        new_token = create_token(db.session, g.user, form.name.data or "")
        flash(_("Copy the token now: it will not be shown again."), "info")
    query = select(ApiToken).order_by(ApiToken.created_at.desc())
    if g.user.role != Role.ADMIN:
        query = query.where(ApiToken.user_id == g.user.id)
    return render_template("admin/tokens.html", form=form, new_token=new_token,
                           tokens=db.session.scalars(query).all())


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> ResponseReturnValue:
    record = db.session.get(ApiToken, token_id)
    if record is None or (record.user_id != g.user.id and g.user.role != Role.ADMIN):
        abort(404)
    if record.revoked_at is None:
        revoke(db.session, record, actor=g.user.email, now=utcnow())
        flash(_("The token was revoked."), "info")
    return redirect(url_for("admin.tokens"))
