"""Dispatcher wake-ups through a private Redis, and what still works when that Redis stops."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from casework import outbox
from casework.models import Contact, Direction, Message, utcnow
from channels.wakeup import WAKEUP_KEY
from extensions import db
from tests.channels.conftest import WorkerThreads, post_telegram, wait_until
from tests.conftest import PrivateRedis
from tests.fakes import text_update

COMPLAINT = "لم أستلم السلة الغذائية"
SLOW_POLL = {"sawti_worker_poll_seconds": 30.0, "sawti_worker_redis_poll_seconds": 30.0}


@pytest.fixture
def extra_settings(request: pytest.FixtureRequest, private_redis: PrivateRedis
                   ) -> dict[str, object]:
    return {"redis_url": private_redis.url} | getattr(request, "param", SLOW_POLL)


def _statuses(app: Flask, direction: str) -> list[str]:
    with app.app_context():
        try:
            return list(db.session.scalars(select(Message.status)
                                           .where(Message.direction == direction)
                                           .order_by(Message.id)))
        finally:
            db.session.rollback()  # never keep SQLite's write lock from the worker


def _all_delivered(app: Flask, count: int) -> Callable[[], bool]:
    return lambda: _statuses(app, Direction.OUTBOUND) == ["delivered"] * count


def test_an_idle_worker_wakes_when_a_message_is_queued(
        app: Flask, simulate: Callable[..., TestResponse], private_redis: PrivateRedis,
        worker_threads: WorkerThreads) -> None:
    worker_threads.start(app)
    wait_until(lambda: private_redis.blocked_clients() == 1, timeout=10)  # waiting in BLPOP

    assert simulate(COMPLAINT).status_code == 200  # the commit that queued two replies
    # The worker polls every 30 s here: only the wake-up explains a delivery this soon (it
    # takes well under a second; a loaded machine gets a margin).
    seconds = wait_until(_all_delivered(app, 2), timeout=10)
    assert seconds < 5.0
    assert private_redis.client.llen(WAKEUP_KEY) == 0  # the worker took the wake-up


@pytest.mark.parametrize(("commit", "published"), [
    pytest.param(True, 1, id="commit-publishes-once"),
    pytest.param(False, 0, id="rollback-publishes-nothing"),
])
def test_a_wakeup_is_published_only_after_the_commit(
        app: Flask, simulate: Callable[..., TestResponse], private_redis: PrivateRedis,
        commit: bool, published: int) -> None:
    simulate(COMPLAINT)
    assert private_redis.client.llen(WAKEUP_KEY) == 1  # the webhook's own commit
    private_redis.client.delete(WAKEUP_KEY)
    with app.app_context():
        contact = db.session.scalars(select(Contact)).one()
        outbox.enqueue(db.session, contact, None, "نص", kind="reply", language="ar",
                       now=utcnow())
        db.session.flush()
        assert private_redis.client.llen(WAKEUP_KEY) == 0  # not before the commit
        db.session.commit() if commit else db.session.rollback()
        assert private_redis.client.llen(WAKEUP_KEY) == published
        contact.language = "en"
        db.session.commit()  # queues nothing: no further wake-up
        assert private_redis.client.llen(WAKEUP_KEY) == published


@pytest.mark.parametrize("extra_settings", [
    pytest.param({"sawti_worker_poll_seconds": 0.1, "sawti_worker_redis_poll_seconds": 30.0},
                 id="redis-stops-while-the-worker-waits"),
], indirect=True)
def test_everything_goes_on_when_redis_stops(
        app: Flask, client: FlaskClient, simulate: Callable[..., TestResponse],
        private_redis: PrivateRedis, worker_threads: WorkerThreads) -> None:
    worker_threads.start(app)
    wait_until(lambda: private_redis.blocked_clients() == 1, timeout=10)
    private_redis.stop()

    response = simulate(COMPLAINT)  # publishing the wake-up fails: the request does not
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json == {"accepted": [{"duplicate": False}]}
    assert _statuses(app, Direction.INBOUND) == ["received"]
    wait_until(_all_delivered(app, 2), timeout=10)  # the worker fell back to polling

    health = client.get("/healthz")
    assert health.status_code == 503
    assert (health.json["redis"], health.json["database"], health.json["status"]) == (
        "unavailable", "ok", "degraded")


def test_a_provider_webhook_is_stored_and_answered_without_redis(
        app: Flask, client: FlaskClient, private_redis: PrivateRedis) -> None:
    private_redis.stop()  # the webhook rate limits are kept in Redis too
    response = post_telegram(client, text_update(1, 4242, COMPLAINT))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert _statuses(app, Direction.INBOUND) == ["received"]
    assert _statuses(app, Direction.OUTBOUND) == ["queued", "queued"]
