"""Staff accounts in the console (admin/users.py): who may open them, adding an account with a
temporary password shown once, changing a role, and the sign-in help buttons."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from casework import accounts
from casework.accounts import LastAdministrator, LoginResult
from casework.models import AuditEvent, Role, User, utcnow
from extensions import db
from tests.admin.conftest import PASSWORD

PAGES = [
    ("GET", "/admin/users"),
    ("POST", "/admin/users"),
    ("GET", "/admin/users/{id}"),
    ("POST", "/admin/users/{id}"),
    ("POST", "/admin/users/{id}/disable"),
    ("POST", "/admin/users/{id}/reset-password"),
]


def _password_on(page: str) -> str:
    found = re.search(r'id="temporary-password">([^<]+)<', page)
    assert found, "no temporary password on the page"
    return found.group(1)


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.mark.parametrize("role", ["officer", "psea", "focal_point", "viewer"])
@pytest.mark.parametrize(("method", "path"), PAGES, ids=[f"{m}-{p}" for m, p in PAGES])
def test_only_administrators(signed_in: Callable[..., FlaskClient],
                             make_user: Callable[..., User], role: str, method: str,
                             path: str) -> None:
    target = make_user("officer", email="target@example.org")
    client = signed_in(role)
    response = client.open(path.format(id=target.id), method=method,
                           data={"confirm": "y", "role": "admin", "email": "x@example.org"})
    assert response.status_code == 403
    db.session.refresh(target)
    assert (target.active, target.role) == (True, Role.OFFICER)
    assert db.session.scalar(select(func.count()).select_from(User)) == 2


def test_visitor_is_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/admin/login" in response.location


def test_add_an_account_shows_its_password_once(signed_in: Callable[..., FlaskClient],
                                                app: Flask) -> None:
    admin = signed_in("admin")
    response = admin.post("/admin/users", data={
        "email": " Amal@Example.org ", "name": "أمل", "role": "officer",
        "locations": ["SY-ID", "SY-HL-01"]})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = _password_on(page)
    user = accounts.find_user(db.session, "amal@example.org")
    assert user is not None
    assert (user.name, user.role, user.locations) == ("أمل", "officer", ["SY-ID", "SY-HL-01"])
    attempt = accounts.check_password(db.session, "amal@example.org", password, utcnow())
    assert attempt.result is LoginResult.NEEDS_ENROLMENT
    event = _events("user.created")[-1]
    assert (event.actor, event.details["user_id"]) == ("admin@example.org", user.id)
    assert password not in admin.get("/admin/users").get_data(as_text=True)


@pytest.mark.parametrize("email", [
    pytest.param("admin@example.org", id="taken"),
    pytest.param("ADMIN@example.org", id="taken-in-capitals"),
    pytest.param("not an email", id="not-an-email"),
    pytest.param("a@b", id="no-domain"),
])
def test_an_email_that_cannot_be_used_is_refused(signed_in: Callable[..., FlaskClient],
                                                 email: str) -> None:
    admin = signed_in("admin")
    response = admin.post("/admin/users", data={"email": email, "role": "viewer"},
                          query_string={"lang": "en"})
    assert response.status_code == 400
    assert "This email is not valid, or an account has it already." in response.get_data(
        as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_a_new_role_ends_the_sessions_and_is_audited(signed_in: Callable[..., FlaskClient],
                                                     make_user: Callable[..., User]) -> None:
    viewer = make_user("viewer", email="vera@example.org")
    version = viewer.session_version
    admin = signed_in("admin")
    response = admin.post(f"/admin/users/{viewer.id}", data={
        "name": "Vera", "role": "officer", "locations": ["SY-ID"]})
    assert response.status_code == 302
    db.session.refresh(viewer)
    assert (viewer.role, viewer.locations, viewer.name) == ("officer", ["SY-ID"], "Vera")
    assert viewer.session_version == version + 1  # signs in again, and sets up the app
    event = _events("user.updated")[-1]
    assert event.details["role"] == ["viewer", "officer"]
    assert sorted(event.details["changed"]) == ["locations", "name", "role"]


@pytest.mark.parametrize(("path", "data"), [
    pytest.param("/admin/users/{id}", {"role": "viewer"}, id="own-role"),
    pytest.param("/admin/users/{id}/disable", {"confirm": "y"}, id="disable-self"),
    pytest.param("/admin/users/{id}/reset-password", {"confirm": "y"}, id="own-password"),
])
def test_an_administrator_cannot_lock_themselves_out(signed_in: Callable[..., FlaskClient],
                                                     path: str, data: dict[str, str]) -> None:
    admin = signed_in("admin")
    me = admin.user  # type: ignore[attr-defined]
    hash_before = me.password_hash
    admin.post(path.format(id=me.id), data=data)
    db.session.refresh(me)
    assert (me.role, me.active, me.password_hash) == ("admin", True, hash_before)
    assert admin.get("/admin/users").status_code == 200


def test_the_last_administrator_stays(make_user: Callable[..., User]) -> None:
    only = make_user("admin")
    make_user("admin", email="gone@example.org").active = False
    db.session.commit()
    with pytest.raises(LastAdministrator):
        accounts.set_active(db.session, only, False, actor="cli")
    with pytest.raises(LastAdministrator):
        accounts.update_user(db.session, only, name="", role="viewer", locations=[],
                             actor="cli")
    db.session.rollback()
    db.session.refresh(only)
    assert (only.active, only.role) == (True, "admin")


def test_disabling_needs_the_box_ticked(signed_in: Callable[..., FlaskClient],
                                       make_user: Callable[..., User], app: Flask) -> None:
    officer = make_user("officer", email="omar@example.org")
    admin = signed_in("admin")
    unticked = admin.post(f"/admin/users/{officer.id}/disable", data={})
    assert unticked.status_code == 302
    db.session.refresh(officer)
    assert officer.active
    admin.post(f"/admin/users/{officer.id}/disable", data={"confirm": "y"})
    db.session.refresh(officer)
    assert not officer.active and _events("user.disabled")[-1].actor == "admin@example.org"
    assert accounts.check_password(db.session, "omar@example.org", PASSWORD,
                                   utcnow()).result is LoginResult.REFUSED
    admin.post(f"/admin/users/{officer.id}/enable", data={})
    db.session.refresh(officer)
    assert officer.active


def test_sign_in_help(signed_in: Callable[..., FlaskClient],
                      make_user: Callable[..., User]) -> None:
    officer = make_user("officer", email="omar@example.org")
    officer.failed_logins, officer.locked_until = 9, utcnow() + timedelta(hours=1)
    db.session.commit()
    admin = signed_in("admin")
    reset = admin.post(f"/admin/users/{officer.id}/reset-password", data={"confirm": "y"})
    password = _password_on(reset.get_data(as_text=True))
    assert reset.headers["Cache-Control"] == "no-store"
    admin.post(f"/admin/users/{officer.id}/reset-two-factor", data={"confirm": "y"})
    db.session.refresh(officer)
    assert (officer.locked_until, officer.totp_secret_encrypted) == (None, None)
    assert accounts.check_password(db.session, "omar@example.org", PASSWORD,
                                   utcnow()).result is LoginResult.REFUSED
    assert accounts.check_password(db.session, "omar@example.org", password,
                                   utcnow()).result is LoginResult.NEEDS_ENROLMENT
    assert [event.actor for event in _events("user.password_reset")] == ["admin@example.org"]


@pytest.mark.parametrize(("lang", "heading", "direction"), [
    ("ar", "حسابات الموظفين", 'dir="rtl"'),
    ("en", "Staff accounts", 'dir="ltr"'),
])
def test_pages_in_the_readers_language(signed_in: Callable[..., FlaskClient],
                                       make_user: Callable[..., User], lang: str,
                                       heading: str, direction: str) -> None:
    officer = make_user("officer", email="omar@example.org")
    admin = signed_in("admin")
    for path in ("/admin/users", f"/admin/users/{officer.id}"):
        page = admin.get(path, query_string={"lang": lang}).get_data(as_text=True)
        assert direction in page and heading in page
