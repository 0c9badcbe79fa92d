"""The console's notification list, its count in the navigation, and linking Telegram."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from casework import notifications
from casework.models import AuditEvent, Notification, Role, User, utcnow
from extensions import db

PARAMS = {"reference": "1234567", "level": 5, "due_at": "2026-12-04T04:30:00+00:00"}


def notify(user: User, reference: str = "1234567", kind: str = notifications.SENSITIVE
           ) -> Notification:
    note = notifications.create(db.session, user, kind, params=PARAMS | {"reference": reference},
                                now=utcnow())
    db.session.commit()
    assert note is not None
    return note


def badge(client: FlaskClient) -> str | None:
    page = client.get("/admin/notifications?lang=en").get_data(as_text=True)
    found = re.search(r'id="nav-notifications">Notifications(?: <span[^>]*>(\d+)</span>)?',
                      page)
    assert found is not None
    return found.group(1)


def test_everyone_sees_only_their_own_notifications(signed_in: Callable[..., FlaskClient],
                                                    make_user: Callable[..., User]) -> None:
    client = signed_in(Role.PSEA)
    colleague = make_user(Role.PSEA, email="colleague@example.org")
    notify(client.user, "1111119")
    notify(colleague, "2222228")
    page = client.get("/admin/notifications?lang=en").get_data(as_text=True)
    assert "Case 1111119 is sensitive (level 5)" in page
    assert "2222228" not in page
    assert 'href="/admin/cases/1111119"' in page


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_every_role_has_the_page(signed_in: Callable[..., FlaskClient], role: Role) -> None:
    response = signed_in(role).get("/admin/notifications?lang=en")
    assert response.status_code == 200
    assert "No notifications yet." in response.get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_the_login(client: FlaskClient) -> None:
    response = client.get("/admin/notifications")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    assert client.post("/admin/notifications/read-all").status_code in (302, 400)


def test_the_navigation_counts_unread_notifications(signed_in: Callable[..., FlaskClient]
                                                    ) -> None:
    client = signed_in(Role.OFFICER)
    assert badge(client) is None
    first = notify(client.user, "1111119")
    notify(client.user, "2222228")
    assert badge(client) == "2"
    response = client.post(f"/admin/notifications/{first.id}/read")
    assert response.status_code == 302
    assert badge(client) == "1"
    client.post("/admin/notifications/read-all")
    assert badge(client) is None
    db.session.expire_all()
    assert all(n.read_at is not None for n in db.session.scalars(select(Notification)))


def test_nobody_marks_someone_elses_notification(signed_in: Callable[..., FlaskClient],
                                                make_user: Callable[..., User]) -> None:
    client = signed_in(Role.OFFICER)
    other = notify(make_user(Role.PSEA))
    assert client.post(f"/admin/notifications/{other.id}/read").status_code == 404
    assert client.post("/admin/notifications/999999/read").status_code == 404
    client.post("/admin/notifications/read-all")
    db.session.expire_all()
    assert db.session.get(Notification, other.id).read_at is None


def test_delivery_states_are_shown(signed_in: Callable[..., FlaskClient]) -> None:
    client = signed_in(Role.PSEA)
    note = notify(client.user)
    note.email_status, note.email_error = "failed", "smtp SMTPDataError: 451"
    note.telegram_status = "skipped"
    db.session.commit()
    page = client.get("/admin/notifications?lang=en").get_data(as_text=True)
    assert "failed" in page and "smtp SMTPDataError: 451" in page and "not sent" in page


# --- Telegram ---------------------------------------------------------------------------------


def test_without_telegram_no_code_is_given(signed_in: Callable[..., FlaskClient]) -> None:
    client = signed_in(Role.OFFICER)
    assert "Telegram is not configured" in client.get(
        "/admin/account/telegram?lang=en").get_data(as_text=True)
    response = client.post("/admin/account/telegram/link?lang=en")
    assert response.status_code == 409
    db.session.expire_all()
    assert client.user.telegram_link_code_hash is None


@pytest.mark.parametrize("settings_overrides", [{
    "telegram_bot_token": "123456:console-test", "telegram_webhook_secret": "s" * 32,
    "telegram_api_url": "http://127.0.0.1:9",  # never called: linking needs no Bot API call
}], ids=["telegram"])
def test_link_telegram_shows_a_one_time_code_then_unlink(
        signed_in: Callable[..., FlaskClient]) -> None:
    client = signed_in(Role.OFFICER)
    page = client.post("/admin/account/telegram/link?lang=en").get_data(as_text=True)
    code = re.search(r'id="link-code">/link (\d{8})<', page)
    assert code is not None and "within 10 minutes" in page
    user = client.user
    db.session.expire_all()
    assert user.telegram_link_code_hash is not None and code.group(1) not in str(
        user.telegram_link_code_hash)
    assert notifications.link_telegram(db.session, code.group(1), "encrypted-chat",
                                       utcnow()) is user
    db.session.commit()
    page = client.get("/admin/account/telegram?lang=en").get_data(as_text=True)
    assert "Unlink Telegram" in page
    assert client.post("/admin/account/telegram/unlink").status_code == 302
    db.session.expire_all()
    assert user.telegram_chat_encrypted is None
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-3:] == ["user.telegram_link_started", "user.telegram_linked",
                            "user.telegram_unlinked"]
