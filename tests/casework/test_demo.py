"""``flask demo`` and ``flask info import``: demo data through the real intake, once."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from casework import demo
from casework.faq import load_entries
from casework.models import (
    AuditEvent,
    Case,
    InfoEntry,
    Message,
    Notification,
    TriageSuggestion,
    User,
)
from extensions import db

ROOT = Path(__file__).resolve().parents[2]
STARTER_ENTRIES = len(load_entries(ROOT / "config" / "info_entries.yaml"))


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_demo_data_is_created_once(app: Flask, app_context: None) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--password", "demo password 2026"])
    assert result.exit_code == 0, result.output
    assert "password of the new demo accounts: demo password 2026" in result.output
    assert _count(User) == len(demo.STAFF)
    assert _count(Case) == len(demo.MESSAGES)
    assert _count(InfoEntry) == STARTER_ENTRIES
    sensitive = db.session.scalars(select(Case).where(Case.sensitive.is_(True))).all()
    assert len(sensitive) >= 3  # the bribe, the child marriage, the night messages
    assert _count(TriageSuggestion) > 0
    ages = {case.created_at.date() for case in db.session.scalars(select(Case))}
    assert len(ages) > 5  # spread over the weeks, for the dashboard
    again = runner.invoke(args=["demo", "--password", "demo password 2026"])
    assert again.exit_code == 0 and _count(Case) == len(demo.MESSAGES)
    assert "password of the new demo accounts" not in again.output


def test_info_import_needs_an_existing_user(app: Flask, app_context: None) -> None:
    runner = app.test_cli_runner()
    path = str(ROOT / "config" / "info_entries.yaml")
    refused = runner.invoke(args=["info", "import", path, "--as", "nobody@example.org"])
    assert refused.exit_code != 0 and "no active user" in refused.output
    runner.invoke(args=["users", "create", "amal@example.org", "--role", "officer",
                        "--password-stdin"], input="a long enough password 1\n")
    done = runner.invoke(args=["info", "import", path, "--as", "amal@example.org"])
    assert done.exit_code == 0 and f"{STARTER_ENTRIES} entries created" in done.output
    assert db.session.scalars(select(InfoEntry.approved_at)).all() == [None] * STARTER_ENTRIES


def test_each_demo_conversation_is_in_order_in_time(app: Flask, app_context: None) -> None:
    result = app.test_cli_runner().invoke(args=["demo", "--password", "demo password 2026"])
    assert result.exit_code == 0, result.output
    for case in db.session.scalars(select(Case)):
        messages = db.session.scalars(select(Message).where(Message.case_id == case.id)).all()
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id))
        assert min(message.received_at or message.created_at for message in messages) \
            == case.created_at, case.reference
        assert all(event.at >= case.created_at for event in events), case.reference
        for moment in (case.acknowledged_at, case.first_response_at, case.closed_at):
            assert moment is None or case.created_at <= moment, case.reference
        if case.first_response_at is not None and case.closed_at is not None:
            assert case.first_response_at <= case.closed_at, case.reference


def test_demo_alerts_give_each_cases_own_deadline(app: Flask, app_context: None) -> None:
    result = app.test_cli_runner().invoke(args=["demo", "--password", "demo password 2026"])
    assert result.exit_code == 0, result.output
    alerts = [item for item in db.session.scalars(select(Notification))
              if item.case is not None and (item.params or {}).get("due_at")
              and item.kind != "referral_new"]
    assert alerts  # the sensitive cases alerted the PSEA focal point
    for alert in alerts:
        assert alert.params["due_at"] == alert.case.due_at.isoformat(), alert.case.reference
