"""A staff member links their Telegram chat with "/link CODE" and then receives alerts there,
all through the real python-telegram-bot client and the fake Bot API."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from bot.messages import Speaker
from casework import accounts, notifications, scheduler
from casework.models import AuditEvent, Case, Message, Role, User, utcnow
from channels.dispatcher import Dispatcher
from extensions import db
from services import services
from tests.channels.conftest import post_telegram
from tests.fakes import FakeTelegram, text_update

STAFF_CHAT = 7770001
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_updates = itertools.count(1000)


@pytest.fixture
def officer(app_context: None) -> User:
    user = accounts.create_user(db.session, "amal@example.org", "correct horse battery",
                                Role.OFFICER)
    user.language = "en"
    db.session.commit()
    return user


def send(client: FlaskClient, text: str, chat: int = STAFF_CHAT) -> None:
    response = post_telegram(client, text_update(next(_updates), chat, text))
    assert response.status_code == 200


def bot_said(fake: FakeTelegram, dispatcher: Dispatcher) -> list[str]:
    dispatcher.run_once()
    return [sent["text"] for sent in fake.sent_messages()]


@pytest.mark.parametrize("typed", [
    pytest.param(lambda code: f"/link {code}", id="ascii-digits"),
    pytest.param(lambda code: f"/link {code.translate(ARABIC_INDIC)}", id="arabic-indic"),
    pytest.param(lambda code: f"/link@sawti_bot {code}", id="addressed-to-the-bot"),
])
def test_link_then_alerts_arrive_in_that_chat(
        client: FlaskClient, officer: User, fake_telegram: FakeTelegram,
        dispatcher: Dispatcher, typed: Callable[[str], str]) -> None:
    code = notifications.start_telegram_link(db.session, officer, utcnow())
    send(client, typed(code))

    assert bot_said(fake_telegram, dispatcher) == [Speaker("ar")._(
        "This chat now receives your Sawti alerts. You can unlink it on your account page in "
        "the console.")]
    db.session.expire_all()
    assert services().vault.decrypt(officer.telegram_chat_encrypted) == str(STAFF_CHAT)
    assert db.session.scalar(select(func.count(Case.id))) == 0  # no case for a staff command
    stored = db.session.scalars(select(Message).where(Message.direction == "in")).one()
    assert stored.body == "/link" and code not in (stored.search_text or "")
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "user.telegram_linked")).one()
    assert event.actor == officer.email and str(STAFF_CHAT) not in str(event.details)

    note = notifications.create(db.session, officer, notifications.REFERRAL_DUE,
                                params={"reference": "1234567", "level": 2,
                                        "due_at": utcnow().isoformat()}, now=utcnow())
    db.session.commit()
    fake_telegram.reset()
    scheduler.deliver_notifications(db.session, services(), utcnow())
    [alert] = fake_telegram.sent_messages()
    assert alert["chat_id"] == STAFF_CHAT and "due today: case 1234567" in alert["text"]
    db.session.expire_all()
    assert db.session.get(type(note), note.id).telegram_status == "sent"


@pytest.mark.parametrize(("label", "prepare", "later"), [
    ("wrong-code", lambda code: str((int(code) + 1) % 10 ** 8).zfill(8), timedelta(0)),
    ("expired", lambda code: code, timedelta(minutes=11)),
    ("no-code", lambda code: "", timedelta(0)),
])
def test_a_bad_code_links_nothing_and_says_so(
        client: FlaskClient, officer: User, fake_telegram: FakeTelegram,
        dispatcher: Dispatcher, label: str, prepare: Callable[[str], str],
        later: timedelta) -> None:
    code = notifications.start_telegram_link(db.session, officer, utcnow() - later)
    send(client, f"/link {prepare(code)}".strip())
    assert bot_said(fake_telegram, dispatcher) == [Speaker("ar")._(
        "This code is not valid or has expired. Ask for a new code on your account page in "
        "the console.")]
    kinds = db.session.scalars(select(Message.kind).where(Message.direction == "out")).all()
    assert kinds == ["link"]
    db.session.expire_all()
    assert officer.telegram_chat_encrypted is None
    assert db.session.scalar(select(func.count(Case.id))) == 0


def test_a_code_is_used_once(client: FlaskClient, officer: User,
                             fake_telegram: FakeTelegram, dispatcher: Dispatcher) -> None:
    code = notifications.start_telegram_link(db.session, officer, utcnow())
    send(client, f"/link {code}")
    send(client, f"/link {code}", chat=STAFF_CHAT + 1)  # someone who saw the code
    db.session.expire_all()
    assert services().vault.decrypt(officer.telegram_chat_encrypted) == str(STAFF_CHAT)
    refused = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "user.telegram_link_refused")).one()
    assert refused.details == {"reason": "unknown"}


def test_link_is_a_telegram_command_only(client: FlaskClient, officer: User,
                                         simulate: Callable[..., object]) -> None:
    code = notifications.start_telegram_link(db.session, officer, utcnow())
    simulate(f"/link {code}")
    db.session.expire_all()
    assert officer.telegram_chat_encrypted is None
