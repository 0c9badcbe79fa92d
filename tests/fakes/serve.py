"""Offline demo providers: ``python -m tests.fakes.serve`` (from the repository root).

Starts, on 127.0.0.1:

* FakeTelegram on ``SAWTI_FAKE_TELEGRAM_PORT`` (5081) and FakeTwilio on
  ``SAWTI_FAKE_TWILIO_PORT`` (5082): Sawti's web and worker send their replies there;
* a "phone" page on ``SAWTI_FAKE_PHONE_PORT`` (5090) where you play a person writing to Sawti
  over Telegram, WhatsApp or SMS. The phone builds the request the provider would send (a
  Telegram Update with the webhook secret header, or a Twilio form signed with the auth token
  for ``PUBLIC_URL`` + path), POSTs it to the Sawti webhook at ``SAWTI_URL``, and shows the
  replies the fakes recorded for that person.

It prints the environment the web and worker need (``--print-env`` prints only that, as
KEY=VALUE lines, and exits) and runs until SIGTERM or SIGINT.

Environment, with defaults: TELEGRAM_BOT_TOKEN (123456:sawti-fake-telegram-token),
TELEGRAM_WEBHOOK_SECRET (sawti-fake-webhook-secret), TWILIO_ACCOUNT_SID (AC0123456789abcdef...),
TWILIO_AUTH_TOKEN (sawti-fake-twilio-auth-token), TWILIO_SMS_NUMBER (+15005550006),
TWILIO_WHATSAPP_NUMBER (+14155238886), PUBLIC_URL (http://127.0.0.1:5000), SAWTI_URL
(= PUBLIC_URL). The fakes' base class binds port 0; FixedPortTelegram / FixedPortTwilio bind
the port given to them instead (0 still means "any free port", which the self-test uses).
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Self

import requests
from flask import Flask, Response, jsonify, render_template, request
from werkzeug.serving import BaseWSGIServer, make_server

from ._server import FakeServer, _QuietHandler
from .telegram_api import FakeTelegram, text_update
from .twilio_api import DEFAULT_ACCOUNT_SID, FakeTwilio, messaging_form, signed_form

HOST = "127.0.0.1"
TELEGRAM_PATH = "/webhooks/telegram"
TWILIO_PATH = "/webhooks/twilio/messaging"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WHATSAPP = "whatsapp:"
CHANNELS = ("telegram", "whatsapp", "sms")
MAX_TEXT = 4096
SAWTI_TIMEOUT_SECONDS = 15.0
CONTENT_SECURITY_POLICY = ("default-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; base-uri 'none'; form-action 'self'; "
                           "frame-ancestors 'none'")


# -- configuration -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    telegram_port: int = 5081
    twilio_port: int = 5082
    phone_port: int = 5090
    telegram_bot_token: str = "123456:sawti-fake-telegram-token"
    telegram_webhook_secret: str = "sawti-fake-webhook-secret"
    twilio_account_sid: str = DEFAULT_ACCOUNT_SID
    twilio_auth_token: str = "sawti-fake-twilio-auth-token"
    twilio_sms_number: str = "+15005550006"
    twilio_whatsapp_number: str = "+14155238886"
    public_url: str = "http://127.0.0.1:5000"
    sawti_url: str = ""  # empty: PUBLIC_URL

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Config:
        """Read the environment; an empty variable counts as unset. ValueError on a bad port."""
        defaults = cls()
        values: dict[str, Any] = {}
        for name, variable in (("telegram_port", "SAWTI_FAKE_TELEGRAM_PORT"),
                               ("twilio_port", "SAWTI_FAKE_TWILIO_PORT"),
                               ("phone_port", "SAWTI_FAKE_PHONE_PORT")):
            raw = env.get(variable, "").strip()
            if raw:
                if not raw.isdigit() or int(raw) > 65535:
                    raise ValueError(f"{variable} must be a port number, got {raw!r}")
                values[name] = int(raw)
        for name in ("telegram_bot_token", "telegram_webhook_secret", "twilio_account_sid",
                     "twilio_auth_token", "twilio_sms_number", "twilio_whatsapp_number",
                     "public_url", "sawti_url"):
            values[name] = env.get(name.upper(), "").strip() or getattr(defaults, name)
        return cls(**values)

    @property
    def webhook_base(self) -> str:
        """Where the phone POSTs (SAWTI_URL, by default PUBLIC_URL)."""
        return (self.sawti_url or self.public_url).rstrip("/")


# -- serving on a chosen port --------------------------------------------------------------------


def serve_in_thread(app: Flask, port: int, name: str) -> tuple[BaseWSGIServer, threading.Thread]:
    """Serve `app` on 127.0.0.1:`port` (0: any free port) from a daemon thread, the way
    FakeServer.start does (threaded, quiet request log)."""
    server = make_server(HOST, port, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name=name, daemon=True)
    thread.start()
    return server, thread


class _FixedPort(FakeServer):
    """Mixin for a FakeServer: start() binds `self.port` instead of port 0. stop() and url are
    FakeServer's own: they only use the `_server` / `_thread` set here."""

    port: int = 0

    def start(self) -> Self:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server, self._thread = serve_in_thread(self.app, self.port,
                                                     f"{type(self).__name__}-server")
        return self


class FixedPortTelegram(_FixedPort, FakeTelegram):
    def __init__(self, token: str, port: int = 0) -> None:
        super().__init__(token)
        self.port = port


class FixedPortTwilio(_FixedPort, FakeTwilio):
    def __init__(self, account_sid: str, auth_token: str, port: int = 0) -> None:
        super().__init__(account_sid, auth_token)
        self.port = port


class AppServer:
    """A Flask app served from a thread on a chosen port, with start/stop/url like the fakes."""

    def __init__(self, app: Flask, port: int = 0) -> None:
        self.app = app
        self.port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        if self._server is None:
            self._server, self._thread = serve_in_thread(self.app, self.port,
                                                         f"{self.app.name}-server")
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{self.app.name} is not started")
        return f"http://{HOST}:{self._server.server_port}"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


# -- the phone -----------------------------------------------------------------------------------


class BadInput(ValueError):
    pass


def normalize_person(channel: str, person: object) -> str:
    """A Telegram chat id as a decimal string, or a phone number as +digits."""
    if channel not in CHANNELS:
        raise BadInput("channel must be telegram, whatsapp or sms")
    value = re.sub(r"\s", "", str(person or ""))
    if channel == "telegram":
        if not re.fullmatch(r"-?\d{1,15}", value):
            raise BadInput("a Telegram chat id is a number, e.g. 512345678")
        return str(int(value))
    value = re.sub(r"[().-]", "", value.removeprefix(WHATSAPP))
    if value.startswith("00"):
        value = "+" + value[2:]
    if not re.fullmatch(r"\+?\d{6,15}", value):
        raise BadInput("a phone number is 6-15 digits, e.g. +963944123456")
    return "+" + value.lstrip("+")


def _telegram_text(sent: Mapping[str, Any]) -> str:
    if str(sent.get("method", "")).lower() == "sendvoice":
        return " ".join(filter(None, ["🎤 [voice]", sent.get("caption")]))
    return str(sent.get("text") or "")


def _twilio_text(sent: Mapping[str, Any]) -> str:
    parts = [str(sent["Body"])] if sent.get("Body") else []
    if sent.get("ContentSid"):
        parts.append(f"[template {sent['ContentSid']} {sent.get('ContentVariables', '')}]")
    parts.extend(f"[media {url}]" for url in sent.get("MediaUrl", []))
    return "\n".join(parts)


class Phone:
    """The phone's state: one conversation log per (channel, person), merging what the person
    sent with what the fakes recorded as sent to them, in the order it happened."""

    def __init__(self, config: Config, telegram: FakeTelegram, twilio: FakeTwilio) -> None:
        self.config = config
        self.telegram = telegram
        self.twilio = twilio
        self.http = requests.Session()
        self.timeout = SAWTI_TIMEOUT_SECONDS  # Twilio's webhook timeout is 15 s as well
        self._lock = threading.Lock()
        self._log: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._seq = itertools.count(1)
        self._seen = {"telegram": 0, "twilio": 0}
        # Sawti de-duplicates on update_id: start from the clock so a restart does not repeat.
        self._update_ids = itertools.count(int(time.time()))

    def close(self) -> None:
        self.http.close()

    # -- the log ------------------------------------------------------------------------------

    def _append(self, channel: str, person: str, direction: str, text: str,
                status: str) -> dict[str, Any]:
        entry = {"seq": next(self._seq), "direction": direction, "text": text,
                 "at": time.time(), "status": status}
        self._log.setdefault((channel, person), []).append(entry)
        return entry

    def _sync(self) -> None:
        """Move messages the fakes recorded since the last call into the log (lock held)."""
        telegram_sent = self.telegram.sent_messages()
        if len(telegram_sent) < self._seen["telegram"]:  # the fake was reset
            self._seen["telegram"] = 0
        for sent in telegram_sent[self._seen["telegram"]:]:
            try:
                person = normalize_person("telegram", sent.get("chat_id"))
            except BadInput:
                person = str(sent.get("chat_id"))
            self._append("telegram", person, "out", _telegram_text(sent), "sent")
        self._seen["telegram"] = len(telegram_sent)

        twilio_sent = self.twilio.sent_messages()
        if len(twilio_sent) < self._seen["twilio"]:
            self._seen["twilio"] = 0
        for sent in twilio_sent[self._seen["twilio"]:]:
            to = str(sent.get("To", ""))
            channel = "whatsapp" if to.startswith(WHATSAPP) else "sms"
            try:
                person = normalize_person(channel, to)
            except BadInput:
                person = to.removeprefix(WHATSAPP)
            self._append(channel, person, "out", _twilio_text(sent), "sent")
        self._seen["twilio"] = len(twilio_sent)

    def conversation(self, channel: str, person: str, after: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            self._sync()
            return [dict(e) for e in self._log.get((channel, person), []) if e["seq"] > after]

    # -- sending --------------------------------------------------------------------------------

    def build(self, channel: str, person: str, text: str) -> tuple[str, dict[str, Any]]:
        """(webhook path, keyword arguments for requests.post) as the provider would send it."""
        if channel == "telegram":
            update = text_update(next(self._update_ids), int(person), text)
            return TELEGRAM_PATH, {
                "json": update,
                "headers": {SECRET_HEADER: self.config.telegram_webhook_secret},
            }
        whatsapp = channel == "whatsapp"
        prefix = WHATSAPP if whatsapp else ""
        to = self.config.twilio_whatsapp_number if whatsapp else self.config.twilio_sms_number
        overrides = {"From": prefix + person, "To": prefix + to, "Body": text}
        if whatsapp:
            overrides["WaId"] = person.lstrip("+")
        form = messaging_form(whatsapp=whatsapp, account_sid=self.config.twilio_account_sid,
                              **overrides)
        _, signature = signed_form(self.config.public_url.rstrip("/") + TWILIO_PATH, form,
                                   self.config.twilio_auth_token)
        return TWILIO_PATH, {
            "data": form,
            "headers": {"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"},
        }

    def send(self, channel: str, person: str, text: str) -> tuple[dict[str, Any], bool]:
        """Log the person's message, POST it to Sawti; (log entry, whether Sawti took it)."""
        path, post = self.build(channel, person, text)
        with self._lock:
            self._sync()  # replies recorded before this message come before it
            entry = self._append(channel, person, "in", text, "sending")
        try:
            response = self.http.post(self.config.webhook_base + path,
                                      timeout=self.timeout, **post)
            response.close()
            ok = response.ok
            status = "delivered" if ok else f"Sawti answered HTTP {response.status_code}"
        except requests.Timeout:
            ok, status = False, (f"no answer from Sawti within {self.timeout:g} s "
                                 "(it may still have taken the message)")
        except requests.RequestException as error:
            ok, status = False, f"Sawti unreachable ({type(error).__name__})"
        with self._lock:
            entry["status"] = status
            return dict(entry), ok


def create_phone_app(phone: Phone) -> Flask:
    app = Flask("sawti-fake-phone", root_path=str(Path(__file__).resolve().parent))
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    def bad(message: str, status: int = 400) -> tuple[Response, int]:
        return jsonify(error=message), status

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/")
    def index() -> str:
        return render_template("phone.html", config=phone.config,
                               sawti_url=phone.config.webhook_base)

    @app.get("/favicon.ico")
    def favicon() -> Response:
        return Response(status=204)

    @app.get("/api/messages")
    def messages() -> Any:
        channel = request.args.get("channel", "")
        try:
            person = normalize_person(channel, request.args.get("person"))
        except BadInput as error:
            return bad(str(error))
        after = request.args.get("after", "0")
        found = phone.conversation(channel, person, int(after) if after.isdigit() else 0)
        return jsonify(channel=channel, person=person, messages=found)

    @app.post("/api/send")
    def send() -> Any:
        payload = request.get_json(silent=True) if request.is_json else None
        if not isinstance(payload, dict):
            return bad("send a JSON object {channel, person, text}", 415)
        channel = payload.get("channel", "")
        text = payload.get("text")
        try:
            person = normalize_person(channel, payload.get("person"))
        except BadInput as error:
            return bad(str(error))
        if not isinstance(text, str) or not text.strip():
            return bad("the message is empty")
        if len(text) > MAX_TEXT:
            return bad(f"the message is longer than {MAX_TEXT} characters")
        entry, ok = phone.send(channel, person, text)
        return jsonify(channel=channel, person=person, message=entry, ok=ok), 200 if ok else 502

    return app


# -- the whole demo ------------------------------------------------------------------------------


class Demo:
    """The two fakes and the phone page, started and stopped together."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.telegram = FixedPortTelegram(config.telegram_bot_token, config.telegram_port)
        self.twilio = FixedPortTwilio(config.twilio_account_sid, config.twilio_auth_token,
                                      config.twilio_port)
        self.phone = Phone(config, self.telegram, self.twilio)
        self.phone_server = AppServer(create_phone_app(self.phone), config.phone_port)

    def start(self) -> Self:
        """Start everything; if one port cannot be bound, stop the rest and raise OSError."""
        try:
            for name, server, port in (("Telegram", self.telegram, self.config.telegram_port),
                                       ("Twilio", self.twilio, self.config.twilio_port),
                                       ("phone", self.phone_server, self.config.phone_port)):
                try:
                    server.start()
                except OSError as error:
                    raise OSError(f"fake {name} cannot listen on {HOST}:{port}: {error}") \
                        from error
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self.phone_server.stop()
        self.phone.close()
        self.telegram.stop()
        self.twilio.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def app_env(self) -> dict[str, str]:
        """What Sawti's web and worker need to talk to these fakes (and accept the phone)."""
        c = self.config
        return {
            "PUBLIC_URL": c.public_url,
            "TELEGRAM_API_URL": f"http://{HOST}:{self._port(self.telegram, c.telegram_port)}",
            "TELEGRAM_BOT_TOKEN": c.telegram_bot_token,
            "TELEGRAM_WEBHOOK_SECRET": c.telegram_webhook_secret,
            "TWILIO_API_URL": f"http://{HOST}:{self._port(self.twilio, c.twilio_port)}",
            "TWILIO_ACCOUNT_SID": c.twilio_account_sid,
            "TWILIO_AUTH_TOKEN": c.twilio_auth_token,
            "TWILIO_SMS_NUMBER": c.twilio_sms_number,
            "TWILIO_WHATSAPP_NUMBER": c.twilio_whatsapp_number,
        }

    @staticmethod
    def _port(server: FakeServer, configured: int) -> int:
        """The bound port once started (matters for port 0), else the configured one."""
        try:
            return int(server.url.rsplit(":", 1)[1])
        except RuntimeError:
            return configured


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.serve",
        description="Fake Telegram and Twilio servers plus a phone page, for offline demos.")
    parser.add_argument("--print-env", action="store_true",
                        help="print the environment Sawti's web and worker need, and exit")
    args = parser.parse_args(argv)
    try:
        config = Config.from_env(os.environ)
    except ValueError as error:
        print(f"tests.fakes.serve: {error}", file=sys.stderr)
        return 2
    demo = Demo(config)
    if args.print_env:
        for key, value in demo.app_env().items():
            print(f"{key}={value}")
        return 0

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        try:
            demo.start()
        except OSError as error:
            print(f"tests.fakes.serve: {error}", file=sys.stderr)
            return 1
        try:
            print("# Fake providers are running. Sawti's web and worker need:")
            for key, value in demo.app_env().items():
                print(f"{key}={value}")
            print(f"# Phone page: {demo.phone_server.url}/  (posts to {config.webhook_base})",
                  flush=True)
            while not stop.wait(0.5):
                pass
        finally:
            demo.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("# Fake providers stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
