"""Self-tests for the offline demo (tests/fakes/serve.py): the phone page's JSON endpoints
against a stand-in Sawti webhook, the fixed-port fakes, and the command itself."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import telegram
from flask import Flask, jsonify, request
from telegram.request import HTTPXRequest
from twilio.request_validator import RequestValidator

from channels.twilio_http import make_client

from .serve import (
    AppServer,
    Config,
    Demo,
    FixedPortTelegram,
    FixedPortTwilio,
    normalize_person,
)

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_URL = "https://sawti.example.org"  # what Twilio signs: not where the phone posts
SECRET = "stand-in-webhook-secret"
TOKEN = "654321:stand-in-bot-token"
SID = "AC" + "e" * 32
AUTH_TOKEN = "stand-in-auth-token"
ARABIC = "لم أستلم السلة الغذائية"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class StandIn:
    """A tiny Sawti: records webhook posts and answers 403 when verification fails."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.app = Flask("sawti-stand-in")
        validator = RequestValidator(AUTH_TOKEN)

        self.delay = 0.0

        @self.app.post("/webhooks/telegram")
        def telegram_webhook() -> Any:
            time.sleep(self.delay)
            valid = request.headers.get("X-Telegram-Bot-Api-Secret-Token") == SECRET
            self._record(request.path, valid, request.get_json(silent=True),
                         request.headers.get("Content-Type", ""))
            return (jsonify(ok=True), 200) if valid else ("forbidden", 403)

        @self.app.post("/webhooks/twilio/messaging")
        def twilio_webhook() -> Any:
            valid = validator.validate(PUBLIC_URL + request.path, request.form.to_dict(),
                                       request.headers.get("X-Twilio-Signature", ""))
            self._record(request.path, valid, request.form.to_dict(),
                         request.headers.get("Content-Type", ""))
            if not valid:
                return "forbidden", 403
            return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response />", 200, \
                {"Content-Type": "text/xml"}

    def _record(self, path: str, valid: bool, body: Any, content_type: str) -> None:
        with self._lock:
            self.posts.append({"path": path, "valid": valid, "body": body,
                               "content_type": content_type})


@pytest.fixture
def stand_in() -> Iterator[tuple[StandIn, str]]:
    fake_sawti = StandIn()
    with AppServer(fake_sawti.app) as server:
        yield fake_sawti, server.url


def make_config(sawti_url: str, **overrides: Any) -> Config:
    values: dict[str, Any] = {
        "telegram_port": 0, "twilio_port": 0, "phone_port": 0,
        "telegram_bot_token": TOKEN, "telegram_webhook_secret": SECRET,
        "twilio_account_sid": SID, "twilio_auth_token": AUTH_TOKEN,
        "public_url": PUBLIC_URL, "sawti_url": sawti_url,
    }
    values.update(overrides)
    return Config(**values)


@pytest.fixture
def demo(stand_in: tuple[StandIn, str]) -> Iterator[Demo]:
    with Demo(make_config(stand_in[1])) as running:
        yield running


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def send(http: requests.Session, demo: Demo, channel: str, person: str,
         text: str) -> requests.Response:
    return http.post(f"{demo.phone_server.url}/api/send", timeout=10,
                     json={"channel": channel, "person": person, "text": text})


def conversation(http: requests.Session, demo: Demo, channel: str,
                 person: str) -> list[tuple[str, str]]:
    response = http.get(f"{demo.phone_server.url}/api/messages", timeout=10,
                        params={"channel": channel, "person": person})
    assert response.status_code == 200, response.text
    return [(m["direction"], m["text"]) for m in response.json()["messages"]]


def bot_send(fake: FixedPortTelegram, *messages: tuple[int, str]) -> None:
    """Send with the real python-telegram-bot client, as Sawti's worker does."""
    async def main() -> None:
        bot = telegram.Bot(TOKEN, base_url=f"{fake.url}/bot",
                           base_file_url=f"{fake.url}/file/bot",
                           request=HTTPXRequest(read_timeout=5))
        try:
            for chat_id, text in messages:
                await bot.send_message(chat_id=chat_id, text=text)
        finally:
            await bot.shutdown()
    asyncio.run(main())


def twilio_send(fake: FixedPortTwilio, *messages: tuple[str, str, str]) -> None:
    """(to, from, body) through the real twilio client, rebased onto the fake like Sawti's."""
    client = make_client(SID, AUTH_TOKEN, fake.url, timeout=5)
    try:
        for to, from_, body in messages:
            client.messages.create(to=to, from_=from_, body=body)
    finally:
        session = client.http_client.session  # type: ignore[attr-defined]
        if session is not None:
            session.close()


# -- the phone's send endpoint -------------------------------------------------------------------


def test_telegram_send_reaches_sawti_with_secret_and_increasing_update_ids(
        demo: Demo, stand_in: tuple[StandIn, str], http: requests.Session) -> None:
    first = send(http, demo, "telegram", "512345678", ARABIC)
    second = send(http, demo, "telegram", " 512345678 ", "second")
    assert (first.status_code, second.status_code) == (200, 200), first.text
    assert first.json()["message"]["status"] == "delivered"
    posts = stand_in[0].posts
    assert [(p["path"], p["valid"]) for p in posts] == [("/webhooks/telegram", True)] * 2
    assert posts[0]["content_type"].startswith("application/json")
    update = posts[0]["body"]
    assert update["message"]["text"] == ARABIC
    assert update["message"]["chat"] == {"id": 512345678, "type": "private",
                                         "first_name": "Ali"}
    assert update["message"]["from"]["id"] == 512345678
    assert posts[1]["body"]["update_id"] == update["update_id"] + 1
    # It parses as a real Update.
    parsed = telegram.Update.de_json(update, bot=None)
    assert parsed.message is not None and parsed.message.text == ARABIC


@pytest.mark.parametrize(("channel", "prefix", "to"), [
    ("whatsapp", "whatsapp:", "whatsapp:+14155238886"),
    ("sms", "", "+15005550006"),
])
def test_twilio_send_is_signed_for_public_url(demo: Demo, stand_in: tuple[StandIn, str],
                                              http: requests.Session, channel: str,
                                              prefix: str, to: str) -> None:
    response = send(http, demo, channel, "00963 944-123-456", ARABIC)
    assert response.status_code == 200, response.text
    assert response.json()["person"] == "+963944123456"
    [post] = stand_in[0].posts
    assert (post["path"], post["valid"]) == ("/webhooks/twilio/messaging", True)
    assert post["content_type"] == "application/x-www-form-urlencoded"
    form = post["body"]
    assert (form["From"], form["To"], form["Body"]) == (prefix + "+963944123456", to, ARABIC)
    assert form["AccountSid"] == SID
    assert re.fullmatch(r"SM[0-9a-f]{32}", form["MessageSid"])
    assert form["SmsSid"] == form["MessageSid"]
    assert form["NumMedia"] == "0"
    if channel == "whatsapp":
        assert form["WaId"] == "963944123456"
    else:
        assert "WaId" not in form


def test_rejected_or_unreachable_sawti_is_reported(stand_in: tuple[StandIn, str],
                                                   http: requests.Session) -> None:
    with Demo(make_config(stand_in[1], telegram_webhook_secret="wrong",
                          twilio_auth_token="wrong")) as demo:
        for channel, person in (("telegram", "42"), ("sms", "+963944000111")):
            response = send(http, demo, channel, person, "hi")
            assert response.status_code == 502
            assert response.json()["message"]["status"] == "Sawti answered HTTP 403"
        assert [p["valid"] for p in stand_in[0].posts] == [False, False]
        assert conversation(http, demo, "sms", "+963944000111") == [("in", "hi")]
    with Demo(make_config(f"http://127.0.0.1:{free_port()}")) as demo:
        response = send(http, demo, "telegram", "42", "hi")
        assert response.status_code == 502
        assert response.json()["message"]["status"].startswith("Sawti unreachable")


def test_slow_sawti_times_out(stand_in: tuple[StandIn, str], demo: Demo,
                              http: requests.Session) -> None:
    stand_in[0].delay = 0.5
    demo.phone.timeout = 0.1
    response = send(http, demo, "telegram", "42", "hi")
    assert response.status_code == 502
    assert response.json()["message"]["status"].startswith("no answer from Sawti within 0.1 s")


@pytest.mark.parametrize(("body", "status", "error"), [
    ({"channel": "telegram", "person": "abc", "text": "hi"}, 400, "chat id"),
    ({"channel": "sms", "person": "12", "text": "hi"}, 400, "phone number"),
    ({"channel": "fax", "person": "+963944000111", "text": "hi"}, 400, "channel"),
    ({"channel": "sms", "person": "+963944000111", "text": "  "}, 400, "empty"),
    ({"channel": "sms", "person": "+963944000111", "text": "x" * 4097}, 400, "longer"),
    (["not", "an", "object"], 415, "JSON object"),
])
def test_send_rejects_bad_input(demo: Demo, stand_in: tuple[StandIn, str],
                                http: requests.Session, body: Any, status: int,
                                error: str) -> None:
    response = http.post(f"{demo.phone_server.url}/api/send", json=body, timeout=10)
    assert response.status_code == status
    assert error in response.json()["error"]
    assert stand_in[0].posts == []


def test_send_requires_json(demo: Demo, http: requests.Session) -> None:
    response = http.post(f"{demo.phone_server.url}/api/send", timeout=10,
                         data={"channel": "sms", "person": "+963944000111", "text": "hi"})
    assert response.status_code == 415


# -- the phone's poll endpoint -------------------------------------------------------------------


def test_poll_merges_telegram_replies_in_order(demo: Demo, http: requests.Session) -> None:
    assert send(http, demo, "telegram", "512345678", ARABIC).status_code == 200
    bot_send(demo.telegram, (512345678, "شكراً، رقم حالتك S-1"), (777, "someone else"))
    assert send(http, demo, "telegram", "512345678", "second").status_code == 200
    bot_send(demo.telegram, (512345678, "reply two"))
    assert conversation(http, demo, "telegram", "512345678") == [
        ("in", ARABIC), ("out", "شكراً، رقم حالتك S-1"), ("in", "second"), ("out", "reply two")]
    assert conversation(http, demo, "telegram", "777") == [("out", "someone else")]
    assert conversation(http, demo, "telegram", "999") == []

    response = http.get(f"{demo.phone_server.url}/api/messages", timeout=10,
                        params={"channel": "telegram", "person": "512345678", "after": "2"})
    messages = response.json()["messages"]
    assert [m["text"] for m in messages] == ["second", "reply two"]
    assert all(m["seq"] > 2 for m in messages)
    assert response.json()["person"] == "512345678"


def test_poll_separates_whatsapp_and_sms_replies(demo: Demo, http: requests.Session) -> None:
    person = "+963944123456"
    assert send(http, demo, "whatsapp", person, "wa in").status_code == 200
    assert send(http, demo, "sms", person, "sms in").status_code == 200
    twilio_send(demo.twilio,
                (f"whatsapp:{person}", "whatsapp:+14155238886", "wa out"),
                (person, "+15005550006", "sms out"),
                ("+963944999999", "+15005550006", "not for this person"))
    assert conversation(http, demo, "whatsapp", person) == [("in", "wa in"), ("out", "wa out")]
    assert conversation(http, demo, "sms", person) == [("in", "sms in"), ("out", "sms out")]
    assert conversation(http, demo, "sms", "+963944999999") == [
        ("out", "not for this person")]


def test_poll_rejects_bad_person(demo: Demo, http: requests.Session) -> None:
    response = http.get(f"{demo.phone_server.url}/api/messages", timeout=10,
                        params={"channel": "telegram", "person": "<script>"})
    assert response.status_code == 400


def test_normalize_person() -> None:
    assert normalize_person("telegram", " 0042 ") == "42"
    assert normalize_person("telegram", "-100123") == "-100123"
    assert normalize_person("whatsapp", "whatsapp:+963 (944) 123-456") == "+963944123456"
    assert normalize_person("sms", "963944123456") == "+963944123456"


# -- the page --------------------------------------------------------------------------------------


def test_page_has_no_inline_script_and_serves_its_js(demo: Demo, http: requests.Session) -> None:
    page = http.get(f"{demo.phone_server.url}/", timeout=10)
    assert page.status_code == 200
    assert "script-src" not in page.headers["Content-Security-Policy"]  # default-src 'self'
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page.text, re.S)
    assert scripts and all('src="/static/phone.js"' in attrs and not body.strip()
                           for attrs, body in scripts)
    assert "http://" not in page.text.replace(PUBLIC_URL, "").split("<footer>")[0]
    assert "https://" not in page.text.split("<footer>")[0]
    js = http.get(f"{demo.phone_server.url}/static/phone.js", timeout=10)
    assert js.status_code == 200
    assert "textContent" in js.text
    assert "innerHTML" not in js.text and "insertAdjacentHTML" not in js.text
    assert 'dir = "auto"' in js.text


# -- fixed ports, configuration and the command ----------------------------------------------------


def test_fakes_bind_the_given_port_and_restart() -> None:
    port = free_port()
    fake = FixedPortTelegram(TOKEN, port)
    with fake:
        assert fake.url == f"http://127.0.0.1:{port}"
        me = requests.get(f"{fake.url}/bot{TOKEN}/getMe", timeout=5)
        assert me.json()["ok"] is True
    with fake:  # SO_REUSEADDR: the same port again right away
        assert fake.url == f"http://127.0.0.1:{port}"
    twilio_port = free_port()
    with FixedPortTwilio(SID, AUTH_TOKEN, twilio_port) as twilio:
        assert twilio.url == f"http://127.0.0.1:{twilio_port}"


def test_config_from_env() -> None:
    config = Config.from_env({})
    assert (config.telegram_port, config.twilio_port, config.phone_port) == (5081, 5082, 5090)
    assert config.webhook_base == "http://127.0.0.1:5000"
    config = Config.from_env({"SAWTI_FAKE_TELEGRAM_PORT": "6001", "PUBLIC_URL": "https://x.org/",
                              "TWILIO_AUTH_TOKEN": "tok", "TELEGRAM_BOT_TOKEN": ""})
    assert config.telegram_port == 6001
    assert config.webhook_base == "https://x.org"
    assert config.twilio_auth_token == "tok"
    assert config.telegram_bot_token == Config().telegram_bot_token
    assert Config.from_env({"SAWTI_URL": "http://127.0.0.1:8000/"}).webhook_base \
        == "http://127.0.0.1:8000"
    with pytest.raises(ValueError, match="SAWTI_FAKE_PHONE_PORT"):
        Config.from_env({"SAWTI_FAKE_PHONE_PORT": "http"})


def _command_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SAWTI_", "TELEGRAM_", "TWILIO_", "PUBLIC_URL"))}
    env.update(PYTHONUNBUFFERED="1", **extra)
    return env


def test_print_env() -> None:
    result = subprocess.run([sys.executable, "-m", "tests.fakes.serve", "--print-env"],
                            cwd=ROOT, env=_command_env(TWILIO_AUTH_TOKEN="tok"),
                            capture_output=True, text=True, timeout=60, check=True)
    lines = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert lines["TELEGRAM_API_URL"] == "http://127.0.0.1:5081"
    assert lines["TWILIO_API_URL"] == "http://127.0.0.1:5082"
    assert lines["TWILIO_AUTH_TOKEN"] == "tok"
    assert lines["PUBLIC_URL"] == "http://127.0.0.1:5000"
    assert set(lines) >= {"TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "TWILIO_ACCOUNT_SID",
                          "TWILIO_SMS_NUMBER", "TWILIO_WHATSAPP_NUMBER"}


def test_command_runs_until_sigterm() -> None:
    ports = {"SAWTI_FAKE_TELEGRAM_PORT": free_port(), "SAWTI_FAKE_TWILIO_PORT": free_port(),
             "SAWTI_FAKE_PHONE_PORT": free_port()}
    env = _command_env(**{k: str(v) for k, v in ports.items()})
    with subprocess.Popen([sys.executable, "-m", "tests.fakes.serve"], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            lines = []
            for line in proc.stdout:
                lines.append(line.rstrip("\n"))
                if line.startswith("# Phone page"):
                    break
            port = ports["SAWTI_FAKE_TELEGRAM_PORT"]
            assert f"TELEGRAM_API_URL=http://127.0.0.1:{port}" in lines, lines
            phone = f"http://127.0.0.1:{ports['SAWTI_FAKE_PHONE_PORT']}"
            assert any(phone in line for line in lines)
            assert requests.get(phone + "/", timeout=5).status_code == 200
            telegram_url = f"http://127.0.0.1:{port}"
            me = requests.get(f"{telegram_url}/bot{Config().telegram_bot_token}/getMe",
                              timeout=5)
            assert me.json()["ok"] is True
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert proc.returncode == 0, err
        assert "stopped" in out
        assert err == ""
