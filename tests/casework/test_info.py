"""The information line's service: entries officers keep (validated, approved again after a
change, used only within their dates), the person's feedback, and the KPIs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.test import TestResponse

from casework import accounts, cases, info
from casework.faq import load_entries
from casework.models import AuditEvent, Case, CaseStatus, InfoAnswer, InfoEntry, Role, User, utcnow
from extensions import db
from services import services

ROOT = Path(__file__).resolve().parents[2]
GOOD = {"code": "next_distribution", "answer_ar": "التوزيع بين ١ و١٠ من كل شهر.",
        "keywords": ["توزيع*"], "asks": ["when"]}

STARTER_ENTRIES = len(load_entries(Path(__file__).resolve().parents[2] / "config"
                                   / "info_entries.yaml"))


@pytest.fixture
def officer(app_context: None) -> User:
    return accounts.create_user(db.session, "officer@example.org", "a long enough password 1",
                                Role.OFFICER, name="Officer")


def test_an_entry_is_saved_audited_and_needs_approving(officer: User) -> None:
    entry = info.save_entry(db.session, officer, None, GOOD, utcnow())
    assert info.usable(db.session, date.today()) == []  # not approved yet
    info.approve(db.session, officer, entry, utcnow())
    assert info.usable(db.session, date.today()) == [entry]
    info.save_entry(db.session, officer, entry, {"answer_ar": "تغيّر الموعد."}, utcnow())
    assert entry.approved_at is None  # changed words: approved again before use
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action.like("info.%")).order_by(AuditEvent.id)).all()
    assert actions == ["info.created", "info.approved", "info.updated"]


def test_saving_an_entry_unchanged_records_nothing_and_keeps_it_approved(officer: User
                                                                         ) -> None:
    entry = info.save_entry(db.session, officer, None, GOOD, utcnow())
    info.approve(db.session, officer, entry, utcnow())
    info.save_entry(db.session, officer, entry, dict(GOOD), utcnow())
    assert entry.approved_at is not None
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action.like("info.%")).order_by(AuditEvent.id)).all()
    assert actions == ["info.created", "info.approved"]


REFUSED = [
    ("no-code", {**GOOD, "code": ""}, "code"),
    ("code-with-spaces", {**GOOD, "code": "next distribution"}, "code"),
    ("no-answer", {**GOOD, "answer_ar": ""}, "no_answer"),
    ("no-keywords", {**GOOD, "keywords": []}, "no_keywords"),
    ("punctuation-keyword", {**GOOD, "keywords": ["!!"]}, "keywords"),
    ("ends-before-it-starts", {**GOOD, "valid_from": date(2026, 12, 2),
                               "valid_to": date(2026, 12, 1)}, "dates"),
    ("answer-too-long", {**GOOD, "answer_ar": "ا" * 2001}, "too_long"),
]


@pytest.mark.parametrize(("label", "values", "reason"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_bad_entry_is_refused_with_the_reason(officer: User, label: str,
                                                values: dict[str, Any], reason: str) -> None:
    with pytest.raises(info.EntryRefused) as refused:
        info.save_entry(db.session, officer, None, values, utcnow())
    assert refused.value.reason == reason
    assert db.session.scalars(select(InfoEntry)).all() == []


def test_a_code_is_unique(officer: User) -> None:
    info.save_entry(db.session, officer, None, GOOD, utcnow())
    with pytest.raises(info.EntryRefused, match="code_taken"):
        info.save_entry(db.session, officer, None, GOOD, utcnow())


def test_unknown_question_kinds_are_dropped(officer: User) -> None:
    entry = info.save_entry(db.session, officer, None, {**GOOD, "asks": ["when", "whenever"]},
                            utcnow())
    assert entry.asks == ["when"]


def test_only_entries_within_their_dates_are_used(officer: User) -> None:
    today = date.today()
    for code, start, end in (("past", today - timedelta(days=9), today - timedelta(days=1)),
                             ("now", today - timedelta(days=1), today + timedelta(days=1)),
                             ("later", today + timedelta(days=1), None)):
        entry = info.save_entry(db.session, officer, None,
                                {**GOOD, "code": code, "valid_from": start, "valid_to": end},
                                utcnow())
        info.approve(db.session, officer, entry, utcnow())
    assert [entry.code for entry in info.usable(db.session, today)] == ["now"]


def _case(simulate: Callable[..., TestResponse]) -> Case:
    simulate("لم أستلم السلة", tab="tab-info-case")
    return db.session.scalars(select(Case)).one()


def test_yes_closes_the_case_as_answered_automatically(
    officer: User, simulate: Callable[..., TestResponse],
) -> None:
    entry = info.save_entry(db.session, officer, None, GOOD, utcnow())
    case = _case(simulate)
    answer = info.record(db.session, case, case.messages[0], entry, utcnow())
    info.record_feedback(db.session, answer, True, utcnow(), services().org_data)
    db.session.commit()
    assert (case.status, case.level, case.category) == (CaseStatus.CLOSED, 1,
                                                        "information_request")
    assert case.resolution is None  # said from the answer, in the reader's language
    assert cases.resolution(db.session, case) == cases.Resolution(
        None, answered_automatically=True, entry=entry)
    closed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.closed")).one()
    assert closed.actor == info.ACTOR and closed.details["automatic"] is True


def test_no_leaves_the_case_open_and_marked(officer: User,
                                            simulate: Callable[..., TestResponse]) -> None:
    entry = info.save_entry(db.session, officer, None, GOOD, utcnow())
    case = _case(simulate)
    answer = info.record(db.session, case, case.messages[0], entry, utcnow())
    info.record_feedback(db.session, answer, False, utcnow(), services().org_data)
    db.session.commit()
    assert case.status != CaseStatus.CLOSED and answer.satisfied is False
    assert db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action == "info.not_satisfied")).one()


def test_kpis_count_requests_answers_and_satisfaction(
    officer: User, simulate: Callable[..., TestResponse],
) -> None:
    entry = info.save_entry(db.session, officer, None, GOOD, utcnow())
    case = _case(simulate)
    now = utcnow()
    # 5 requests: 3 answered (yes, no, no reply), 1 nothing matched, 1 by voice menu (no case)
    for satisfied in (True, False, None):
        answer = info.record(db.session, case, None, entry, now)
        answer.satisfied = satisfied
    info.record(db.session, case, None, None, now)
    info.record(db.session, None, None, entry, now, channel="voice")
    db.session.commit()
    found = info.kpis(db.session, now - timedelta(hours=1), now + timedelta(hours=1))
    assert (found.requests, found.answered, found.satisfied, found.not_satisfied) == (5, 4, 1, 1)
    assert found.answered_share == 0.8 and found.satisfied_share == 0.25
    assert found.closed_automatically == 1
    assert info.kpis(db.session, now + timedelta(hours=1), now + timedelta(hours=2)
                     ).answered_share is None  # no data, not 0%


def test_usage_per_entry(officer: User, simulate: Callable[..., TestResponse]) -> None:
    entry = info.save_entry(db.session, officer, None, GOOD, utcnow())
    case = _case(simulate)
    for satisfied in (True, True, False, None):
        info.record(db.session, case, None, entry, utcnow()).satisfied = satisfied
    db.session.commit()
    (row,) = info.usage(db.session)
    assert (row.answered, row.satisfied, row.not_satisfied, row.no_reply) == (4, 2, 1, 1)


def test_entries_are_imported_once(officer: User) -> None:
    path = ROOT / "config" / "info_entries.yaml"
    created = info.import_entries(db.session, path, officer, utcnow(), approve_all=True)
    assert created == STARTER_ENTRIES
    assert len(info.usable(db.session, date.today())) == STARTER_ENTRIES
    assert info.import_entries(db.session, path, officer, utcnow()) == 0


def test_the_matcher_follows_the_entries(officer: User) -> None:
    entry = info.save_entry(db.session, officer, None, GOOD, utcnow())
    info.approve(db.session, officer, entry, utcnow())
    assert info.find_answer(db.session, "متى التوزيع؟", None, utcnow()) == entry
    info.save_entry(db.session, officer, entry, {"active": False}, utcnow())
    assert info.find_answer(db.session, "متى التوزيع؟", None, utcnow()) is None
    assert db.session.scalars(select(InfoAnswer)).all() == []  # matching alone records nothing
