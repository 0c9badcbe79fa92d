"""Shared fixtures: settings, an application on a fresh database per test, and helpers."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from werkzeug.test import TestResponse

from app import create_app
from casework import accounts
from channels.dispatcher import Dispatcher
from config.settings import Settings, load_settings
from extensions import db
from services import services

# Set SAWTI_TEST_DATABASE_URL to a PostgreSQL URL to run the suite there (one schema per test).
TEST_DATABASE_URL = os.environ.get("SAWTI_TEST_DATABASE_URL")
# Set SAWTI_TEST_REDIS_URL to a Redis database of the suite's own to run it with REDIS_URL set
# (production mode: dialogue sessions, de-duplication, rate limits in Redis); each test
# starts with that database empty, so suites must not share it.
TEST_REDIS_URL = os.environ.get("SAWTI_TEST_REDIS_URL")
_schema_numbers = itertools.count()


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    schema = f"t{os.getpid()}_{next(_schema_numbers)}"
    engine = create_engine(TEST_DATABASE_URL)
    with engine.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in TEST_DATABASE_URL else "?"
    yield f"{TEST_DATABASE_URL}{separator}options=-csearch_path%3D{schema}"
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashes() -> Iterator[None]:
    """Argon2 at its cheapest for the suite: the real cost (0.1 s a hash, by design) spent on
    every test user added minutes. The hash format and the verification are the same."""
    kept = accounts._hasher
    accounts._hasher = PasswordHasher.from_parameters(CHEAPEST)
    yield
    accounts._hasher = kept


@pytest.fixture
def redis_url() -> str | None:
    """The suite's Redis (SAWTI_TEST_REDIS_URL), emptied for this test; else None."""
    if TEST_REDIS_URL:
        redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    return TEST_REDIS_URL


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Per-test changes to the settings; override this fixture in a test module."""
    return {}


@pytest.fixture
def settings(tmp_path: Path, database_url: str, redis_url: str | None,
             settings_overrides: dict[str, object]) -> Settings:
    values: dict[str, object] = {
        "sawti_env": "test",
        "sawti_instance_path": tmp_path / "instance",
        "database_url": database_url,
        "secret_key": "test-secret-key-" + "x" * 32,
        "sawti_data_key": "test-data-key-" + "y" * 32,
        "sawti_org_name": "صوتي",
        "redis_url": redis_url,
        "sawti_send_backoff_seconds": 1.0,
        "sawti_send_rate": {},  # no send-rate limit unless a test sets one
    }
    values.update(settings_overrides)
    return load_settings(**values)


def _forget_cached_locale() -> None:
    g.pop("_flask_babel", None)


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    application = create_app(settings)
    # Tests reuse one app context across requests, where Flask-Babel would keep the first
    # request's locale on `g`; forget it so each request picks its language as in production.
    application.before_request(_forget_cached_locale)
    with application.app_context():
        db.create_all()
    yield application
    application.extensions["sawti"].close()
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def app_context(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


@pytest.fixture
def dispatcher(app_context: None) -> Dispatcher:
    return services().dispatcher(db.session)


SIMULATOR_HEADERS = {"X-Sawti-Simulator": "1"}


@pytest.fixture
def simulate(client: FlaskClient) -> Callable[..., TestResponse]:
    """Post one message to the simulator webhook as a given tab (person)."""
    numbers = itertools.count(1)

    def post(text: str, tab: str = "tab-00000001", message_id: str | None = None
             ) -> TestResponse:
        payload = {"tab": tab, "id": message_id or f"m{next(numbers)}", "text": text}
        return client.post("/webhooks/simulator", json=payload, headers=SIMULATOR_HEADERS)

    return post


class PrivateRedis:
    """A redis-server of this test's own, on a free port: stopping it touches nothing else
    (never the shared Redis on 6379)."""

    def __init__(self, directory: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.directory = directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.start()

    def start(self) -> None:
        """Start (or start again, with what a ``SAVE`` left on disk) on this port."""
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.client = redis.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client.ping()
                return
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("the private redis-server did not start") from None
                time.sleep(0.02)

    def stop(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)

    def blocked_clients(self) -> int:
        return int(self.client.info("clients")["blocked_clients"])


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    directory = tmp_path / "redis"
    directory.mkdir()
    server = PrivateRedis(directory)
    try:
        yield server
    finally:
        server.stop()
