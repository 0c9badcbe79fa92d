"""Per-channel send rates: shared by workers through a private Redis, kept in the process
without it or while it is down, and never costing a message an attempt."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from casework import outbox
from casework.models import Case, Contact, DeliveryStatus, Message, utcnow
from channels.dispatcher import Dispatcher
from channels.send_rate import WINDOW_SECONDS, SendRate
from extensions import db
from services import services
from tests.channels.conftest import WorkerThreads, post_telegram, wait_until
from tests.conftest import PrivateRedis
from tests.fakes import FakeTelegram, text_update

LIMIT = 3  # telegram messages per second in the shared-limit test
MESSAGES = 3 * LIMIT
COMPLAINT = "لم أستلم السلة الغذائية"


@pytest.fixture
def extra_settings(request: pytest.FixtureRequest, private_redis: PrivateRedis
                   ) -> dict[str, object]:
    return {"redis_url": private_redis.url, "sawti_send_rate": {"telegram": LIMIT},
            "sawti_worker_poll_seconds": 0.05, "sawti_worker_redis_poll_seconds": 0.5,
            } | getattr(request, "param", {})


@pytest.mark.parametrize(("limits", "channel", "sent_now"), [
    pytest.param({"sms": 2}, "sms", 2, id="limited"),
    pytest.param({"voice": 1}, "voice", 1, id="one-per-second"),
    pytest.param({"sms": 2}, "telegram", 10, id="channel-not-listed"),
    pytest.param({"sms": 0}, "sms", 10, id="zero-means-no-limit"),
])
def test_in_process_rate(limits: dict[str, int], channel: str, sent_now: int) -> None:
    rate = SendRate(limits)
    waits = [rate.acquire(channel) for _ in range(10)]
    assert waits[:sent_now] == [0.0] * sent_now
    assert all(0 < wait <= 1.0 for wait in waits[sent_now:])


def test_two_workers_share_the_rate_in_redis(private_redis: PrivateRedis) -> None:
    first, second = (SendRate({"sms": 4}, private_redis.url) for _ in range(2))
    try:
        waits = [rate.acquire("sms") for _ in range(4) for rate in (first, second)]
        assert waits.count(0.0) == 4  # not 4 each
        assert all(0 < wait <= 1.0 for wait in waits if wait)
        # A whole window after the last call: every earlier send has left it, however slowly a
        # loaded machine made the calls above (waits count from the oldest send only).
        time.sleep(WINDOW_SECONDS + 0.05)
        assert first.acquire("sms") == 0.0
        assert private_redis.client.zcard("sawti:send_rate:sms") == 1
    finally:
        first.close()
        second.close()


def test_the_rate_falls_back_to_the_process_when_redis_stops(
        private_redis: PrivateRedis, caplog: pytest.LogCaptureFixture) -> None:
    rate = SendRate({"sms": 2}, private_redis.url)
    try:
        assert [rate.acquire("sms") for _ in range(2)] == [0.0, 0.0]
        assert rate.shared
        private_redis.stop()
        with caplog.at_level(logging.WARNING, logger="channels.redis_link"):
            waits = [rate.acquire("sms") for _ in range(3)]
        assert waits[:2] == [0.0, 0.0] and 0 < waits[2] <= 1.0  # this process's own count
        assert not rate.shared
        assert [r.getMessage() for r in caplog.records] == [
            "redis unreachable; send rates kept by this worker alone"]  # once, not per send
    finally:
        rate.close()


@pytest.mark.parametrize("extra_settings", [
    pytest.param({"redis_url": None, "sawti_send_rate": {"simulator": 1}}, id="no-redis"),
], indirect=True)
def test_over_the_rate_waits_without_using_an_attempt(
        simulate: Callable[..., TestResponse], dispatcher: Dispatcher) -> None:
    simulate(COMPLAINT)  # the acknowledgement and a question
    before = utcnow()
    assert dispatcher.run_once() == 2
    first, second = db.session.scalars(
        select(Message).where(Message.direction == "out").order_by(Message.id)).all()
    assert (first.status, first.attempts) == (DeliveryStatus.DELIVERED, 1)
    assert (second.status, second.attempts, second.last_error) == (DeliveryStatus.QUEUED, 0,
                                                                   None)
    assert before < second.next_attempt_at <= before + timedelta(seconds=1.2)
    assert dispatcher.run_once() == 0  # not due yet
    time.sleep(max(0.0, (second.next_attempt_at - utcnow()).total_seconds()) + 0.01)
    assert dispatcher.run_once() == 1
    assert (second.status, second.attempts) == (DeliveryStatus.DELIVERED, 1)


@pytest.fixture
def telegram_replies(app: Flask, client: FlaskClient) -> list[int]:
    """MESSAGES telegram messages queued for one person: the webhook's two, then replies."""
    assert post_telegram(client, text_update(1, 4242, COMPLAINT)).status_code == 200
    with app.app_context():
        contact = db.session.scalars(select(Contact)).one()
        case = db.session.scalars(select(Case)).one()
        for number in range(MESSAGES - 2):
            outbox.enqueue(db.session, contact, case, f"رد {number}", kind="reply",
                           language="ar", now=utcnow())
        db.session.commit()
        return list(db.session.scalars(select(Message.id).where(Message.direction == "out")))


class Arrivals:
    """When each message reached the fake provider, sampled every few milliseconds."""

    def __init__(self, provider: FakeTelegram, expected: int, timeout: float = 30) -> None:
        self.provider, self.expected, self.timeout = provider, expected, timeout
        self.times: list[float] = []
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        deadline = time.monotonic() + self.timeout
        while len(self.times) < self.expected and time.monotonic() < deadline:
            count, now = len(self.provider.sent_messages()), time.monotonic()
            self.times.extend([now] * (count - len(self.times)))
            time.sleep(0.002)


@pytest.fixture
def arrivals(fake_telegram: FakeTelegram) -> Iterator[Arrivals]:
    sampler = Arrivals(fake_telegram, MESSAGES)
    sampler._thread.start()
    yield sampler
    sampler._thread.join(timeout=sampler.timeout + 5)


def test_two_workers_together_keep_the_channel_rate(
        app: Flask, telegram_replies: list[int], arrivals: Arrivals,
        worker_threads: WorkerThreads, fake_telegram: FakeTelegram) -> None:
    def one_at_a_time() -> Dispatcher:  # so that both workers take turns
        svc = services()
        return Dispatcher(db.session, svc.adapters, svc.vault, svc.settings, batch=1)

    worker_threads.start(app, one_at_a_time)
    worker_threads.start(app, one_at_a_time)
    wait_until(lambda: len(arrivals.times) == MESSAGES, timeout=20)

    times = arrivals.times
    # Never more than LIMIT in any second. Arrivals lag admissions by the HTTP round trip,
    # which a loaded machine stretches unevenly: allow half a second of it. Unlimited, the
    # LIMIT + 1 messages arrive within a few hundredths of a second.
    assert min(times[i + LIMIT] - times[i] for i in range(MESSAGES - LIMIT)) >= 0.5
    assert len(fake_telegram.sent_messages()) == MESSAGES  # each sent once

    def recorded() -> list[Any]:  # the provider has the last one a moment before the database
        with app.app_context():
            rows = db.session.execute(select(Message.status, Message.attempts,
                                             Message.last_error)
                                      .where(Message.id.in_(telegram_replies))).all()
            db.session.rollback()
        return rows

    wait_until(lambda: all(status == DeliveryStatus.SENT for status, *_ in recorded()),
               timeout=10)
    assert recorded() == [(DeliveryStatus.SENT, 1, None)] * MESSAGES  # waiting used no attempt
