"""Account care from the command line: disable and enable a user, reset a forgotten password
or a lost authenticator, lift a lock-out — each audited, each ending sessions where it must."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from casework.models import AuditEvent, User, utcnow
from casework.tokens import create_token
from extensions import db
from tests.admin.conftest import PASSWORD

NEW_PASSWORD = "a brand new passphrase"


@dataclass(frozen=True)
class Command:
    label: str
    args: tuple[str, ...]
    action: str
    ends_sessions: bool
    stdin: str | None = None


COMMANDS = [
    Command("disable", ("disable",), "user.disabled", ends_sessions=True),
    Command("reset-password", ("reset-password", "--password-stdin"), "user.password_reset",
            ends_sessions=True, stdin=NEW_PASSWORD + "\n"),
    Command("reset-two-factor", ("reset-two-factor",), "user.two_factor_reset",
            ends_sessions=True),
    Command("unlock", ("unlock",), "user.unlocked", ends_sessions=False),
]


def _run(app: Flask, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["users", *args], input=stdin)
    return result.exit_code, result.output


def _locked(user: User) -> None:
    user.failed_logins, user.locked_until = 7, utcnow() + timedelta(hours=1)
    db.session.commit()


@pytest.mark.parametrize("command", COMMANDS, ids=[command.label for command in COMMANDS])
def test_each_command_is_audited_and_ends_sessions_where_it_must(
        app: Flask, signed_in: Callable[..., FlaskClient], command: Command) -> None:
    client = signed_in("officer")
    user: User = client.user  # type: ignore[attr-defined]
    _locked(user)
    code, output = _run(app, *command.args, "OFFICER@example.org", stdin=command.stdin)
    assert code == 0, output
    assert db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action == command.action, AuditEvent.actor == "cli")).one()
    still_in = client.get("/admin/queue").status_code == 200
    assert still_in is not command.ends_sessions


@pytest.mark.parametrize("args", [("disable",), ("enable",), ("unlock",), ("reset-two-factor",),
                                  ("reset-password", "--password-stdin")],
                         ids=["disable", "enable", "unlock", "reset-two-factor",
                              "reset-password"])
def test_an_unknown_email_is_refused(app: Flask, args: tuple[str, ...]) -> None:
    code, output = _run(app, *args, "nobody@example.org", stdin=NEW_PASSWORD + "\n")
    assert code != 0 and "no user with the email nobody@example.org" in output


def test_a_disabled_user_cannot_sign_in_or_use_a_token_until_enabled(
        app: Flask, make_user: Callable[..., User]) -> None:
    user = make_user("officer")
    token = create_token(db.session, user)
    headers = {"Authorization": f"Bearer {token}"}
    api = app.test_client()
    assert api.get("/api/v1/cases", headers=headers).status_code == 200
    assert _run(app, "disable", user.email)[0] == 0
    assert api.get("/api/v1/cases", headers=headers).status_code == 401
    assert _run(app, "enable", user.email)[0] == 0
    assert api.get("/api/v1/cases", headers=headers).status_code == 200
    assert [event for event in db.session.scalars(select(AuditEvent.action))
            if event.startswith("user.") and event != "user.created"] == [
        "user.disabled", "user.enabled"]


def test_a_reset_password_signs_in_and_a_short_one_is_refused(
        app: Flask, csrf_off: None, make_user: Callable[..., User]) -> None:
    user = make_user("viewer")
    _locked(user)
    short = _run(app, "reset-password", "--password-stdin", user.email, stdin="short\n")
    assert short[0] != 0 and "at least 10" in short[1]
    assert _run(app, "reset-password", "--password-stdin", user.email,
                stdin=NEW_PASSWORD + "\n")[0] == 0
    response = app.test_client().post("/admin/login",
                                      data={"email": user.email, "password": NEW_PASSWORD})
    assert response.status_code == 302 and response.location.endswith("/admin/")


def test_after_a_two_factor_reset_the_next_sign_in_enrols_again(
        app: Flask, csrf_off: None, make_user: Callable[..., User]) -> None:
    user = make_user("officer")
    assert _run(app, "reset-two-factor", user.email)[0] == 0
    db.session.refresh(user)
    assert (user.totp_secret_encrypted, user.totp_confirmed_at) == (None, None)
    client = app.test_client()
    response = client.post("/admin/login",
                           data={"email": user.email, "password": PASSWORD})
    assert response.location.endswith("/admin/login/enrol")
