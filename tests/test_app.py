"""The application factory's SQLite settings: how a transaction waits for the write lock."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from flask import Flask
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
