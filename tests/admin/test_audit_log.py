"""The audit log page: administrators only, filterable, paginated, read-only, escaped."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from casework.models import AuditEvent, Case, User
from extensions import db


def _event(action: str, at: datetime, *, actor: str = "system", case: Case | None = None,
           **details: object) -> AuditEvent:
    event = AuditEvent(action=action, at=at, actor=actor, case=case, details=details)
    db.session.add(event)
    return event


def _rows(page: str) -> list[str]:
    body = re.search(r"<tbody>(.*?)</tbody>", page, re.S)
    return re.findall(r"<tr>.*?</tr>", body.group(1), re.S) if body else []


def _action(row: str) -> str:
    found = re.search(r'data-action="([a-z._]+)"', row)
    assert found is not None, row
    return found.group(1)


@pytest.fixture
def admin(signed_in: Callable[..., FlaskClient]) -> FlaskClient:
    client = signed_in("admin")
    client.set_cookie("lang", "en")
    return client


@pytest.mark.parametrize(("role", "status"), [
    ("admin", 200), ("officer", 403), ("psea", 403), ("focal_point", 403), ("viewer", 403),
])
def test_only_admins_read_the_log(signed_in: Callable[..., FlaskClient], role: str,
                                  status: int) -> None:
    assert signed_in(role).get("/admin/audit").status_code == status


def test_visitor_is_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/admin/audit")
    assert response.status_code == 302 and "/admin/login" in response.location


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_log_cannot_be_changed(admin: FlaskClient, method: str) -> None:
    _event("case.viewed", datetime(2025, 3, 1, 9, tzinfo=UTC))
    db.session.commit()
    assert getattr(admin, method)("/admin/audit").status_code == 405
    assert getattr(admin, method)("/admin/audit/1").status_code in (404, 405)
    assert len(db.session.scalars(select(AuditEvent)).all()) >= 1


@pytest.fixture
def story(new_case: Callable[..., Case], make_user: Callable[..., User]) -> dict[str, Case]:
    """Events of two officers on two cases, over three days (times in UTC)."""
    first, second = new_case(), new_case(sensitive=True)
    make_user("officer", email="amal@example.org")
    db.session.execute(AuditEvent.__table__.delete())
    _event("case.viewed", datetime(2025, 3, 1, 8, tzinfo=UTC), actor="amal@example.org",
           case=second, part="page")
    _event("contact.revealed", datetime(2025, 3, 1, 22, 30, tzinfo=UTC),
           actor="amal@example.org", case=first, reason="اتصال للمتابعة")
    _event("case.viewed", datetime(2025, 3, 2, 10, tzinfo=UTC), actor="samir@example.org",
           case=second, part="summary")
    _event("login.succeeded", datetime(2025, 3, 3, 7, tzinfo=UTC), user_id=1)
    db.session.commit()
    return {"first": first, "second": second}


@pytest.mark.parametrize(("label", "query", "expected"), [
    ("everything", "", ["login.succeeded", "case.viewed", "contact.revealed", "case.viewed"]),
    ("by-action", "action=case.viewed", ["case.viewed", "case.viewed"]),
    ("by-actor", "actor=AMAL@example.org", ["contact.revealed", "case.viewed"]),
    ("by-system-actor", "actor=system", ["login.succeeded"]),
    ("by-case", "case={second}", ["case.viewed", "case.viewed"]),
    ("by-case-arabic-digits", "case={second_arabic}", ["case.viewed", "case.viewed"]),
    # 22:30 UTC on 1 March is 01:30 on 2 March in Damascus.
    ("from-date", "date_from=2025-03-02", ["login.succeeded", "case.viewed",
                                           "contact.revealed"]),
    ("to-date", "date_to=2025-03-01", ["case.viewed"]),
    ("one-day-arabic-digits", "date_from=٢٠٢٥-٠٣-٠٢&date_to=٢٠٢٥-٠٣-٠٢",
     ["case.viewed", "contact.revealed"]),
    ("combined", "action=case.viewed&actor=samir@example.org&case={second}", ["case.viewed"]),
    ("nothing", "actor=nobody@example.org", []),
], ids=["everything", "by-action", "by-actor", "by-system-actor", "by-case",
        "by-case-arabic-digits", "from-date", "to-date", "one-day-arabic-digits", "combined",
        "nothing"])
def test_filters(admin: FlaskClient, story: dict[str, Case], label: str, query: str,
                 expected: list[str]) -> None:
    arabic = story["second"].reference.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    query = query.format(second=story["second"].reference, second_arabic=arabic)
    response = admin.get(f"/admin/audit?{query}")
    assert response.status_code == 200, label
    rows = _rows(response.get_data(as_text=True))
    assert [_action(row) for row in rows] == expected, label


def test_rows_show_local_time_actor_case_and_details(admin: FlaskClient,
                                                     story: dict[str, Case]) -> None:
    page = admin.get("/admin/audit?action=contact.revealed").get_data(as_text=True)
    (row,) = _rows(page)
    assert "2025-03-02 01:30" in row  # Asia/Damascus, UTC+3
    assert "amal@example.org" in row and story["first"].reference in row
    assert "<dt>Reason</dt>" in row and '<dd dir="auto">اتصال للمتابعة</dd>' in row


def test_details_are_escaped(admin: FlaskClient, new_case: Callable[..., Case]) -> None:
    _event("case.note", datetime(2025, 3, 1, 9, tzinfo=UTC), actor="<b>x</b>@example.org",
           reason="<script>alert(1)</script>")
    db.session.commit()
    page = admin.get("/admin/audit?action=case.note").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert "<b>x</b>" not in page


def test_users_stored_by_id_are_shown_by_email(admin: FlaskClient,
                                               make_user: Callable[..., User]) -> None:
    user = make_user("officer", email="hiba@example.org")
    _event("case.viewed", datetime(2025, 3, 1, 9, tzinfo=UTC), actor=f"user:{user.id}")
    db.session.commit()
    page = admin.get("/admin/audit?actor=hiba@example.org").get_data(as_text=True)
    assert len(_rows(page)) == 1 and "hiba@example.org" in _rows(page)[0]


def test_pages_of_fifty_newest_first(admin: FlaskClient) -> None:
    db.session.execute(AuditEvent.__table__.delete())
    for number in range(120):
        _event("case.viewed", datetime(2025, 1, 1, tzinfo=UTC).replace(minute=number % 60,
                                                                        hour=number // 60),
               number=number)
    db.session.commit()
    first = admin.get("/admin/audit?action=case.viewed").get_data(as_text=True)
    assert len(_rows(first)) == 50 and "<dt>number</dt><dd dir=\"auto\">119</dd>" in _rows(first)[0]
    assert "120 events" in first and "Page 1 of 3" in first
    assert 'href="/admin/audit?action=case.viewed&amp;page=2"' in first
    last = admin.get("/admin/audit?action=case.viewed&page=3").get_data(as_text=True)
    assert len(_rows(last)) == 20 and "<dt>number</dt><dd dir=\"auto\">0</dd>" in _rows(last)[-1]
    assert 'href="/admin/audit?action=case.viewed&amp;page=2"' in last
    beyond = admin.get("/admin/audit?action=case.viewed&page=99").get_data(as_text=True)
    assert "Page 3 of 3" in beyond
    assert "Page 1 of 3" in admin.get("/admin/audit?page=abc").get_data(as_text=True)


@pytest.mark.parametrize(("label", "query", "message"), [
    ("bad-date", "date_from=2025-13-01", "Enter the date as YYYY-MM-DD"),
    ("reversed-range", "date_from=2025-03-02&date_to=2025-03-01", "before the start date"),
    ("unknown-action", "action=nothing.like.this", "Not a valid choice"),
], ids=["bad-date", "reversed-range", "unknown-action"])
def test_invalid_filters_say_why(admin: FlaskClient, story: dict[str, Case], label: str,
                                 query: str, message: str) -> None:
    response = admin.get(f"/admin/audit?{query}")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and message in page, label
    assert _rows(page) == []


def test_the_page_carries_no_inline_script_or_style(admin: FlaskClient,
                                                    story: dict[str, Case]) -> None:
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert "<script" not in page and "style=" not in page and "<style" not in page


def _text(page: str) -> str:
    """What a reader sees: the page without its tags (and so without their attributes)."""
    body = page.split("<main", 1)[-1]
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


@pytest.fixture
def non_user_actors(new_case: Callable[..., Case]) -> Case:
    case = new_case()
    db.session.execute(AuditEvent.__table__.delete())
    _event("login.succeeded", datetime(2025, 3, 1, 8, tzinfo=UTC), user_id=7)
    _event("user.created", datetime(2025, 3, 1, 9, tzinfo=UTC), actor="cli", user_id=7,
           role="officer")
    _event("case.flagged_sensitive", datetime(2025, 3, 1, 10, tzinfo=UTC),
           actor="triage-assistant", case=case, rules=["psea.ar.1"], suggested_level=5)
    _event("case.closed", datetime(2025, 3, 1, 11, tzinfo=UTC), actor="information-line",
           case=case, automatic=True, status=["open", "closed"])
    db.session.commit()
    return case


@pytest.mark.parametrize(("language", "shown"), [
    ("ar", ["تسجيل دخول ناجح", "أُنشئ حساب مستخدم", "نبّه مساعد الفرز إلى أنها قد تكون حساسة",
            "أُغلقت الحالة", "صوتي (تلقائي)", "مسؤول (سطر الأوامر)", "مساعد الفرز",
            "خط المعلومات", "رقم المستخدم", "الدور", "القواعد", "المستوى المقترح", "الوضع",
            "مفتوحة → مغلقة", "مسؤول المساءلة", "psea.ar.1",
            "المنفّذ (البريد الإلكتروني، أو كما يظهر في السجل)"]),
    ("en", ["Signed in", "User account created",
            "Flagged as possibly sensitive by the triage assistant", "Case closed",
            "Sawti (automatic)", "Administrator (command line)", "Triage assistant",
            "Information line", "User number", "Role", "Rules", "Suggested level", "Status",
            "Open → Closed", "Accountability officer", "psea.ar.1",
            "Actor (email, or as shown in the log)"]),
], ids=["arabic", "english"])
def test_the_log_reads_in_the_readers_language(admin: FlaskClient, non_user_actors: Case,
                                               language: str, shown: list[str]) -> None:
    admin.set_cookie("lang", language)
    page = admin.get("/admin/audit").get_data(as_text=True)
    text = _text(page)
    assert [label for label in shown if label not in text] == []
    raw = ["login.succeeded", "user.created", "case.flagged_sensitive", "case.closed",
           "system", "cli", "triage-assistant", "information-line", "user_id", "{", "}",
           "open → closed"]
    assert [code for code in raw if code in text] == []


@pytest.mark.parametrize(("language", "option"), [
    ("ar", '<option value="login.succeeded">تسجيل دخول ناجح</option>'),
    ("en", '<option value="login.succeeded">Signed in</option>'),
], ids=["arabic", "english"])
def test_the_action_filter_lists_labels(admin: FlaskClient, non_user_actors: Case,
                                        language: str, option: str) -> None:
    admin.set_cookie("lang", language)
    assert option in admin.get("/admin/audit").get_data(as_text=True)


def test_an_unknown_action_is_shown_as_stored(admin: FlaskClient) -> None:
    _event("something.new", datetime(2025, 3, 1, 9, tzinfo=UTC), actor="robot")
    db.session.commit()
    text = _text(admin.get("/admin/audit?action=something.new").get_data(as_text=True))
    assert "something.new" in text and "robot" in text


@pytest.mark.parametrize(("language", "actor", "expected"), [
    ("ar", "مساعد الفرز", ["case.flagged_sensitive"]),
    ("en", "triage assistant", ["case.flagged_sensitive"]),
    ("en", "Sawti (automatic)", ["login.succeeded"]),
    ("en", "cli", ["user.created"]),
    ("ar", "Information line", []),  # the label of the other language
], ids=["arabic-label", "english-label-any-case", "system-label", "stored-code",
        "other-language"])
def test_actors_are_found_as_shown(admin: FlaskClient, non_user_actors: Case, language: str,
                                   actor: str, expected: list[str]) -> None:
    admin.set_cookie("lang", language)
    response = admin.get("/admin/audit", query_string={"actor": actor})
    assert [_action(row) for row in _rows(response.get_data(as_text=True))] == expected
