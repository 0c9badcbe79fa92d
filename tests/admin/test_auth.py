"""Sign-in with password and TOTP, enrolment, lock-out, CSRF, sessions, audit."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pyotp
import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import select

from casework.accounts import lock_delay
from casework.models import AuditEvent, User, utcnow
from extensions import db
from services import services
from tests.admin.conftest import PASSWORD, current_code, field_error

SIGN_IN_REFUSED = ("البريد الإلكتروني أو كلمة المرور غير صحيحة، أو الحساب مقفل مؤقتاً بعد "
                   "محاولات فاشلة كثيرة.")


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _flash(response: object) -> str:
    found = re.search(r'<p class="flash error"[^>]*>(.*?)</p>',
                      response.get_data(as_text=True))  # type: ignore[attr-defined]
    return found.group(1) if found else ""


def _login(client: FlaskClient, email: str, password: str = PASSWORD) -> object:
    return client.post("/admin/login", data={"email": email, "password": password})


def test_visitor_is_redirected_to_login(client: FlaskClient) -> None:
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login" in response.location


def test_officer_signs_in_with_password_then_code(
    app: Flask, csrf_off: None, make_user: Callable[..., User],
) -> None:
    make_user("officer")
    client = app.test_client()
    first = _login(client, "OFFICER@example.org ")
    assert first.status_code == 302 and first.location.endswith("/admin/login/code")
    assert client.get("/admin/").status_code == 302  # not signed in before the code
    wrong = client.post("/admin/login/code", data={"code": "000000"})
    assert _flash(wrong) == "الرمز غير صحيح."
    done = client.post("/admin/login/code", data={"code": current_code()})
    assert done.status_code == 302
    assert client.get("/admin/").status_code in (200, 302)
    assert "login.succeeded" in _actions() and "login.failed" in _actions()
    # Who signed in is the officer; a failed try could be anyone, so the system records it.
    actors = {event.action: event.actor for event in db.session.scalars(select(AuditEvent))}
    assert actors["login.succeeded"] == "officer@example.org"
    assert actors["login.failed"] == "system"


@pytest.mark.parametrize(("role", "second_step"), [
    pytest.param("admin", "/admin/login/code", id="admin-erases-data"),
    pytest.param("officer", "/admin/login/code", id="officer"),
    pytest.param("psea", "/admin/login/code", id="psea"),
    pytest.param("focal_point", "/admin/login/code", id="focal-point"),
    pytest.param("viewer", "/admin/", id="viewer-sees-aggregates-only"),
])
def test_who_needs_the_second_factor(app: Flask, csrf_off: None,
                                     make_user: Callable[..., User], role: str,
                                     second_step: str) -> None:
    make_user(role)
    client = app.test_client()
    assert _login(client, f"{role}@example.org").location.endswith(second_step)


def test_a_code_signs_in_once(app: Flask, csrf_off: None,
                              make_user: Callable[..., User]) -> None:
    make_user("officer")
    code = current_code()
    first, second = app.test_client(), app.test_client()
    _login(first, "officer@example.org")
    assert first.post("/admin/login/code", data={"code": code}).status_code == 302
    _login(second, "officer@example.org")  # the same code, seen over a shoulder
    replayed = second.post("/admin/login/code", data={"code": code})
    assert _flash(replayed) == "الرمز غير صحيح."
    assert second.get("/admin/").status_code == 302


def test_wrong_codes_while_enrolling_lock_the_account(app: Flask, csrf_off: None,
                                                      make_user: Callable[..., User]) -> None:
    user = make_user("officer", enrolled=False)
    client = app.test_client()
    assert _login(client, "officer@example.org").location.endswith("/admin/login/enrol")
    client.get("/admin/login/enrol")
    for _ in range(5):
        client.post("/admin/login/enrol", data={"code": "000000"})
    db.session.refresh(user)
    secret = services().vault.decrypt(user.totp_secret_encrypted or "")
    locked = client.post("/admin/login/enrol", data={"code": pyotp.TOTP(secret).now()})
    assert _flash(locked) == "محاولات فاشلة كثيرة. حاول مرة أخرى لاحقاً."
    db.session.refresh(user)
    assert user.totp_confirmed_at is None and user.locked_until is not None
    assert client.get("/admin/").status_code == 302


def test_guessing_the_current_password_locks_the_account(
        signed_in: Callable[..., FlaskClient], app: Flask) -> None:
    client = signed_in("viewer")
    for _ in range(5):
        client.post("/admin/account/password",
                    data={"current": "a guess", "new": "x" * 12, "repeated": "x" * 12})
    right = client.post("/admin/account/password",
                        data={"current": PASSWORD, "new": "y" * 12, "repeated": "y" * 12})
    assert _flash(right) == "محاولات فاشلة كثيرة. حاول مرة أخرى لاحقاً."
    assert _login(app.test_client(), "viewer@example.org").status_code == 200  # locked out
    assert _actions().count("login.failed") >= 5 and "login.lockout" in _actions()


def test_viewer_needs_no_second_factor(app: Flask, csrf_off: None,
                                       make_user: Callable[..., User]) -> None:
    make_user("viewer")
    client = app.test_client()
    assert _login(client, "viewer@example.org").location.endswith("/admin/")
    page = client.get("/admin/")
    assert page.status_code == 200 and 'dir="rtl"' in page.get_data(as_text=True)


def test_first_sign_in_enrols_the_authenticator(app: Flask, csrf_off: None,
                                                make_user: Callable[..., User]) -> None:
    user = make_user("psea", enrolled=False)
    client = app.test_client()
    assert _login(client, "psea@example.org").location.endswith("/admin/login/enrol")
    page = client.get("/admin/login/enrol").get_data(as_text=True)
    assert "<svg" in page
    db.session.refresh(user)
    secret = services().vault.decrypt(user.totp_secret_encrypted or "")
    assert secret in page
    response = client.post("/admin/login/enrol", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.totp_confirmed_at is not None and "totp.enrolled" in _actions()


@pytest.mark.parametrize(("failures", "minutes"),
                         [(1, 0), (4, 0), (5, 1), (6, 2), (8, 8), (40, 24 * 60)])
def test_lock_delay_grows(failures: int, minutes: int) -> None:
    assert lock_delay(failures) == timedelta(minutes=minutes)


def test_repeated_failures_lock_the_account(app: Flask, csrf_off: None,
                                            make_user: Callable[..., User]) -> None:
    user = make_user("viewer")
    client = app.test_client()
    for _ in range(5):
        _login(client, "viewer@example.org", "wrong password")
    locked = _login(client, "viewer@example.org")  # right password, but locked
    assert _flash(locked) == SIGN_IN_REFUSED
    assert client.get("/admin/").status_code == 302
    assert "login.lockout" in _actions() and "login.locked" in _actions()
    db.session.refresh(user)
    user.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert _login(client, "viewer@example.org").location.endswith("/admin/")


def test_unknown_email_gets_the_same_answer(app: Flask, csrf_off: None,
                                            make_user: Callable[..., User]) -> None:
    make_user("viewer")
    client = app.test_client()
    unknown = _login(client, "nobody@example.org")
    wrong = _login(client, "viewer@example.org", "wrong password")
    assert _flash(unknown) == _flash(wrong) == SIGN_IN_REFUSED


def test_a_locked_account_answers_like_an_unknown_email(app: Flask, csrf_off: None,
                                                        make_user: Callable[..., User]) -> None:
    make_user("viewer")
    client = app.test_client()
    for _ in range(6):
        _login(client, "viewer@example.org", "wrong password")
    locked = _login(client, "viewer@example.org")
    unknown = _login(client, "nobody@example.org")
    assert _flash(locked) == _flash(unknown) == SIGN_IN_REFUSED
    assert "login.locked" in _actions()


@dataclass(frozen=True)
class RefusedSignIn:
    label: str
    role: str
    posts: tuple[tuple[str, dict[str, str]], ...]  # in order; the last one is refused
    field: str  # the field the reason is shown under
    reason: str
    enrolled: bool = True  # the authenticator app is set up
    locked: bool = False  # the account is locked before the last post


SIGN_IN_REFUSED_EN = ("Email or password is not correct, or the account is locked for a while "
                      "after too many failed attempts.")
REQUIRED = "This field is required."
WRONG_CODE = "The code is not correct."
LOCKED = "Too many failed attempts. Try again later."
PASSWORD_STEP = ("/admin/login", {"email": "officer@example.org", "password": PASSWORD})

REFUSED_SIGN_INS = [
    RefusedSignIn("wrong-password", "officer",
                  (("/admin/login", {"email": "officer@example.org", "password": "a guess"}),),
                  "password", SIGN_IN_REFUSED_EN),
    RefusedSignIn("unknown-email", "officer",
                  (("/admin/login", {"email": "nobody@example.org", "password": PASSWORD}),),
                  "password", SIGN_IN_REFUSED_EN),
    RefusedSignIn("locked-account", "officer", (PASSWORD_STEP,), "password", SIGN_IN_REFUSED_EN,
                  locked=True),
    RefusedSignIn("no-email", "officer",
                  (("/admin/login", {"email": " ", "password": PASSWORD}),), "email", REQUIRED),
    RefusedSignIn("no-password", "officer",
                  (("/admin/login", {"email": "officer@example.org", "password": ""}),),
                  "password", REQUIRED),
    RefusedSignIn("wrong-code", "officer",
                  (PASSWORD_STEP, ("/admin/login/code", {"code": "000000"})), "code",
                  WRONG_CODE),
    RefusedSignIn("no-code", "officer", (PASSWORD_STEP, ("/admin/login/code", {"code": ""})),
                  "code", REQUIRED),
    RefusedSignIn("locked-at-the-code", "officer",
                  (PASSWORD_STEP, ("/admin/login/code", {"code": "000000"})), "code", LOCKED,
                  locked=True),
    RefusedSignIn("wrong-code-while-enrolling", "officer",
                  (PASSWORD_STEP, ("/admin/login/enrol", {"code": "000000"})), "code",
                  WRONG_CODE, enrolled=False),
    RefusedSignIn("no-code-while-enrolling", "officer",
                  (PASSWORD_STEP, ("/admin/login/enrol", {"code": ""})), "code", REQUIRED,
                  enrolled=False),
    RefusedSignIn("locked-while-enrolling", "officer",
                  (PASSWORD_STEP, ("/admin/login/enrol", {"code": "000000"})), "code", LOCKED,
                  enrolled=False, locked=True),
]


@pytest.mark.parametrize("row", REFUSED_SIGN_INS, ids=[row.label for row in REFUSED_SIGN_INS])
def test_a_refused_sign_in_says_why_under_the_field(app: Flask, csrf_off: None,
                                                    make_user: Callable[..., User],
                                                    row: RefusedSignIn) -> None:
    """The reason is under the field it is about, read with it; a wrong password and an unknown
    email mark the password only, so the page does not tell which of the two was wrong."""
    user = make_user(row.role, enrolled=row.enrolled)
    client = app.test_client()
    client.set_cookie("lang", "en")
    g.pop("_flask_babel", None)  # the tests share an app context; Flask-Babel caches on g
    *earlier, (path, data) = row.posts
    for earlier_path, earlier_data in earlier:
        assert client.post(earlier_path, data=earlier_data).status_code == 302
    if row.locked:
        user.locked_until = utcnow() + timedelta(minutes=5)
        db.session.commit()
    response = client.post(path, data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert field_error(page, row.field) == row.reason
    assert page.count('aria-invalid="true"') == 1  # no other field is marked
    assert client.get("/admin/").status_code == 302  # not signed in


@pytest.mark.parametrize("row", [row for row in REFUSED_SIGN_INS if not row.locked],
                         ids=[row.label for row in REFUSED_SIGN_INS if not row.locked])
def test_the_right_answer_after_a_refused_one_signs_in(app: Flask, csrf_off: None,
                                                       make_user: Callable[..., User],
                                                       row: RefusedSignIn) -> None:
    user = make_user(row.role, enrolled=row.enrolled)
    client = app.test_client()
    *earlier, (path, data) = row.posts
    for earlier_path, earlier_data in earlier:
        client.post(earlier_path, data=earlier_data)
    client.post(path, data=data)
    if path == "/admin/login":
        step, credentials = PASSWORD_STEP
        assert client.post(step, data=credentials).status_code == 302
        path = "/admin/login/code" if row.enrolled else "/admin/login/enrol"
    db.session.refresh(user)
    secret = services().vault.decrypt(user.totp_secret_encrypted or "")
    response = client.post(path, data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302 and response.location.endswith("/admin/")
    with client.session_transaction() as session:
        assert session.get("user_id") == user.id and session.get("totp_ok") is True


def test_login_without_csrf_token_is_rejected(app: Flask, make_user: Callable[..., User]
                                              ) -> None:
    make_user("viewer")
    response = _login(app.test_client(), "viewer@example.org")
    assert response.status_code == 400  # CSRF is on unless a test turns it off
    assert "login.succeeded" not in _actions()


def test_log_out_everywhere_ends_other_sessions(signed_in: Callable[..., FlaskClient],
                                                app: Flask) -> None:
    first = signed_in("viewer")
    user = first.user  # type: ignore[attr-defined]
    second = app.test_client()
    with second.session_transaction() as session:
        session.update(user_id=user.id, session_version=user.session_version, totp_ok=True)
    assert second.get("/admin/").status_code == 200
    first.post("/admin/logout/everywhere")
    assert second.get("/admin/").status_code == 302


def test_password_change(signed_in: Callable[..., FlaskClient], app: Flask) -> None:
    client = signed_in("viewer")
    bad = client.post("/admin/account/password",
                      data={"current": "nope", "new": "x" * 12, "repeated": "x" * 12})
    assert bad.status_code == 200
    good = client.post("/admin/account/password",
                       data={"current": PASSWORD, "new": "a much longer passphrase",
                             "repeated": "a much longer passphrase"})
    assert good.status_code == 302
    assert client.get("/admin/").status_code == 200  # this session goes on
    assert _login(app.test_client(), "viewer@example.org").status_code == 200  # old one fails


@pytest.mark.parametrize(("language", "new", "repeated", "error"), [
    ("en", "short", "short", "Use at least 10 characters."),
    ("ar", "short", "short", "استخدم 10 أحرف على الأقل."),
    ("en", "a long new passphrase", "a long new passphrase!", "The two new passwords are not "
     "the same."),
    ("ar", "a long new passphrase", "a long new passphrase!", "كلمتا المرور الجديدتان غير "
     "متطابقتين."),
    ("en", "x" * 201, "x" * 201, "The text cannot be longer than 200 characters."),
], ids=["short-en", "short-ar", "mistyped-en", "mistyped-ar", "too-long-en"])
def test_a_refused_new_password_says_why_in_the_readers_language(
        signed_in: Callable[..., FlaskClient], language: str, new: str, repeated: str,
        error: str) -> None:
    client = signed_in("viewer")
    client.set_cookie("lang", language)
    response = client.post("/admin/account/password",
                           data={"current": PASSWORD, "new": new, "repeated": repeated})
    assert response.status_code == 200 and error in response.get_data(as_text=True)
    assert "user.password_changed" not in _actions()


def test_a_field_error_is_tied_to_its_field(signed_in: Callable[..., FlaskClient]) -> None:
    """A screen reader announces the error with the field and says the field needs fixing."""
    client = signed_in("viewer")
    page = client.post("/admin/account/password",
                       data={"current": PASSWORD, "new": "short"}).get_data(as_text=True)
    field = re.search(r'<input[^>]*id="new"[^>]*>', page)
    assert field is not None
    assert 'aria-invalid="true"' in field.group()
    assert 'aria-describedby="new-error"' in field.group()
    assert re.search(r'<span id="new-error" class="field-errors"><span class="error">[^<]+'
                     r'</span></span>', page)
    current = re.search(r'<input[^>]*id="current"[^>]*>', page)
    assert current is not None and "aria-invalid" not in current.group()


@dataclass(frozen=True)
class RefusedChange:
    label: str
    language: str
    current: str  # the current password given
    locked: bool  # the account is locked before the change is sent
    reason: str  # shown under the current-password field
    failure_recorded: bool  # counts towards the lock-out


WRONG_CURRENT = "The current password is not correct."
REFUSED_CHANGES = [
    RefusedChange("wrong-current-en", "en", "a guess", False, WRONG_CURRENT, True),
    RefusedChange("wrong-current-ar", "ar", "a guess", False, "كلمة المرور الحالية غير صحيحة.",
                  True),
    RefusedChange("locked-en", "en", PASSWORD, True, LOCKED, False),
    RefusedChange("locked-ar", "ar", PASSWORD, True, "محاولات فاشلة كثيرة. حاول مرة أخرى لاحقاً.",
                  False),
    RefusedChange("locked-and-wrong-current", "en", "a guess", True, LOCKED, False),
]


@pytest.mark.parametrize("row", REFUSED_CHANGES, ids=[row.label for row in REFUSED_CHANGES])
def test_a_refused_password_change_says_why_under_the_current_password(
        signed_in: Callable[..., FlaskClient], row: RefusedChange) -> None:
    client = signed_in("viewer")
    user = client.user  # type: ignore[attr-defined]
    client.set_cookie("lang", row.language)
    if row.locked:
        user.locked_until = utcnow() + timedelta(minutes=5)
        db.session.commit()
    response = client.post("/admin/account/password", data={
        "current": row.current, "new": "a long new passphrase",
        "repeated": "a long new passphrase"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert field_error(page, "current") == row.reason
    assert page.count('aria-invalid="true"') == 1  # the new password is not marked
    assert _flash(response) == row.reason  # and at the top of the form, said at once
    assert "user.password_changed" not in _actions()
    assert ("login.failed" in _actions()) is row.failure_recorded
    db.session.refresh(user)
    assert user.failed_logins == (1 if row.failure_recorded else 0)


def test_security_headers(client: FlaskClient) -> None:
    response = client.get("/admin/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_users_create_command(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "Amal@Example.org", "--role", "officer",
                                 "--name", "أمل", "--password-stdin"],
                           input="a long enough password\n")
    assert result.exit_code == 0, result.output
    short = runner.invoke(args=["users", "create", "b@example.org", "--role", "officer",
                                "--password-stdin"], input="short\n")
    assert short.exit_code != 0 and "at least 10" in short.output
    with app.app_context():
        user = db.session.scalars(select(User)).one()
        assert (user.email, user.role, user.name) == ("amal@example.org", "officer", "أمل")
        assert user.password_hash.startswith("$argon2")
