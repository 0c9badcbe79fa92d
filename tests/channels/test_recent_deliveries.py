"""The de-duplication fast path: provider retries answered from a private Redis."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select
from werkzeug.test import TestResponse

from bot.conversation import Handled
from casework.intake import Inbound
from casework.models import Case, Direction, Message, utcnow
from channels.recent import KEY_PREFIX, RecentDeliveries
from channels.redis_link import RedisLink
from extensions import db
from services import services
from tests.channels.conftest import post_telegram, post_twilio
from tests.conftest import SIMULATOR_HEADERS, PrivateRedis
from tests.fakes import messaging_form, text_update

COMPLAINT = "لم أستلم السلة الغذائية"
CHAT_ID = 5550001234
TAB = "tab-5d41402abc4b"
SMS = messaging_form(Body=COMPLAINT)


@pytest.fixture
def extra_settings(private_redis: PrivateRedis) -> dict[str, object]:
    return {"redis_url": private_redis.url, "sawti_dedup_seconds": 600}


def _telegram(client: FlaskClient) -> TestResponse:
    return post_telegram(client, text_update(7001, CHAT_ID, COMPLAINT))


def _sms(client: FlaskClient) -> TestResponse:
    return post_twilio(client, "/webhooks/twilio/messaging", dict(SMS))


def _simulator(client: FlaskClient) -> TestResponse:
    return client.post("/webhooks/simulator", headers=SIMULATOR_HEADERS,
                       json={"tab": TAB, "id": "m1", "text": COMPLAINT})


DELIVERIES = [pytest.param(_telegram, str(CHAT_ID), id="telegram"),
              pytest.param(_sms, SMS["MessageSid"], id="twilio-sms"),
              pytest.param(_simulator, TAB, id="simulator")]


@contextmanager
def _statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements the database received inside the block."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _counts(app: Flask) -> tuple[int, int, int]:
    with app.app_context():
        def count(*where: object) -> int:
            return db.session.scalar(select(func.count()).select_from(Message).where(*where))
        cases = db.session.scalar(select(func.count()).select_from(Case))
        result = (count(Message.direction == Direction.INBOUND),
                  count(Message.direction == Direction.OUTBOUND), cases)
        db.session.rollback()
        return result


@pytest.mark.parametrize(("deliver", "provider_id"), DELIVERIES)
def test_a_retry_is_answered_without_the_database(
        app: Flask, client: FlaskClient, private_redis: PrivateRedis,
        deliver: Callable[[FlaskClient], TestResponse], provider_id: str) -> None:
    assert deliver(client).status_code == 200
    assert _counts(app) == (1, 2, 1)  # the message, its acknowledgement and question, a case

    with _statements(app) as statements:
        retry = deliver(client)
    assert retry.status_code == 200
    assert statements == []  # answered from Redis alone
    assert _counts(app) == (1, 2, 1)  # nothing stored or queued twice

    keys = private_redis.client.keys("*")
    delivered = [key for key in keys if key.startswith(KEY_PREFIX.encode())]
    assert len(delivered) == 1
    assert 0 < private_redis.client.ttl(delivered[0]) <= 600
    stored = b" ".join(keys + [private_redis.client.get(key) or b"" for key in delivered])
    assert provider_id.encode() not in stored  # neither the provider's id nor the address


def test_the_simulator_says_a_retry_is_a_duplicate(client: FlaskClient) -> None:
    first, retry = _simulator(client), _simulator(client)
    assert first.json == {"accepted": [{"duplicate": False}]}
    assert retry.json == {"accepted": [{"duplicate": True}]}


@pytest.mark.parametrize("lose", [
    pytest.param(lambda redis: redis.client.flushall(), id="redis-forgot-the-delivery"),
    pytest.param(lambda redis: redis.stop(), id="redis-stopped"),
])
@pytest.mark.parametrize(("deliver", "provider_id"), DELIVERIES)
def test_without_the_fast_path_the_database_still_deduplicates(
        app: Flask, client: FlaskClient, private_redis: PrivateRedis,
        lose: Callable[[PrivateRedis], object],
        deliver: Callable[[FlaskClient], TestResponse], provider_id: str) -> None:
    assert deliver(client).status_code == 200
    lose(private_redis)
    with _statements(app) as statements:
        retry = deliver(client)
    assert retry.status_code == 200, retry.get_data(as_text=True)
    assert statements  # the database path answered
    assert _counts(app) == (1, 2, 1)


def test_a_new_message_is_stored_and_answered_while_redis_is_down(
        app: Flask, client: FlaskClient, private_redis: PrivateRedis) -> None:
    private_redis.stop()
    for update_id, text in ((8001, COMPLAINT), (8002, "وين التوزيع؟")):
        response = post_telegram(client, text_update(update_id, CHAT_ID, text))
        assert response.status_code == 200, response.get_data(as_text=True)
    inbound, _outbound, cases = _counts(app)
    assert (inbound, cases) == (2, 1)


def _inbound(external_id: str) -> Inbound:
    return Inbound(channel="telegram", address="42", external_id=external_id, text=COMPLAINT,
                   received_at=utcnow())


@pytest.fixture
def recent(app: Flask, private_redis: PrivateRedis) -> Iterator[RecentDeliveries]:
    with app.app_context():
        vault = services().vault
    deliveries = RecentDeliveries(RedisLink(private_redis.url, degraded="test"), vault, 60)
    yield deliveries
    deliveries.close()


def test_a_delivery_whose_handling_failed_is_not_remembered(
        recent: RecentDeliveries, private_redis: PrivateRedis) -> None:
    def fail(_inbound: Inbound) -> Handled:
        raise RuntimeError("the transaction rolled back")

    with pytest.raises(RuntimeError):
        recent.handle(_inbound("1"), fail)
    assert recent.find(_inbound("1")) is None
    assert private_redis.client.dbsize() == 0


@pytest.mark.parametrize(("first", "retry", "expect_handled_twice"), [
    pytest.param("1", "1", False, id="same-delivery"),
    pytest.param("1", "2", True, id="another-delivery"),
])
def test_only_the_same_delivery_is_a_duplicate(
        recent: RecentDeliveries, first: str, retry: str, expect_handled_twice: bool) -> None:
    handled: list[str] = []

    def handle(inbound: Inbound) -> Handled:
        handled.append(inbound.external_id)
        return Handled(message_id=len(handled), duplicate=False, case_reference="1234563",
                       replies=(10, 11))

    recent.handle(_inbound(first), handle)
    answer = recent.handle(_inbound(retry), handle)
    assert (len(handled) == 2) is expect_handled_twice
    if not expect_handled_twice:
        assert answer == Handled(message_id=1, duplicate=True, case_reference="1234563",
                                 replies=())


@pytest.mark.parametrize("stored", [b"not json", b"{}", b'{"message": "x", "case": null}'])
def test_a_value_that_is_not_ours_sends_the_retry_to_the_database(
        recent: RecentDeliveries, private_redis: PrivateRedis, stored: bytes) -> None:
    private_redis.client.set(recent.key(_inbound("1")), stored)
    handled: list[str] = []

    def handle(inbound: Inbound) -> Handled:
        handled.append(inbound.external_id)
        return Handled(message_id=7, duplicate=True, case_reference=None, replies=())

    assert recent.handle(_inbound("1"), handle).message_id == 7
    assert handled == ["1"]
