"""Console: staff accounts, for administrators (what ``flask users …`` does, in the browser).

List and add accounts; change a name, role or locations; disable and enable; reset a
forgotten password (a temporary one, shown once on the page that sets it, never in a cookie
or a log) or a lost authenticator; lift a lock-out. Each change is audited with the
administrator as actor, by ``casework.accounts``. An administrator cannot disable or demote
themselves, nor leave the service without an active administrator.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.validators import DataRequired

from admin import bp
from admin.audit_labels import ROLE_LABELS
from admin.forms import ChoicesField, ConfirmForm, max_length
from admin.queue import location_options
from admin.security import roles_required
from casework import accounts
from casework.accounts import AccountError, LastAdministrator
from casework.manual import staff_actor
from casework.models import Role, User, utcnow
from extensions import db
from services import services

ROLE_ORDER = (Role.OFFICER, Role.PSEA, Role.FOCAL_POINT, Role.VIEWER, Role.ADMIN)


class UserForm(FlaskForm):
    name = StringField(_l("Name"), validators=[max_length(120)])
    role = SelectField(_l("Role"), validators=[DataRequired()])
    locations = ChoicesField(_l("Locations (officers; none chosen: all)"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = [(role.value, str(ROLE_LABELS[role.value])) for role in ROLE_ORDER]
        self.locations.choices = location_options(services().org_data, str(get_locale()))


class NewUserForm(UserForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), max_length(255)])


class ConfirmedForm(FlaskForm):
    """A box to tick first: for actions that lock someone out until they are helped."""

    confirm = BooleanField(validators=[DataRequired()])


CONFIRMED = frozenset({"disable", "reset-password", "reset-two-factor"})


@bp.route("/users", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def users() -> ResponseReturnValue:
    form = NewUserForm()
    if form.validate_on_submit():
        password = accounts.temporary_password()
        try:
            user = accounts.create_user(
                db.session, form.email.data or "", password, form.role.data or "",
                name=(form.name.data or "").strip(), locations=list(form.locations.data or []),
                actor=staff_actor(g.user))
        except AccountError:
            db.session.rollback()
            form.email.errors.append(_("This email is not valid, or an account has it "
                                       "already."))
        else:
            return _with_password(user, password, _("The account was created."))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/users.html", form=form, users=_all_users(),
                           roles=ROLE_LABELS, now=utcnow()), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def user_page(user_id: int) -> ResponseReturnValue:
    user = db.session.get(User, user_id) or abort(404)
    form = UserForm(obj=user)
    refusal = None
    if form.validate_on_submit():
        refusal = _save(user, form)
        if refusal is None:
            return redirect(url_for("admin.user_page", user_id=user.id))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/user.html", form=form, user=user, roles=ROLE_LABELS,
                           refusal=refusal, new_password=None, now=utcnow()), status


def _save(user: User, form: UserForm) -> str | None:
    """Save the form; a reason it was refused, or None."""
    if user.id == g.user.id and form.role.data != user.role:
        return _("You cannot change your own role: ask another administrator.")
    try:
        changed = accounts.update_user(
            db.session, user, name=(form.name.data or "").strip(), role=form.role.data or "",
            locations=list(form.locations.data or []), actor=staff_actor(g.user))
    except LastAdministrator:
        db.session.rollback()
        return _("The service needs at least one active administrator.")
    flash(_("Saved.") if changed else _("Nothing was changed."), "info")
    return None


@bp.post("/users/<int:user_id>/<action>")
@roles_required(Role.ADMIN)
def user_action(user_id: int, action: str) -> ResponseReturnValue:
    user = db.session.get(User, user_id) or abort(404)
    act = _ACTIONS.get(action) or abort(404)
    if user.id == g.user.id and action != "unlock":
        flash(_("You cannot do this to your own account: ask another administrator."), "error")
        return redirect(url_for("admin.user_page", user_id=user.id))
    form = ConfirmedForm() if action in CONFIRMED else ConfirmForm()
    if not form.validate_on_submit():
        if "confirm" in form.errors:
            flash(_("Tick the box to confirm, then press the button again."), "error")
            return redirect(url_for("admin.user_page", user_id=user.id))
        abort(400)
    return act(user)


def _disable(user: User) -> ResponseReturnValue:
    try:
        accounts.set_active(db.session, user, False, actor=staff_actor(g.user))
    except LastAdministrator:
        db.session.rollback()
        flash(_("The service needs at least one active administrator."), "error")
    else:
        flash(_("The account was disabled: its sessions ended and its API tokens stopped "
                "working."), "info")
    return redirect(url_for("admin.user_page", user_id=user.id))


def _enable(user: User) -> ResponseReturnValue:
    accounts.set_active(db.session, user, True, actor=staff_actor(g.user))
    flash(_("The account was enabled."), "info")
    return redirect(url_for("admin.user_page", user_id=user.id))


def _reset_password(user: User) -> ResponseReturnValue:
    password = accounts.temporary_password()
    accounts.reset_password(db.session, user, password, actor=staff_actor(g.user))
    return _with_password(user, password, _("The password was reset, and every session of "
                                            "the account ended."))


def _reset_two_factor(user: User) -> ResponseReturnValue:
    accounts.reset_two_factor(db.session, user, actor=staff_actor(g.user))
    flash(_("Two-step verification was reset: the next sign-in shows a new QR code."), "info")
    return redirect(url_for("admin.user_page", user_id=user.id))


def _unlock(user: User) -> ResponseReturnValue:
    accounts.unlock(db.session, user, actor=staff_actor(g.user))
    flash(_("The account was unlocked."), "info")
    return redirect(url_for("admin.user_page", user_id=user.id))


_ACTIONS: dict[str, Callable[[User], ResponseReturnValue]] = {
    "disable": _disable, "enable": _enable, "reset-password": _reset_password,
    "reset-two-factor": _reset_two_factor, "unlock": _unlock,
}


def _with_password(user: User, password: str, message: str) -> ResponseReturnValue:
    """The account's page with the temporary password, once: not stored by the browser."""
    response = render_template("admin/user.html", form=UserForm(obj=user), user=user,
                               roles=ROLE_LABELS, refusal=None, new_password=password,
                               done=message, now=utcnow())
    return response, 200, {"Cache-Control": "no-store"}


def _all_users() -> list[User]:
    return list(db.session.scalars(
        select(User).order_by(User.active.desc(), User.role, User.email)))
