"""Crash safety with real processes, SIGKILLed: every process on 127.0.0.1, always cleaned up.

- The worker (``flask worker --once``) is killed while it is sending (the fake Telegram
  server holds each send for a moment, so the kill lands mid-request) and started again:
  nothing is lost, and each crash costs at most ``SAWTI_SEND_CONCURRENCY`` duplicates — the
  messages whose sends were in flight, sent again once their lease (shortened here with
  ``SAWTI_SEND_LEASE_SECONDS``) expired.
- The web process (gunicorn, two workers) is killed while providers keep posting: every
  request it answered 200 is in the database; the ones it did not answer are retried by the
  provider once it is back, and stored exactly once.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from casework.models import Contact, DeliveryStatus, Direction, Message
from config.settings import Settings
from extensions import db
from services import services
from tests.channels.conftest import BOT_TOKEN, WEBHOOK_SECRET, post_telegram
from tests.fakes import FakeTelegram, text_update

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = 25  # 25 acknowledgements and 25 follow-up questions to send
CRASHES = 3
LEASE_SECONDS = 1.5
SEND_SECONDS = 0.05  # each send takes this long at the fake provider: kills land mid-send
FIGURES: dict[str, int] = {}


def _environment(settings: Settings, fake_url: str) -> dict[str, str]:
    """The subprocess's settings: only these (no SAWTI_*, DATABASE_URL... from outside)."""
    inherited = {key: value for key, value in os.environ.items()
                 if not key.startswith(("SAWTI_", "TWILIO_", "TELEGRAM_", "DATABASE_URL",
                                        "REDIS_URL", "PUBLIC_URL", "SECRET_KEY"))}
    return inherited | {
        "FLASK_APP": "app.py", "SAWTI_ENV": "test",
        "SAWTI_INSTANCE_PATH": str(settings.sawti_instance_path),
        "DATABASE_URL": settings.sqlalchemy_url, "SECRET_KEY": settings.secret_key or "",
        "SAWTI_DATA_KEY": settings.sawti_data_key or "", "PUBLIC_URL": settings.public_url or "",
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "TELEGRAM_API_URL": fake_url, "SAWTI_SEND_LEASE_SECONDS": str(LEASE_SECONDS),
        "SAWTI_PROVIDER_TIMEOUT_SECONDS": "5", "SAWTI_SIMULATOR": "0",
        "SAWTI_WEBHOOK_RATE_LIMIT": "100000 per minute",
    }


class Processes:
    """Started subprocesses, each in its own session, SIGKILLed as a group at the end."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.started.append(process)
        return process

    @staticmethod
    def kill(process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()

    def close(self) -> None:
        for process in self.started:
            with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
                self.kill(process)


@pytest.fixture
def processes() -> Iterator[Processes]:
    started = Processes()
    yield started
    started.close()


def _outbound_left(app: Flask) -> int:
    with app.app_context():
        db.session.remove()
        return db.session.scalar(select(func.count(Message.id)).where(
            Message.direction == Direction.OUTBOUND,
            Message.status.in_([DeliveryStatus.QUEUED, DeliveryStatus.SENDING]))) or 0


def _expected_sends(app: Flask) -> Counter[tuple[int, str]]:
    with app.app_context():
        db.session.remove()
        rows = db.session.execute(select(Message.contact_id, Message.body).where(
            Message.direction == Direction.OUTBOUND)).all()
        vault = services().vault
        chats = {contact.id: int(vault.decrypt(contact.address_encrypted))
                 for contact in db.session.scalars(select(Contact))}
    return Counter((chats[contact_id], body) for contact_id, body in rows)


def test_killing_the_worker_mid_send_loses_nothing(
    app: Flask, client: object, settings: Settings, fake_telegram: FakeTelegram,
    processes: Processes,
) -> None:
    with app.app_context():
        for person in range(PEOPLE):
            assert post_telegram(client, text_update(1000 + person, 7000 + person,  # type: ignore[arg-type]
                                                     "لم أستلم السلة الغذائية")).status_code == 200
    expected = _expected_sends(app)
    assert sum(expected.values()) == 2 * PEOPLE
    fake_telegram.fail_next(10**6, None, delay=SEND_SECONDS, match="sendMessage")
    env = _environment(settings, fake_telegram.url)
    worker = [sys.executable, "-m", "flask", "worker", "--once"]
    rng = random.Random(10)  # where to kill, reproducibly

    for _ in range(CRASHES):
        before = len(fake_telegram.requests_to("sendMessage"))
        target = before + rng.randint(1, 8)
        process = processes.start(worker, env)
        deadline = time.monotonic() + 30
        while len(fake_telegram.requests_to("sendMessage")) < target:
            assert process.poll() is None, process.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the worker sent nothing"
            time.sleep(0.005)
        processes.kill(process)  # SIGKILL while the send is held at the provider
        time.sleep(LEASE_SECONDS)  # else a quick next worker finds all leased and exits

    deadline = time.monotonic() + 60
    while _outbound_left(app):
        assert time.monotonic() < deadline, "messages were never sent"
        time.sleep(LEASE_SECONDS)  # let the dead workers' leases expire
        finished = processes.start(worker, env)
        assert finished.wait(timeout=60) == 0, finished.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
        finished.stderr.close()  # type: ignore[union-attr]

    time.sleep(SEND_SECONDS * 4)  # sends held when a worker died still complete server-side
    delivered = Counter((int(sent["chat_id"]), sent["text"])
                        for sent in fake_telegram.sent_messages())
    lost = [key for key in expected if delivered[key] == 0]
    duplicates = sum(count - 1 for count in delivered.values() if count > 1)
    FIGURES.update(worker_messages=sum(expected.values()), worker_crashes=CRASHES,
                   worker_duplicates=duplicates, worker_lost=len(lost))
    assert not lost
    assert set(delivered) <= set(expected)  # nothing sent that was not queued
    assert duplicates <= CRASHES * settings.sawti_send_concurrency  # the sends in flight
    with app.app_context():
        db.session.remove()
        statuses = Counter(db.session.scalars(select(Message.status).where(
            Message.direction == Direction.OUTBOUND)))
    assert statuses == Counter({DeliveryStatus.SENT: 2 * PEOPLE})
    print(f"\nworker crash figures: {FIGURES}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(processes: Processes, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    server = processes.start([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                              "--workers", "2", "--threads", "2", "app:create_app()"], env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except requests.RequestException:
            time.sleep(0.1)
    raise AssertionError("the web server did not start")


def _post(port: int, update_id: int) -> bool:
    """One provider delivery; True if the server acknowledged it (200)."""
    try:
        response = requests.post(
            f"http://127.0.0.1:{port}/webhooks/telegram", timeout=5,
            json=text_update(update_id, 8000 + update_id % 7, f"رسالة رقم {update_id}"),
            headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET})
    except requests.RequestException:
        return False
    return response.status_code == 200


def test_killing_the_web_process_loses_no_acknowledged_message(
    app: Flask, settings: Settings, fake_telegram: FakeTelegram, processes: Processes,
) -> None:
    env = _environment(settings, fake_telegram.url)
    port = _free_port()
    server = _serve(processes, env, port)
    updates = list(range(1, 121))
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = {pool.submit(_post, port, update_id): update_id for update_id in updates}
        while sum(future.done() for future in futures) < 30:
            time.sleep(0.005)
        processes.kill(server)  # mid-flight: some requests are being handled right now
        answered = {futures[future] for future in futures if future.result()}

    with app.app_context():
        db.session.remove()
        stored = set(int(external_id) for external_id in db.session.scalars(
            select(Message.external_id).where(Message.direction == Direction.INBOUND)))
    assert answered, "the server acknowledged nothing before it was killed"
    assert answered <= stored  # acknowledged means stored
    unanswered = [update_id for update_id in updates if update_id not in answered]
    assert unanswered, "the kill came too late to interrupt anything"

    server = _serve(processes, env, port)  # the provider retries what got no 200
    assert all(_post(port, update_id) for update_id in unanswered)
    processes.kill(server)
    with app.app_context():
        db.session.remove()
        inbound = Counter(db.session.scalars(select(Message.external_id).where(
            Message.direction == Direction.INBOUND)))
    FIGURES.update(web_requests=len(updates), web_acknowledged_before_kill=len(answered),
                   web_retried=len(unanswered), web_lost=len(set(map(str, updates)) - set(inbound)))
    assert inbound == Counter({str(update_id): 1 for update_id in updates})
    print(f"\nweb crash figures: {FIGURES}")
