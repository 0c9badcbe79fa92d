"""logs.py: JSON log lines with a request id, one access line per request, nothing personal."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

import logs
from channels.dispatcher import Dispatcher
from config.settings import ConfigError, load_settings
from tests.fakes import messaging_form, signed_form, text_update

PUBLIC_URL = "https://crm.example.org/sawti"
AUTH_TOKEN = "twilio-auth-token-test"
BOT_TOKEN = "123456:test-bot-token-secret"
WEBHOOK_SECRET = "telegram-webhook-secret-0123456789"
PHONE = "+963933123456"
CHAT_ID = 987654321
TAB = "tab-private-person-9"
TEXT = "اسمي فاطمة ورقمي 0944123456 والموظف طلب مني مصاري"
QUERY_SECRET = "query-secret-in-the-url-42"
PERSONAL = (PHONE, PHONE.removeprefix("+"), "933123456", str(CHAT_ID), TAB, "فاطمة",
            "0944123456", "مصاري", BOT_TOKEN, QUERY_SECRET, AUTH_TOKEN, WEBHOOK_SECRET)
UUID4_HEX = re.compile(r"[0-9a-f]{32}")
CLOSED_PORT = "http://127.0.0.1:9"  # replies fail fast: the worker logs its failures


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {
        "sawti_log_format": "json", "public_url": PUBLIC_URL,
        "twilio_account_sid": "AC" + "0" * 32, "twilio_auth_token": AUTH_TOKEN,
        "twilio_sms_number": "+15005550006", "twilio_voice_number": "+15005550007",
        "twilio_api_url": CLOSED_PORT, "telegram_bot_token": BOT_TOKEN,
        "telegram_webhook_secret": WEBHOOK_SECRET, "telegram_api_url": CLOSED_PORT,
        "sawti_provider_timeout_seconds": 1.0,
    }


@pytest.fixture
def log_lines(app: Flask, caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], list]]:
    """What the application's own log handler wrote, one parsed line each."""
    handlers = [h for h in logging.getLogger().handlers if getattr(h, "_sawti_handler", False)]
    assert len(handlers) == 1, "create_app installs exactly one handler"
    handler = handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    written = io.StringIO()
    previous = handler.setStream(written)
    caplog.set_level(logging.DEBUG)

    def lines() -> list[dict]:
        text = written.getvalue()
        for secret in PERSONAL:  # as written, and as JSON escapes it
            assert secret not in text and json.dumps(secret)[1:-1] not in text, secret
        return [json.loads(line) for line in text.splitlines()]  # one JSON object per line

    yield lines
    handler.setStream(previous)


def _twilio(client: FlaskClient, path: str, params: dict[str, str]) -> TestResponse:
    params, signature = signed_form(PUBLIC_URL + path, params, AUTH_TOKEN)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def test_a_conversation_on_every_channel_logs_json_without_personal_data(
    client: FlaskClient, simulate: Callable[..., TestResponse], dispatcher: Dispatcher,
    log_lines: Callable[[], list],
) -> None:
    responses = [
        simulate(TEXT, tab=TAB),
        client.post("/webhooks/simulator", json={"tab": TAB, "id": "x", "text": TEXT}),  # 403
        client.get(f"/simulator/messages?after=0&token={QUERY_SECRET}",
                   headers={"X-Sawti-Tab": TAB}),
        _twilio(client, "/webhooks/twilio/messaging", messaging_form(From=PHONE, Body=TEXT)),
        client.post("/webhooks/twilio/messaging", data=messaging_form(From=PHONE, Body=TEXT),
                    headers={"X-Twilio-Signature": "forged"}),  # 403
        client.post("/webhooks/telegram", json=text_update(1, CHAT_ID, TEXT),
                    headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}),
    ]
    assert [r.status_code for r in responses] == [200, 403, 200, 200, 403, 200]
    dispatcher.run_once()  # the worker: every reply fails against a closed port
    lines = log_lines()

    ids = [r.headers["X-Request-Id"] for r in responses]
    assert len(set(ids)) == len(ids) and all(UUID4_HEX.fullmatch(i) for i in ids)
    access = [line for line in lines if line["logger"] == logs.ACCESS_LOGGER]
    assert [(a["request_id"], a["method"], a["path"], a["status"]) for a in access] == [
        (ids[0], "POST", "/webhooks/simulator", 200),
        (ids[1], "POST", "/webhooks/simulator", 403),
        (ids[2], "GET", "/simulator/messages", 200),
        (ids[3], "POST", "/webhooks/twilio/messaging", 200),
        (ids[4], "POST", "/webhooks/twilio/messaging", 403),
        (ids[5], "POST", "/webhooks/telegram", 200),
    ]
    assert all(a["level"] == "INFO" and a["duration_ms"] >= 0 for a in access)
    for line in lines:
        assert {"time", "level", "logger", "message"} <= line.keys()
        assert line["time"].endswith("Z")
        if "request_id" in line:  # every line logged inside a request carries its id
            assert line["request_id"] in ids
    rejected = [line for line in lines if line["message"].startswith("webhook rejected")]
    assert {line["request_id"] for line in rejected} == {ids[1], ids[4]}


@pytest.mark.parametrize(("given", "kept"), [
    pytest.param("req-7f3a.b_C9", True, id="sane-token"),
    pytest.param("a" * 64, True, id="64-characters"),
    pytest.param("a" * 65, False, id="too-long"),
    pytest.param("abc def", False, id="space"),
    pytest.param("abc\u0662", False, id="arabic-digit"),
    pytest.param("x\"}{", False, id="json-breaking"),
    pytest.param("", False, id="empty"),
])
def test_request_id_from_the_header_when_sane(client: FlaskClient, log_lines: Callable[[], list],
                                              given: str, kept: bool) -> None:
    response = client.get("/admin/login", headers={"X-Request-Id": given})
    returned = response.headers["X-Request-Id"]
    assert returned == given if kept else UUID4_HEX.fullmatch(returned)
    (access,) = [line for line in log_lines() if line["logger"] == logs.ACCESS_LOGGER]
    assert access["request_id"] == returned


def test_health_probes_log_at_debug_only(client: FlaskClient,
                                         log_lines: Callable[[], list]) -> None:
    client.get("/healthz")
    client.get("/admin/login")
    access = [(line["path"], line["level"]) for line in log_lines()
              if line["logger"] == logs.ACCESS_LOGGER]
    assert access == [("/healthz", "DEBUG"), ("/admin/login", "INFO")]


def test_a_signed_token_in_the_path_is_logged_as_the_route(client: FlaskClient,
                                                           log_lines: Callable[[], list]) -> None:
    token = "eyJjYWxsIjo0Mn0.signed-capability"
    client.post(f"/webhooks/twilio/voice/call/{token}/answer")
    lines = log_lines()
    (access,) = [line for line in lines if line["logger"] == logs.ACCESS_LOGGER]
    assert access["path"] == "/webhooks/twilio/voice/call/<token>/answer"
    assert token not in json.dumps(lines)


def test_an_exception_is_logged_by_type_and_frames_not_its_message(
    app: Flask, log_lines: Callable[[], list],
) -> None:
    try:
        raise ValueError(f"row ({PHONE}, {TEXT!r})")
    except ValueError:
        logging.getLogger("sawti.test").exception("it failed", extra={"job": "digest"})
    (line,) = log_lines()
    assert line["exception"] == "builtins.ValueError"
    assert "test_logs.py" in line["stack"] and line["job"] == "digest"
    assert "request_id" not in line


@pytest.mark.parametrize(("values", "expected"), [
    pytest.param({}, "text", id="development-default"),
    pytest.param({"sawti_env": "production"}, "json", id="production-default"),
    pytest.param({"sawti_env": "production", "sawti_log_format": "TEXT"}, "text",
                 id="production-asks-text"),
    pytest.param({"sawti_log_format": "json"}, "json", id="development-asks-json"),
])
def test_log_format_setting(tmp_path, values: dict[str, object], expected: str) -> None:
    secrets = {"secret_key": "k" * 40, "sawti_data_key": "d" * 40}
    settings = load_settings(sawti_instance_path=tmp_path, **secrets, **values)
    assert settings.log_format == expected


def test_an_unknown_log_format_stops_start_up(tmp_path) -> None:
    with pytest.raises(ConfigError, match="SAWTI_LOG_FORMAT"):
        load_settings(sawti_instance_path=tmp_path, sawti_log_format="xml")
