"""Console fixtures: staff of every role, signed-in clients, cases to work on."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from casework import accounts
from casework.models import Case, User, utcnow
from extensions import db
from services import services

PASSWORD = "correct horse battery"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DP"


@pytest.fixture
def make_user(app_context: None) -> Callable[..., User]:
    """A user of the given role; content roles get a confirmed authenticator secret."""
    def make(role: str, email: str | None = None, locations: list[str] | None = None,
             enrolled: bool = True) -> User:
        user = accounts.create_user(db.session, email or f"{role}@example.org", PASSWORD, role,
                                    name=role.title(), locations=locations)
        if enrolled and accounts.requires_totp(user):
            user.totp_secret_encrypted = services().vault.encrypt(TOTP_SECRET)
            user.totp_confirmed_at = utcnow()
            db.session.commit()
        return user
    return make


def current_code() -> str:
    return pyotp.TOTP(TOTP_SECRET).now()


def field_error(page: str, control_id: str) -> str:
    """The text of the error the control is described by, checking that the control is marked
    ``aria-invalid`` and that the error is right under it."""
    control = re.search(rf'<input\b[^>]*\bid="{re.escape(control_id)}"[^>]*>', page)
    assert control is not None, f"no field {control_id}"
    assert 'aria-invalid="true"' in control.group(), control.group()
    described = re.search(r'aria-describedby="([^"]+)"', control.group())
    assert described is not None, control.group()
    assert page.count(f'id="{described.group(1)}"') == 1
    error = re.search(rf'\s*<span id="{re.escape(described.group(1))}" class="field-errors">'
                      r'((?:<span class="error">[^<]*</span>)+)</span>', page[control.end():])
    assert error is not None and error.start() == 0, page[control.end():control.end() + 300]
    return html.unescape(re.sub(r"<[^>]+>", " ", error.group(1))).strip()


@pytest.fixture
def csrf_off(app: Flask) -> None:
    """Most console tests check behaviour, not CSRF (tests/admin/test_auth.py checks it)."""
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def signed_in(app: Flask, csrf_off: None, make_user: Callable[..., User]
              ) -> Callable[..., FlaskClient]:
    """A client signed in as a new user of the given role (session set directly)."""
    def sign_in(role: str, **kwargs: object) -> FlaskClient:
        user = make_user(role, **kwargs)
        client = app.test_client()
        with client.session_transaction() as session:
            session.update(user_id=user.id, session_version=user.session_version, totp_ok=True)
        client.user = user  # type: ignore[attr-defined]
        return client
    return sign_in


@pytest.fixture
def new_case(simulate: Callable[..., TestResponse], app_context: None
             ) -> Callable[..., Case]:
    """A case opened through the simulator, optionally triaged into a level and location."""
    counter = iter(range(1, 10_000))

    def make(text: str = "لم أستلم السلة الغذائية", *, sensitive: bool = False,
             location: str | None = None, level: int | None = None) -> Case:
        tab = f"tab-case-{next(counter):04d}"
        simulate(text, tab=tab)
        case = db.session.scalars(select(Case).order_by(Case.id.desc())).first()
        assert case is not None
        case.sensitive, case.location = sensitive, location
        case.level = level if level is not None else (5 if sensitive else None)
        db.session.commit()
        return case
    return make
