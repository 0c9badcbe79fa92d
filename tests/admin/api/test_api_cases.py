"""The JSON API: tokens, roles, pagination, actions and problem+json errors."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from casework import audit, cases, info, queue
from casework.models import (
    ApiToken,
    Case,
    CaseStatus,
    InfoAnswer,
    InfoEntry,
    Message,
    Project,
    Referral,
    User,
    utcnow,
)
from casework.tokens import revoke
from extensions import db
from services import services
from tests.admin.api.conftest import ApiClient

PROBLEM = "application/problem+json"


def test_missing_or_bad_token_is_401_problem(app: Flask, api: Callable[..., ApiClient]
                                             ) -> None:
    client = app.test_client()
    for headers in ({}, {"Authorization": "Bearer sawti_nope"}, {"Authorization": "Basic x"}):
        response = client.get("/api/v1/cases", headers=headers)
        assert response.status_code == 401 and response.mimetype == PROBLEM
        assert response.json["status"] == 401 and response.json["title"] == "Unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_stops_working(api: Callable[..., ApiClient]) -> None:
    officer = api("officer")
    assert officer.get("/cases").status_code == 200
    record = db.session.scalars(select(ApiToken)).one()
    revoke(db.session, record, actor="admin", now=record.created_at)
    assert officer.get("/cases").status_code == 401


@pytest.mark.parametrize(
    ("role", "locations", "programme", "sensitive"),
    [
        pytest.param("officer", None, 200, "restricted", id="officer"),
        pytest.param("officer", ["IQ-NI"], 404, 404, id="officer-other-location"),
        pytest.param("psea", None, 404, 200, id="psea"),
        pytest.param("focal_point", None, 404, 404, id="focal-point-not-referred"),
        pytest.param("viewer", None, 404, 404, id="viewer"),
        pytest.param("admin", None, 404, 404, id="admin"),
    ],
)
def test_case_detail_follows_the_console_rules(
    api: Callable[..., ApiClient], new_case: Callable[..., Case], role: str,
    locations: list[str] | None, programme: int, sensitive: int | str,
) -> None:
    open_case = new_case("لم أستلم السلة", location="SY-ID")
    secret = new_case("الموظف طلب مني مال مقابل المساعدة", sensitive=True, location="SY-ID")
    client = api(role, locations=locations)
    assert client.get(f"/cases/{open_case.reference}").status_code == programme
    response = client.get(f"/cases/{secret.reference}")
    if sensitive == "restricted":
        assert response.status_code == 200 and response.json["restricted"] is True
        assert "timeline" not in response.json and "مال" not in response.get_data(as_text=True)
    else:
        assert response.status_code == sensitive


def test_focal_point_lists_only_referred_cases(
    api: Callable[..., ApiClient], new_case: Callable[..., Case], make_user: Callable[..., User],
) -> None:
    referred, other = new_case("مشكلة أولى"), new_case("مشكلة ثانية")
    focal = api("focal_point")
    db.session.add(Referral(case=referred, to_user=focal.user, due_at=referred.due_at))
    db.session.commit()
    listed = [item["reference"] for item in focal.get("/cases").json["items"]]
    assert listed == [referred.reference]
    assert focal.get(f"/cases/{other.reference}").status_code == 404


@pytest.mark.parametrize("role", ["admin", "viewer"])
def test_report_roles_cannot_list_cases(api: Callable[..., ApiClient], role: str) -> None:
    response = api(role).get("/cases")
    assert response.status_code == 403 and response.mimetype == PROBLEM


def test_cursor_pagination_is_stable_while_cases_arrive(
    api: Callable[..., ApiClient], new_case: Callable[..., Case],
) -> None:
    first_five = [new_case(f"شكوى رقم {n}").reference for n in range(5)]
    officer = api("officer")
    page = officer.get("/cases?limit=2").json
    seen = [item["reference"] for item in page["items"]]
    for n in range(3):  # new cases arrive between pages
        new_case(f"شكوى جديدة {n}")
    while page["next_cursor"]:
        page = officer.get(f"/cases?limit=2&cursor={page['next_cursor']}").json
        seen += [item["reference"] for item in page["items"]]
    assert seen == list(reversed(first_five))  # every older case once, none twice


@pytest.mark.parametrize(
    ("query", "status"),
    [("limit=0", 400), ("limit=abc", 400), ("status=lost", 400), ("overdue=maybe", 400),
     ("cursor=%%%", 400), ("cursor=999999999999", 400), ("limit=١٠", 200),
     ("q=السله", 200)],
    ids=["zero-limit", "text-limit", "bad-status", "bad-overdue", "bad-cursor",
         "cursor-beyond-any-id", "arabic-digits", "search"],
)
def test_list_parameters_are_validated(api: Callable[..., ApiClient],
                                       new_case: Callable[..., Case], query: str,
                                       status: int) -> None:
    new_case("لم أستلم السلة")
    response = api("officer").get(f"/cases?{query}")
    assert response.status_code == status
    if status == 400:
        assert response.mimetype == PROBLEM and response.json["detail"]


def test_search_matches_arabic_spelling_variants(api: Callable[..., ApiClient],
                                                 new_case: Callable[..., Case]) -> None:
    wanted = new_case("لم أستلم السلة الغذائية")
    new_case("المياه مقطوعة")
    items = api("officer").get("/cases?q=استلم السله").json["items"]
    assert [item["reference"] for item in items] == [wanted.reference]


SEARCH_PAGES = [
    # label: which cases mention the word, oldest first; the walk's factor (cases it reads
    # for each case a page needs before it takes every match through the index instead)
    ("walk-finds-them", "m.mmm.mm", 100),
    ("walk-cut-short-on-rare-matches", "mm.mm.....", 1),
    ("walk-cut-short-then-finds-them", "m.....mmmm", 1),
]


@pytest.mark.parametrize(("pattern", "walk_factor"),
                         [pytest.param(*case[1:], id=case[0]) for case in SEARCH_PAGES])
def test_search_cursor_pages_give_every_match_once_newest_first(
        api: Callable[..., ApiClient], new_case: Callable[..., Case],
        monkeypatch: pytest.MonkeyPatch, pattern: str, walk_factor: int) -> None:
    monkeypatch.setattr(queue, "WALK_FACTOR", walk_factor)
    cases = [new_case("المازوت ما وصل" if mark == "m" else "الكهرباء مقطوعة")
             for mark in pattern]
    officer = api("officer")
    page = officer.get("/cases?q=مازوت&limit=2").json
    seen = [item["reference"] for item in page["items"]]
    while page["next_cursor"] and len(seen) <= len(pattern):  # a cursor that never ends fails
        page = officer.get(f"/cases?q=مازوت&limit=2&cursor={page['next_cursor']}").json
        seen += [item["reference"] for item in page["items"]]
    assert seen == [case.reference for case, mark in zip(cases, pattern, strict=True)
                    if mark == "m"][::-1]


def test_triage_reply_note_refer_close_reopen(
    api: Callable[..., ApiClient], new_case: Callable[..., Case], make_user: Callable[..., User],
) -> None:
    case = new_case("لم أستلم السلة")
    officer = api("officer")
    focal = make_user("focal_point")
    triaged = officer.patch(f"/cases/{case.reference}", json={"level": 3, "urgent": True,
                                                                "category": "distribution_food"})
    assert triaged.status_code == 200, triaged.json
    assert (triaged.json["level"], triaged.json["urgent"], triaged.json["status"]) == (3, True,
                                                                                       "open")
    reply = officer.post(f"/cases/{case.reference}/replies", json={"body": "نتابع طلبك"})
    assert reply.status_code == 202 and reply.json["status"] == "queued"
    assert db.session.get(Message, reply.json["message_id"]).body == "نتابع طلبك"
    assert officer.post(f"/cases/{case.reference}/notes", json={"body": "اتصلنا بالمخزن"}
                        ).status_code == 201
    referral = officer.post(f"/cases/{case.reference}/referrals",
                            json={"to": focal.email, "due_on": "2099-01-01", "message": "تابع"})
    assert referral.status_code == 201, referral.json
    closed = officer.post(f"/cases/{case.reference}/close", json={"resolution": "وصلت السلة"})
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    again = officer.post(f"/cases/{case.reference}/close", json={"resolution": "x"})
    assert again.status_code == 409 and again.mimetype == PROBLEM
    reopened = officer.post(f"/cases/{case.reference}/reopen")
    assert reopened.status_code == 200 and reopened.json["status"] == "open"
    page = officer.get(f"/cases/{case.reference}").json
    assert page["resolution"] is None  # open again: the earlier resolution is a note now
    kinds = [entry["kind"] for entry in page["timeline"]]
    assert {"message", "note", "referral", "event"} <= set(kinds)


@pytest.mark.parametrize(("how", "expected"), [
    ("closed", "وصلت السلة"),
    ("merged", "Merged into {into}"),
    ("bulk-duplicate", "Merged into {into}"),
    ("information-line", "Answered automatically by the information line (next_distribution)"),
    ("caller-reached", "The person was reached on a later call-back"),
], ids=["closed", "merged", "bulk-duplicate", "information-line", "caller-reached"])
def test_the_resolution_is_given_for_every_way_of_closing(
    api: Callable[..., ApiClient], new_case: Callable[..., Case], how: str, expected: str,
) -> None:
    officer = api("officer")
    case, into = new_case("لم أستلم السلة", location="SY-ID"), new_case("مكررة", location="SY-ID")
    if how == "closed":
        officer.post(f"/cases/{case.reference}/close", json={"resolution": "وصلت السلة"})
    elif how == "merged":
        cases.merge(db.session, officer.user, case, into.reference, utcnow())
    elif how == "bulk-duplicate":
        queue.bulk_close_duplicate(db.session, officer.user, [case.id], into.reference)
    elif how == "caller-reached":  # as channels.twilio_voice.caller_reached closes it
        case.status, case.closed_at = CaseStatus.CLOSED, utcnow()
        audit.record(db.session, "case.closed", case=case, caller_reached=True)
        db.session.commit()
    else:
        entry = InfoEntry(code="next_distribution", answer_ar="قريباً")
        answer = InfoAnswer(case=case, entry=entry, channel="simulator")
        db.session.add(answer)
        info.record_feedback(db.session, answer, True, utcnow(), services().org_data)
        db.session.commit()
    response = officer.get(f"/cases/{case.reference}")
    assert response.status_code == 200 and response.json["status"] == "closed"
    assert response.json["resolution"] == expected.format(into=into.reference)


def test_triage_links_the_case_to_a_project(api: Callable[..., ApiClient],
                                            new_case: Callable[..., Case]) -> None:
    case = new_case("لم أستلم السلة")
    project = Project(name="سلال الشتاء", has_strategy=False, locations=[])
    db.session.add(project)
    db.session.commit()
    officer = api("officer")
    linked = officer.patch(f"/cases/{case.reference}", json={"project_id": project.id})
    assert linked.status_code == 200 and linked.json["project_id"] == project.id
    unknown = officer.patch(f"/cases/{case.reference}", json={"project_id": project.id + 1})
    assert unknown.status_code == 422 and "project" in unknown.json["detail"]
    db.session.refresh(case)
    assert case.project_id == project.id  # the refused change changed nothing
    unlinked = officer.patch(f"/cases/{case.reference}", json={"project_id": None})
    assert unlinked.status_code == 200 and unlinked.json["project_id"] is None


@pytest.mark.parametrize(
    ("label", "body", "status"),
    [
        ("unknown-field", {"levle": 3}, 422),
        ("level-not-in-grid", {"level": 9}, 422),
        ("wrong-type", {"urgent": "very"}, 422),
        ("bad-gender", {"gender": "x"}, 422),
        ("not-an-object", ["level"], 400),
    ],
)
def test_bad_triage_is_422_and_changes_nothing(api: Callable[..., ApiClient],
                                               new_case: Callable[..., Case], label: str,
                                               body: object, status: int) -> None:
    case = new_case("لم أستلم السلة")
    response = api("officer").patch(f"/cases/{case.reference}", json=body)
    assert response.status_code == status, label
    assert response.mimetype == PROBLEM and response.json["detail"]
    db.session.refresh(case)
    assert case.level is None and case.urgent is False


def test_reply_to_opted_out_person_is_409(api: Callable[..., ApiClient],
                                          new_case: Callable[..., Case]) -> None:
    case = new_case("لم أستلم السلة")
    case.contact.opted_out = True
    db.session.commit()
    response = api("officer").post(f"/cases/{case.reference}/replies", json={"body": "رد"})
    assert response.status_code == 409 and "opted_out" in response.json["detail"]


def test_responses_never_contain_an_address(api: Callable[..., ApiClient],
                                            new_case: Callable[..., Case]) -> None:
    case = new_case("رقمي مو مهم")
    tab_address = "tab-case-"  # the simulator "address" prefix of the fixture's contacts
    officer = api("officer")
    bodies = officer.get("/cases").get_data(as_text=True) + officer.get(
        f"/cases/{case.reference}").get_data(as_text=True)
    assert tab_address not in bodies
    assert not re.search(r"address|phone|pseudonym", bodies)


def test_kpis(api: Callable[..., ApiClient], new_case: Callable[..., Case]) -> None:
    new_case("شكوى")
    viewer = api("viewer")
    response = viewer.get("/reports/kpis?from=2020-01-01&to=2099-12-31")
    assert response.status_code == 200
    assert response.json["received"] == 1 and response.json["closed"] == 0
    assert response.json["median_days_to_close"] is None
    assert viewer.get("/reports/kpis?from=2026-02-01&to=2026-01-01").status_code == 400
    # A focal point sees only the cases referred to them: no organisation-wide figures, as
    # on the dashboard.
    assert api("focal_point").get("/reports/kpis?from=2020-01-01&to=2099-12-31"
                                  ).status_code == 403


@pytest.mark.parametrize("settings_overrides", [{"sawti_api_rate_limit": "3 per minute"}])
def test_rate_limit_per_token(api: Callable[..., ApiClient]) -> None:
    officer = api("officer")
    statuses = [officer.get("/cases").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = officer.get("/cases")
    assert limited.mimetype == PROBLEM and int(limited.headers["Retry-After"]) > 0


def test_openapi_document_lists_every_operation(app: Flask) -> None:
    document = app.test_client().get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.1")
    operations = {(method.upper(), path) for path, ops in document["paths"].items()
                  for method in ops}
    assert operations == {
        ("GET", "/cases"), ("GET", "/cases/{reference}"), ("PATCH", "/cases/{reference}"),
        ("POST", "/cases/{reference}/replies"), ("POST", "/cases/{reference}/notes"),
        ("POST", "/cases/{reference}/referrals"), ("POST", "/cases/{reference}/close"),
        ("POST", "/cases/{reference}/reopen"), ("GET", "/reports/kpis"),
        ("GET", "/projects"), ("GET", "/lessons"), ("GET", "/trainings"),
        ("GET", "/awareness-sessions"), ("GET", "/awareness-surveys"),
        ("GET", "/report-submissions"), ("GET", "/channel-availability"),
    }


def test_closing_with_an_unseen_message_is_a_conflict(
        api: Callable[..., ApiClient], new_case: Callable[..., Case],
        simulate: Callable[..., TestResponse]) -> None:
    case = new_case("لم أستلم السلة")  # the first case of new_case: tab-case-0001
    officer = api("officer")
    seen = officer.get(f"/cases/{case.reference}").json["latest_message_id"]
    assert seen is not None
    simulate("وكمان ما وصلنا الطحين", tab="tab-case-0001")
    stale = officer.post(f"/cases/{case.reference}/close",
                         json={"resolution": "وصلت السلة", "seen_message_id": seen})
    assert stale.status_code == 409 and stale.mimetype == PROBLEM
    latest = officer.get(f"/cases/{case.reference}").json["latest_message_id"]
    assert latest > seen
    closed = officer.post(f"/cases/{case.reference}/close",
                          json={"resolution": "وصلت السلة", "seen_message_id": latest})
    assert closed.status_code == 200 and closed.json["status"] == "closed"
