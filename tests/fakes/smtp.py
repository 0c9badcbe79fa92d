"""A fake SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it accepts.

Point smtplib at ``fake.host`` / ``fake.port``; read back with ``fake.messages()``. With
``user`` and ``password`` it requires those credentials (AUTH PLAIN/LOGIN without TLS, as a
local test server may). ``fail_next(n, code)`` makes the next n messages be refused at DATA
with that SMTP code (4xx: try again later, 5xx: refused for good).
"""

from __future__ import annotations

import logging
import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from types import TracebackType
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class _Handler:
    def __init__(self, fake: FakeSMTP) -> None:
        self.fake = fake

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return self.fake._accept(envelope.mail_from, list(envelope.rcpt_tos),
                                 envelope.original_content or envelope.content)


class FakeSMTP:
    def __init__(self, *, user: str | None = None, password: str | None = None) -> None:
        self.host = HOST
        self.port = 0
        self.user, self.password = user, password
        self._lock = threading.Lock()
        self._received: list[tuple[str, list[str], bytes]] = []
        self._failures: list[tuple[int, str]] = []
        self.logins: list[str] = []
        self._controller: Controller | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        if self._controller is not None:
            return self
        # aiosmtpd logs every session at INFO, and a warning about its own legacy attribute
        # on each successful AUTH; neither says anything about the code under test.
        logging.getLogger("mail.log").setLevel(logging.ERROR)
        self.port = _free_port()
        options: dict[str, Any] = {}
        if self.user is not None:
            options = {"authenticator": self._authenticate, "auth_require_tls": False}
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port,
                                      ready_timeout=10.0, **options)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- test-facing API ---------------------------------------------------------------------

    def messages(self) -> list[EmailMessage]:
        """Accepted messages, oldest first, parsed (``msg["To"]``, ``msg.get_content()``)."""
        with self._lock:
            raw = [content for _sender, _rcpts, content in self._received]
        return [message_from_bytes(content, policy=policy.default)  # type: ignore[misc]
                for content in raw]

    def envelopes(self) -> list[tuple[str, list[str]]]:
        with self._lock:
            return [(sender, rcpts) for sender, rcpts, _content in self._received]

    def fail_next(self, n: int = 1, code: int = 451, text: str = "try again later") -> None:
        with self._lock:
            self._failures += [(code, text)] * n

    def reset(self) -> None:
        with self._lock:
            self._received.clear()
            self._failures.clear()
            self.logins.clear()

    # -- server side -------------------------------------------------------------------------

    def _accept(self, sender: str, rcpts: list[str], content: bytes) -> str:
        with self._lock:
            if self._failures:
                code, text = self._failures.pop(0)
                return f"{code} {text}"
            self._received.append((sender, rcpts, content))
        return "250 OK"

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login.decode() == self.user
              and auth_data.password.decode() == self.password)
        if ok:
            with self._lock:
                self.logins.append(self.user or "")
        return AuthResult(success=ok)
