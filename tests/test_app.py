"""The application factory's SQLite settings: how a transaction waits for the write lock."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from flask import Flask, url_for
from flask_limiter.util import get_remote_address
from sqlalchemy import func, select

from casework.models import AuditEvent
from config.settings import Settings
from extensions import db

HOLD_SECONDS = 0.3


@pytest.fixture
def sqlite_path(settings: Settings) -> Path:
    if not settings.sqlalchemy_url.startswith("sqlite"):
        pytest.skip("SQLite only")
    return Path(settings.sqlalchemy_url.removeprefix("sqlite:///"))


def _hold_write_lock(path: Path, locked: threading.Event) -> None:
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO audit_events (at, actor, action, details) "
                      "VALUES ('2026-01-01 00:00:00', 'other', 'held', '{}')")
        locked.set()
        time.sleep(HOLD_SECONDS)
        other.execute("COMMIT")
    finally:
        other.close()


def test_a_transaction_waits_for_another_writer_then_goes_on(app: Flask,
                                                             sqlite_path: Path) -> None:
    locked = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(sqlite_path, locked))
    holder.start()
    assert locked.wait(5)
    began = time.monotonic()
    with app.app_context():
        db.session.add(AuditEvent(action="mine"))
        db.session.commit()
        waited = time.monotonic() - began
        actions = set(db.session.scalars(select(AuditEvent.action)))
        busy_timeout = db.session.connection().exec_driver_sql("PRAGMA busy_timeout").scalar()
    holder.join()
    assert waited >= HOLD_SECONDS * 0.8
    assert actions == {"held", "mine"}
    assert busy_timeout == 30_000  # SQLite's own wait is back for what follows
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id))) == 2


@pytest.mark.parametrize(("settings_overrides", "scheme", "client_ip"), [
    pytest.param({"sawti_trusted_proxies": 0, "sawti_login_rate_limit": "2 per minute"},
                 "http", "127.0.0.1", id="no-proxy-trusted"),
    pytest.param({"sawti_trusted_proxies": 1, "sawti_login_rate_limit": "2 per minute"},
                 "https", "203.0.113.7", id="behind-one-proxy"),
])
def test_forwarded_headers_count_only_behind_trusted_proxies(
    app: Flask, scheme: str, client_ip: str,
) -> None:
    """SAWTI_TRUSTED_PROXIES (abuse.py's ProxyFix): X-Forwarded-Proto makes external URLs
    https and X-Forwarded-For is the client IP the rate limits count, only when trusted."""
    app.add_url_rule("/probe", "probe", lambda: {"url": url_for("probe", _external=True),
                                                 "limited_as": get_remote_address()})
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.1, 203.0.113.7"}
    probe = client.get("/probe", headers=forwarded).get_json()
    assert probe == {"url": f"{scheme}://localhost/probe", "limited_as": client_ip}

    form = {"email": "someone@example.org", "password": "guess"}
    codes = [client.post("/admin/login", data=form, headers={
        "X-Forwarded-For": f"203.0.113.{n}"}).status_code for n in (1, 2, 3)]
    # Trusted, three addresses have three allowances; else the proxy's one is used up.
    assert codes == ([200, 200, 200] if client_ip != "127.0.0.1" else [200, 200, 429])
