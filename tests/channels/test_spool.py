"""The inbound spool: the database goes away mid-test, providers still get their 200, and the
worker ingests everything once it is back — in order, once.

On SQLite the outage is real: the database's folder disappears (and the pool is emptied), so
new connections fail. On PostgreSQL the application reaches the server through a local TCP
relay that the test cuts.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from werkzeug.test import TestResponse

from casework.models import Case, Contact, DeliveryStatus, Direction, Message, VoiceCall
from channels import spool
from channels.dispatcher import Dispatcher
from extensions import db
from tests.channels.conftest import post_telegram, post_twilio
from tests.conftest import TEST_DATABASE_URL
from tests.fakes import messaging_form, status_form, text_update

CHAT = 5550001
PHONE = "+963944000111"


class Relay:
    """A TCP relay on 127.0.0.1 to the PostgreSQL server, which can be cut and restored."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = threading.Event()
        self.up.set()
        self.sockets: list[socket.socket] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up.is_set():
                client.close()
                continue
            server = socket.create_connection(self.target)
            self.sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()

    def cut(self) -> None:
        self.up.clear()
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.sockets.clear()

    def restore(self) -> None:
        self.up.set()

    def close(self) -> None:
        self.closed = True
        self.cut()
        self.listener.close()


@pytest.fixture
def relay() -> Iterator[Relay | None]:
    if not TEST_DATABASE_URL:
        yield None
        return
    url = make_url(TEST_DATABASE_URL)
    server = Relay(url.host or "127.0.0.1", url.port or 5432)
    yield server
    server.close()


@pytest.fixture
def database_url(tmp_path: Path, relay: Relay | None, request: pytest.FixtureRequest
                 ) -> Iterator[str]:
    """SQLite in a folder of its own (the outage removes it); PostgreSQL through the relay."""
    if relay is None:
        (tmp_path / "db").mkdir()
        yield f"sqlite:///{tmp_path / 'db' / 'test.db'}"
        return
    direct = request.getfixturevalue("postgres_schema_url")
    yield re.sub(r"@[^/]+/", f"@127.0.0.1:{relay.port}/", direct, count=1)


@pytest.fixture
def postgres_schema_url(tmp_path: Path) -> Iterator[str]:
    from tests import conftest

    yield from conftest.database_url.__wrapped__(tmp_path)  # type: ignore[attr-defined]


class Outage:
    def __init__(self, app: Flask, tmp_path: Path, relay: Relay | None) -> None:
        self.app, self.folder, self.relay = app, tmp_path / "db", relay

    def begin(self) -> None:
        if has_app_context():  # the test's own session lets its connection go too
            db.session.remove()
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()
        if self.relay is not None:
            self.relay.cut()
        else:
            self.folder.rename(self.folder.with_name("db-away"))

    def end(self) -> None:
        if self.relay is not None:
            self.relay.restore()
        else:
            self.folder.with_name("db-away").rename(self.folder)
        with self.app.app_context():
            db.engine.dispose()


@pytest.fixture
def outage(app: Flask, tmp_path: Path, relay: Relay | None) -> Iterator[Outage]:
    down = Outage(app, tmp_path, relay)
    yield down
    if not down.folder.exists() and down.folder.with_name("db-away").exists():
        down.end()


def _voice_call(client: FlaskClient, sid: str) -> TestResponse:
    return post_twilio(client, "/webhooks/twilio/voice", {
        "CallSid": sid, "AccountSid": "AC" + "0" * 32, "From": "+963944000222",
        "To": "+15005550007", "CallStatus": "ringing", "Direction": "inbound"})


def _inbound_texts() -> list[str]:
    return list(db.session.scalars(select(Message.body).where(
        Message.direction == Direction.INBOUND).order_by(Message.id)))


def test_outage_spools_then_the_worker_ingests_in_order(
    app: Flask, client: FlaskClient, outage: Outage, dispatcher: Dispatcher,
) -> None:
    assert post_telegram(client, text_update(1, CHAT, "قبل الانقطاع")).status_code == 200
    sent = post_twilio(client, "/webhooks/twilio/messaging", messaging_form(Body="شكوى"))
    assert sent.status_code == 200
    dispatcher.run_once()
    reply_sid = db.session.scalars(select(Message.external_id).where(
        Message.channel == "sms", Message.direction == Direction.OUTBOUND)).first()
    assert reply_sid

    outage.begin()
    answers = [
        post_telegram(client, text_update(2, CHAT, "الرسالة الأولى أثناء الانقطاع")),
        post_telegram(client, text_update(3, CHAT, "الرسالة الثانية")),
        post_twilio(client, "/webhooks/twilio/messaging",
                    messaging_form(Body="رسالة قصيرة", MessageSid="SM" + "7" * 32)),
        post_twilio(client, "/webhooks/twilio/status", status_form(reply_sid, "delivered")),
        _voice_call(client, "CA" + "5" * 32),
    ]
    forged = post_telegram(client, text_update(4, CHAT, "مزور"), secret="wrong")
    health = client.get("/healthz")

    assert [r.status_code for r in answers] == [200, 200, 200, 204, 200]
    assert answers[0].get_json() == {"ok": True}
    assert answers[2].get_data(as_text=True).endswith("<Response />")
    assert 'Reject reason="busy"' in answers[4].get_data(as_text=True)
    assert forged.status_code == 403
    assert health.status_code == 503
    assert health.get_json()["database"] == "unavailable"
    assert health.get_json()["spool_depth"] == 5
    raw = spool.spool_for(app).path.read_bytes()
    assert PHONE.encode() not in raw and "الانقطاع".encode() not in raw
    assert str(CHAT).encode() not in raw

    with app.app_context():
        waiting = spool.replay(app)
    assert waiting.waiting and waiting.replayed == 0
    assert spool.spool_for(app).depth() == 5

    outage.end()
    with app.app_context():
        result = spool.replay(app)
    assert (result.replayed, result.rejected, result.waiting) == (5, 0, False)
    assert spool.spool_for(app).depth() == 0
    assert client.get("/healthz").get_json()["spool_depth"] == 0

    db.session.expire_all()
    assert _inbound_texts() == ["قبل الانقطاع", "شكوى", "الرسالة الأولى أثناء الانقطاع",
                                "الرسالة الثانية", "رسالة قصيرة"]
    reply = db.session.scalars(select(Message).where(Message.external_id == reply_sid)).one()
    assert reply.status == DeliveryStatus.DELIVERED
    assert db.session.scalar(select(func.count(VoiceCall.id))) == 1
    # Replayed like live traffic: the dialogue answered the spooled messages.
    assert db.session.scalar(select(func.count(Message.id)).where(
        Message.direction == Direction.OUTBOUND, Message.status == DeliveryStatus.QUEUED)) >= 2


def _state() -> tuple[int, ...]:
    db.session.expire_all()
    return tuple(db.session.scalar(select(func.count(model.id)))
                 for model in (Message, Case, Contact, VoiceCall))


def test_a_replay_interrupted_before_its_progress_was_saved_adds_nothing(
    app: Flask, client: FlaskClient, outage: Outage, app_context: None,
) -> None:
    outage.begin()
    for n in range(3):
        post_telegram(client, text_update(10 + n, CHAT, f"رسالة {n}"))
    _voice_call(client, "CA" + "6" * 32)
    outage.end()
    folder = spool.spool_for(app).folder
    saved = spool.spool_for(app).path.read_bytes()
    assert spool.replay(app).replayed == 4
    once = _state()
    # The worker died after ingesting but before recording where it was: all of it again.
    spool.spool_for(app).path.write_bytes(saved)
    (folder / spool.OFFSET_FILE).write_text("0 0")
    assert spool.replay(app).replayed == 4
    assert _state() == once


def test_the_worker_once_replays_before_it_sends(app: Flask, client: FlaskClient,
                                                 outage: Outage, app_context: None) -> None:
    outage.begin()
    post_twilio(client, "/webhooks/twilio/messaging", messaging_form(Body="أين السلة؟"))
    outage.end()
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert _inbound_texts() == ["أين السلة؟"]
    assert db.session.scalar(select(func.count(Message.id)).where(
        Message.direction == Direction.OUTBOUND, Message.status == DeliveryStatus.SENT)) >= 1


def test_entries_refused_on_replay_are_set_aside(app: Flask, client: FlaskClient,
                                                 outage: Outage, app_context: None) -> None:
    outage.begin()
    post_telegram(client, text_update(20, CHAT, "رسالة"))
    outage.end()
    spool.spool_for(app).append(b"not a sealed entry")
    post_count = spool.spool_for(app).depth()
    result = spool.replay(app)
    assert post_count == 2 and (result.replayed, result.rejected) == (1, 1)
    rejected = (spool.spool_for(app).folder / spool.REJECTED_FILE).read_bytes()
    assert rejected == b"not a sealed entry\n"


def test_the_spool_files_are_private(app: Flask, client: FlaskClient, outage: Outage) -> None:
    outage.begin()
    post_telegram(client, text_update(30, CHAT, "خاص"))
    outage.end()
    target = spool.spool_for(app)
    assert os.stat(target.path).st_mode & 0o077 == 0
    assert os.stat(target.folder).st_mode & 0o077 == 0
