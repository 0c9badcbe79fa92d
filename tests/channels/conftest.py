"""Fixtures for channel tests: local fake providers and an app configured to use them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from channels.dispatcher import Dispatcher
from extensions import db
from services import services
from tests.fakes import FakeTelegram, FakeTwilio, signed_form

BOT_TOKEN = "123456:test-bot-token"
WEBHOOK_SECRET = "telegram-webhook-secret-0123456789"
ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "twilio-auth-token-test"
PUBLIC_URL = "https://crm.example.org/sawti"
SMS_NUMBER = "+15005550006"
WHATSAPP_NUMBER = "+14155238886"
TEMPLATE_SID = "HX" + "1" * 32


@pytest.fixture(scope="session")
def fake_telegram_server() -> Iterator[FakeTelegram]:
    with FakeTelegram(BOT_TOKEN) as server:
        yield server


@pytest.fixture(scope="session")
def fake_twilio_server() -> Iterator[FakeTwilio]:
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as server:
        yield server


@pytest.fixture
def fake_telegram(fake_telegram_server: FakeTelegram) -> FakeTelegram:
    fake_telegram_server.reset()
    return fake_telegram_server


@pytest.fixture
def fake_twilio(fake_twilio_server: FakeTwilio) -> FakeTwilio:
    fake_twilio_server.reset()
    return fake_twilio_server


@pytest.fixture
def extra_settings() -> dict[str, object]:
    """Per-test additions to the channel settings; parametrize this one."""
    return {}


@pytest.fixture
def settings_overrides(fake_telegram: FakeTelegram, fake_twilio: FakeTwilio,
                       extra_settings: dict[str, object]) -> dict[str, object]:
    return {
        "public_url": PUBLIC_URL,
        "telegram_bot_token": BOT_TOKEN,
        "telegram_webhook_secret": WEBHOOK_SECRET,
        "telegram_api_url": fake_telegram.url,
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_sms_number": SMS_NUMBER,
        "twilio_whatsapp_number": WHATSAPP_NUMBER,
        "twilio_voice_number": "+15005550007",
        "twilio_whatsapp_template_sid": TEMPLATE_SID,
        "twilio_api_url": fake_twilio.url,
        # Generous: under load the local fakes can take over a second to answer, and a
        # client that gives up then sees a sent message as failed (a flaky test).
        "sawti_provider_timeout_seconds": 3.0,
    } | extra_settings


def post_twilio(client: FlaskClient, path: str, params: dict, *, sign_url: str | None = None,
                token: str = AUTH_TOKEN, signature: str | None = None) -> TestResponse:
    """Post a form as Twilio would, signed for the public URL unless told otherwise."""
    params, computed = signed_form(sign_url or PUBLIC_URL + path, params, token)
    headers = {"X-Twilio-Signature": computed if signature is None else signature}
    return client.post(path, data=params, headers=headers)


def post_telegram(client: FlaskClient, update: object, *, secret: str | None = WEBHOOK_SECRET
                  ) -> TestResponse:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return client.post("/webhooks/telegram", json=update, headers=headers)


class WorkerThreads:
    """Dispatchers running ``run_forever`` in threads, each in its own application context
    (so its own database session), as ``flask worker`` processes would; all stopped after the
    test, whatever happened."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []

    def start(self, app: Flask, make: Callable[[], Dispatcher] | None = None) -> None:
        def run() -> None:
            with app.app_context():
                dispatcher = make() if make else services().dispatcher(db.session)
                try:
                    dispatcher.run_forever(self.stop)
                except BaseException as error:  # reported by the fixture
                    self.errors.append(error)
                finally:
                    dispatcher.close()
                    db.session.remove()

        thread = threading.Thread(target=run, name=f"worker-{len(self.threads)}", daemon=True)
        self.threads.append(thread)
        thread.start()

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=10)
        assert not any(thread.is_alive() for thread in self.threads), "a worker did not stop"
        assert not self.errors, self.errors


@pytest.fixture
def worker_threads() -> Iterator[WorkerThreads]:
    workers = WorkerThreads()
    try:
        yield workers
    finally:
        workers.join()


def wait_until(condition: Callable[[], object], timeout: float, pause: float = 0.01) -> float:
    """Seconds until ``condition()`` held; fails the test after ``timeout`` seconds."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"still not true after {timeout} s")
        time.sleep(pause)
    return time.monotonic() - start
