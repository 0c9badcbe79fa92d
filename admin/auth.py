"""Sign in (password, then TOTP), enrolment of the authenticator app, sign out, password."""

from __future__ import annotations

import segno
from flask import flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, Field, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from admin import bp
from admin.forms import max_length
from admin.security import load_user, login_required, safe_next, sign_in
from casework import accounts
from casework.accounts import AccountError, AccountLocked, Attempt, LoginResult, WrongPassword
from casework.models import User, utcnow
from extensions import db
from services import services

bp.before_request(load_user)


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), max_length(255)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), max_length(200)])


class CodeForm(FlaskForm):
    code = StringField(_l("Code from your authenticator app"),
                       validators=[DataRequired(), max_length(20)])


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[
        DataRequired(), Length(min=accounts.MIN_PASSWORD_LENGTH, message=_l(
            "Use at least %(count)s characters.", count=accounts.MIN_PASSWORD_LENGTH)),
        max_length(200)])
    repeated = PasswordField(_l("New password again"), validators=[
        DataRequired(), EqualTo("new", message=_l("The two new passwords are not the same."))])


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    refusal = None
    if form.validate_on_submit():
        attempt = accounts.check_password(db.session, form.email.data or "",
                                          form.password.data or "", utcnow())
        if attempt.result in (LoginResult.LOCKED, LoginResult.REFUSED) or attempt.user is None:
            # One answer for a wrong password, an unknown email and a locked account: a
            # different one for the last would tell a guesser which emails have accounts.
            # It goes under the password whichever was wrong, for the same reason.
            refusal = _refused(form.password, _(
                "Email or password is not correct, or the account is locked for a while "
                "after too many failed attempts."))
        elif attempt.result is LoginResult.OK:
            sign_in(attempt.user)
            return redirect(safe_next(request.args.get("next")) or url_for("admin.home"))
        else:
            session.clear()
            session["pending_user_id"] = attempt.user.id
            session["pending_next"] = safe_next(request.args.get("next"))
            step = "admin.totp" if attempt.result is LoginResult.NEEDS_TOTP else "admin.enrol"
            return redirect(url_for(step))
    return render_template("admin/login.html", form=form, refusal=refusal)


@bp.route("/login/code", methods=["GET", "POST"])
def totp() -> ResponseReturnValue:
    user = _pending_user()
    if user is None:
        return redirect(url_for("admin.login"))
    form = CodeForm()
    refusal = None
    if form.validate_on_submit():
        attempt = accounts.check_totp(db.session, user, form.code.data or "",
                                      services().vault, utcnow())
        if attempt.result is LoginResult.OK:
            return _finish_sign_in(user)
        refusal = _refused(form.code, _code_refusal(attempt))
    return render_template("admin/totp.html", form=form, refusal=refusal)


@bp.route("/login/enrol", methods=["GET", "POST"])
def enrol() -> ResponseReturnValue:
    user = _pending_user()
    if user is None or user.totp_confirmed_at is not None:
        return redirect(url_for("admin.login"))
    vault = services().vault
    form = CodeForm()
    refusal = None
    if form.validate_on_submit():
        attempt = accounts.confirm_enrolment(db.session, user, form.code.data or "", vault,
                                             utcnow())
        if attempt.result is LoginResult.OK:
            return _finish_sign_in(user)
        refusal = _refused(form.code, _code_refusal(attempt))
    if not user.totp_secret_encrypted or request.method == "GET":
        secret = accounts.start_enrolment(db.session, user, vault)
    else:
        secret = vault.decrypt(user.totp_secret_encrypted)
    uri = accounts.provisioning_uri(user, secret, services().settings.sawti_org_name)
    qr_svg = segno.make(uri, error="m").svg_inline(scale=4, dark="#1d2733")
    return render_template("admin/enrol.html", form=form, secret=secret, qr_svg=qr_svg,
                           refusal=refusal)


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("admin.login"))


@bp.post("/logout/everywhere")
@login_required
def logout_everywhere() -> ResponseReturnValue:
    accounts.log_out_everywhere(db.session, g.user)
    session.clear()
    flash(_("You are signed out on every device."), "info")
    return redirect(url_for("admin.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> ResponseReturnValue:
    form = PasswordForm()
    refusal = None
    if form.validate_on_submit():
        try:
            accounts.change_password(db.session, g.user, form.current.data or "",
                                     form.new.data or "", utcnow())
        except AccountLocked:
            refusal = _refused(form.current, _("Too many failed attempts. Try again later."))
        except WrongPassword:
            refusal = _refused(form.current, _("The current password is not correct."))
        except AccountError:  # a new password the accounts refuse that the form let through
            refusal = _refused(form.new, _("Use at least %(count)s characters.",
                                           count=accounts.MIN_PASSWORD_LENGTH))
        else:
            sign_in(g.user)  # this session continues with the new version
            flash(_("Your password was changed. Other sessions were signed out."), "info")
            return redirect(url_for("admin.home"))
    return render_template("admin/password.html", form=form, refusal=refusal)


def _refused(field: Field, message: str) -> str:
    """Put a refused form's reason under the field it is about, so that it is read with it
    (WCAG 3.3.1); return it for the top of the form too."""
    field.errors = [*field.errors, message]
    return message


def _code_refusal(attempt: Attempt) -> str:
    if attempt.result is LoginResult.LOCKED:
        return _("Too many failed attempts. Try again later.")
    return _("The code is not correct.")


def _pending_user() -> User | None:
    user_id = session.get("pending_user_id")
    return db.session.get(User, user_id) if user_id else None


def _finish_sign_in(user: User) -> ResponseReturnValue:
    target = session.get("pending_next")
    sign_in(user)
    return redirect(target or url_for("admin.home"))
