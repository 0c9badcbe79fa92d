"""Fuzzing helpers: channel settings, hypothesis profiles, checked requests and a tally.

``SAWTI_FUZZ_PROFILE`` picks the profile: ``ci`` (default, bounded, part of ``make test``) or
``fuzz`` (``make fuzz``: many more examples). Examples and HTTP answers are tallied and
printed at the end of the run (the issue's report asks for them).
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable

import redis
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from sqlalchemy import delete, func, select, text
from werkzeug.test import TestResponse

from casework.models import (
    Attachment,
    AuditEvent,
    Base,
    Case,
    Contact,
    Message,
    TriageSuggestion,
    VoiceCall,
)
from extensions import db
from services import services
from tests.fakes import signed_form

SECRET = "telegram-webhook-secret-0123456789"
AUTH_TOKEN = "twilio-auth-token-test"
ACCOUNT_SID = "AC" + "0" * 32
PUBLIC_URL = "https://crm.example.org/sawti"
VOICE_NUMBER = "+15005550007"
CHANNELS: dict[str, object] = {
    "public_url": PUBLIC_URL, "telegram_bot_token": "123456:test-bot-token",
    "telegram_webhook_secret": SECRET, "telegram_api_url": "http://127.0.0.1:9",
    "twilio_account_sid": ACCOUNT_SID, "twilio_auth_token": AUTH_TOKEN,
    "twilio_sms_number": "+15005550006", "twilio_whatsapp_number": "+14155238886",
    "twilio_voice_number": VOICE_NUMBER, "twilio_api_url": "http://127.0.0.1:9",
    "sawti_provider_timeout_seconds": 0.5,
    # Fuzzing is a flood from one address: the per-IP limits are tested in tests/test_abuse.py.
    "sawti_webhook_rate_limit": "1000000 per minute",
    "sawti_webhook_refusal_limit": "1000000 per minute",
}

_common = {"deadline": None, "database": None, "derandomize": False,
           "suppress_health_check": [HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow, HealthCheck.data_too_large]}
settings.register_profile("ci", max_examples=30, **_common)
settings.register_profile("fuzz", max_examples=1500, **_common)
PROFILE = os.environ.get("SAWTI_FUZZ_PROFILE", "ci")
FUZZ_SETTINGS = settings.get_profile(PROFILE)
# Examples for the slower, whole-database properties (idempotency) are fewer.
HEAVY_SETTINGS = settings(FUZZ_SETTINGS, max_examples=max(8, FUZZ_SETTINGS.max_examples // 3))

TALLY: Counter[str] = Counter()


class _Failures(logging.Handler):
    """The dialogue's failures: handle_inbound keeps the message and answers 2xx, so a bug
    there would no longer show as a 5xx; the fuzzer looks for the error it logs instead."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


DIALOGUE_FAILURES = _Failures()
logging.getLogger("bot.conversation").addHandler(DIALOGUE_FAILURES)


def answered(response: TestResponse) -> TestResponse:
    """Tally one HTTP answer; a 5xx fails the test where it happened."""
    TALLY["requests"] += 1
    TALLY[f"{response.status_code // 100}xx"] += 1
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    failures, DIALOGUE_FAILURES.messages[:] = list(DIALOGUE_FAILURES.messages), []
    assert not failures, failures
    return response


def example() -> None:
    TALLY["examples"] += 1


def post_twilio(client: FlaskClient, path: str, params: dict[str, str], *,
                signed: bool = True, query: str = "") -> TestResponse:
    url = PUBLIC_URL + path + (f"?{query}" if query else "")
    params, signature = signed_form(url, params, AUTH_TOKEN)
    headers = {"X-Twilio-Signature": signature if signed else "forged"}
    return answered(client.post(path + (f"?{query}" if query else ""), data=params,
                                headers=headers))


def post_telegram(client: FlaskClient, body: object, *, raw: bytes | None = None,
                  signed: bool = True) -> TestResponse:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET if signed else "forged"}
    if raw is not None:
        return answered(client.post("/webhooks/telegram", data=raw, headers=headers,
                                    content_type="application/json"))
    return answered(client.post("/webhooks/telegram", json=body, headers=headers))


COUNTED = (Message, Contact, Case, Attachment, VoiceCall, AuditEvent, TriageSuggestion)


def row_counts() -> tuple[int, ...]:
    """How many rows each table has: a refused request must leave this unchanged."""
    db.session.rollback()
    return tuple(db.session.scalar(select(func.count()).select_from(model)) or 0
                 for model in COUNTED)


def consistent() -> None:
    """Invariants after an accepted request: nothing half-written."""
    db.session.rollback()
    orphans = db.session.scalar(select(func.count(Message.id)).where(
        Message.contact_id.not_in(select(Contact.id))))
    assert orphans == 0
    caseless_acks = db.session.scalar(select(func.count(Message.id)).where(
        Message.kind == "ack", Message.case_id.is_(None)))
    assert caseless_acks == 0
    empty_cases = db.session.scalar(select(func.count(Case.id)).where(
        ~select(Message.id).where(Message.case_id == Case.id).exists(),
        Case.contact_id.is_not(None), Case.received_by.is_(None)))
    assert empty_cases == 0


def wipe() -> None:
    """Every row of every table gone (a fresh database without rebuilding the schema), and
    with REDIS_URL every key of the test's Redis (deliveries remembered, dialogue sessions)."""
    db.session.rollback()
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("PRAGMA defer_foreign_keys = ON"))
    for table in reversed(Base.metadata.sorted_tables):
        db.session.execute(delete(table))
    db.session.commit()
    redis_url = services().settings.redis_url
    if redis_url:
        redis.Redis.from_url(redis_url).flushdb()


def checked(refused_means_unchanged: Callable[[], TestResponse]) -> TestResponse:
    """Send one request; if it is refused (4xx), nothing in the database changed."""
    before = row_counts()
    response = refused_means_unchanged()
    if 400 <= response.status_code < 500:
        assert row_counts() == before, response.status_code
    else:
        consistent()
    return response
