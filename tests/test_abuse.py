"""Abuse limits (abuse.py): per-IP rate limits on webhooks and sign-in, body size limits."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from casework.models import Message, VoiceCall
from extensions import db
from tests.fakes import messaging_form, signed_form, status_form, text_update

SECRET = "telegram-webhook-secret-0123456789"
AUTH_TOKEN = "twilio-auth-token-test"
PUBLIC_URL = "https://crm.example.org/sawti"
CHANNELS = {
    "public_url": PUBLIC_URL, "telegram_bot_token": "123456:test-bot-token",
    "telegram_webhook_secret": SECRET, "telegram_api_url": "http://127.0.0.1:9",
    "twilio_account_sid": "AC" + "0" * 32, "twilio_auth_token": AUTH_TOKEN,
    "twilio_sms_number": "+15005550006", "twilio_whatsapp_number": "+14155238886",
    "twilio_voice_number": "+15005550007", "twilio_api_url": "http://127.0.0.1:9",
}
ATTACKER, PROVIDER = "203.0.113.9", "149.154.167.220"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return CHANNELS | {"sawti_webhook_rate_limit": "6 per minute",
                       "sawti_webhook_refusal_limit": "3 per minute",
                       "sawti_login_rate_limit": "4 per minute"}


def _telegram(client: FlaskClient, update_id: int, *, secret: str = SECRET,
              ip: str = PROVIDER) -> TestResponse:
    return client.post("/webhooks/telegram", json=text_update(update_id, 5550001, "شكوى"),
                       headers={"X-Telegram-Bot-Api-Secret-Token": secret},
                       environ_base={"REMOTE_ADDR": ip})


def _inbound() -> int:
    return db.session.scalar(select(func.count(Message.id)).where(Message.direction == "in"))


def test_forgers_are_cut_off_and_providers_are_not(client: FlaskClient, app_context: None
                                                   ) -> None:
    forged = [_telegram(client, n, secret="guess", ip=ATTACKER).status_code for n in range(5)]
    assert forged == [403, 403, 403, 429, 429]
    assert _telegram(client, 10, ip=ATTACKER).status_code == 429  # even a correct secret now
    assert _telegram(client, 11, ip=PROVIDER).status_code == 200  # another address is served
    assert _inbound() == 1


def test_every_webhook_request_counts_per_ip(client: FlaskClient, app_context: None) -> None:
    codes = [_telegram(client, n).status_code for n in range(8)]
    assert codes == [200] * 6 + [429] * 2
    assert _inbound() == 6
    response = _telegram(client, 99)
    assert response.is_json and "slow down" in response.get_json()["detail"]


def test_the_simulator_is_not_limited(client: FlaskClient, app_context: None) -> None:
    codes = [client.post("/webhooks/simulator", json={"tab": "tab-00000001", "id": f"m{n}",
                                                      "text": "مرحبا"},
                         headers={"X-Sawti-Simulator": "1"}).status_code for n in range(9)]
    assert set(codes) == {200}


def test_sign_in_attempts_per_ip(app: Flask, client: FlaskClient) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    form = {"email": "someone@example.org", "password": "guess"}
    codes = [client.post("/admin/login", data=form).status_code for _ in range(6)]
    assert codes == [200, 200, 200, 200, 429, 429]  # the form again, then refused
    assert client.get("/admin/login").status_code == 200  # the page itself stays reachable
    assert client.post("/admin/login", data=form,
                       environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code != 429


def _twilio(client: FlaskClient, path: str, params: dict[str, str]) -> TestResponse:
    params, signature = signed_form(PUBLIC_URL + path, params, AUTH_TOKEN)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


BIG = "ا" * 600_000  # 1.2 MB in UTF-8, over the default 1 MB


@pytest.mark.parametrize("path", [
    "/webhooks/telegram", "/webhooks/twilio/messaging", "/webhooks/twilio/status",
    "/webhooks/twilio/voice", "/webhooks/twilio/voice/message-status", "/webhooks/simulator",
])
def test_oversized_bodies_are_413_with_a_reason(path: str, client: FlaskClient,
                                                app_context: None) -> None:
    if path == "/webhooks/telegram":
        response = client.post(path, data=json.dumps(text_update(1, 5550001, BIG)),
                               content_type="application/json",
                               headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    elif path == "/webhooks/simulator":
        response = client.post(path, json={"tab": "t", "id": "m1", "text": BIG},
                               headers={"X-Sawti-Simulator": "1"})
    elif path.endswith("status"):
        response = _twilio(client, path, status_form("SM" + "1" * 32, "delivered") |
                           {"Padding": BIG})
    elif path == "/webhooks/twilio/voice":
        response = _twilio(client, path, {"CallSid": "CA" + "1" * 32, "From": "+963944000111",
                                          "To": "+15005550007", "Padding": BIG})
    else:
        response = _twilio(client, path, messaging_form(Body=BIG))
    assert response.status_code == 413
    assert response.get_json()["detail"] == f"request body larger than {1024 * 1024} bytes"
    assert _inbound() == 0
    assert db.session.scalar(select(func.count(VoiceCall.id))) == 0
