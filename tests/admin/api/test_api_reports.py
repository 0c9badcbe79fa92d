"""GET /api/v1/reports/kpis: the new figures, local days, a location, refusals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from casework.models import Case, CaseStatus
from extensions import db

DAMASCUS = ZoneInfo("Asia/Damascus")


@pytest.fixture
def cases(app_context: None) -> None:
    rows = [  # reference, created (local), location, closed after
        ("6000001", datetime(2026, 3, 1, 0, 30, tzinfo=DAMASCUS), "SY-ID-01", timedelta(days=2)),
        ("6000002", datetime(2026, 3, 15, 12, tzinfo=DAMASCUS), "SY-HL", None),
        ("6000003", datetime(2026, 2, 28, 23, 0, tzinfo=DAMASCUS), "SY-ID", None),
    ]
    for reference, created, location, after in rows:
        db.session.add(Case(
            reference=reference, channel="sms", level=1, location=location,
            created_at=created, last_activity_at=created, due_at=created + timedelta(days=15),
            closed_at=created + after if after else None,
            status=CaseStatus.CLOSED if after else CaseStatus.OPEN))
    db.session.commit()


def test_march_in_the_organisations_time_zone(api: Callable[..., object],
                                              cases: None) -> None:
    body = api("viewer").get("/reports/kpis?from=2026-03-01&to=2026-03-31").json  # type: ignore[attr-defined]
    assert body["timezone"] == "Asia/Damascus"
    assert body["received"] == 2  # 6000001 at 00:30 local on 1 March (28 February in UTC)
    assert body["received_by_location"] == {"SY-HL": 1, "SY-ID": 1}
    assert body["within_deadline_by_level"] == {"1": {"closed": 1, "within": 1, "share": 1.0}}
    assert [month["month"] for month in body["six_months"]] == [
        "2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03"]
    assert body["six_months"][-1]["by_level"] == {
        "1": {"closed": 1, "within": 1, "share": 1.0}}
    assert body["months"] == [{"month": "2026-03", "received": 2, "closed": 1, "within": 1,
                               "share": 1.0, "by_level": {}}]
    assert body["channels_per_location"] == {"SY-HL": 1, "SY-ID": 1}
    # open when March ended: 6000002 (16.5 days old) and 6000003 (31 days)
    assert body["open_by_age"] == {"0-2": 0, "3-7": 0, "8-15": 0, "16-30": 1, "31+": 1}
    assert body["satisfaction"] == {"1": 0, "2": 0, "3": 0}


def test_a_location_narrows_the_figures(api: Callable[..., object], cases: None) -> None:
    body = api("viewer").get(  # type: ignore[attr-defined]
        "/reports/kpis?from=2026-03-01&to=2026-03-31&location=SY-ID").json
    assert body["location"] == "SY-ID" and body["received"] == 1


@pytest.mark.parametrize("query", ["from=2026-03-01&to=2026-03-31&location=XX",
                                   "from=2026-03-01", "from=2026-3-1&to=2026-03-31"])
def test_bad_parameters_are_a_400_with_a_reason(api: Callable[..., object], query: str) -> None:
    response = api("viewer").get(f"/reports/kpis?{query}")  # type: ignore[attr-defined]
    assert response.status_code == 400
    assert response.json["detail"]


def test_programme_kpis_with_numerators_and_denominators(api: Callable[..., object],
                                                         cases: None) -> None:
    from casework import programme

    now = datetime(2026, 3, 2, tzinfo=DAMASCUS)
    programme.set_headcount(db.session, None, "SY-ID", 5, now)
    programme.save_training(db.session, None, None, {"held_on": "2026-03-02",
                                                     "location": "SY-ID-01"}, now,
                            participants=[{"organisation": "Us", "own_staff": True,
                                           "count": 2}])
    body = api("viewer").get("/reports/kpis?from=2026-03-01&to=2026-03-31").json  # type: ignore[attr-defined]
    figures = body["programme"]
    assert figures["staff_trained"] == {"numerator": 2, "denominator": 5, "share": 0.4}
    # closed in the six months: 6000001, in time → 1 / 1
    assert figures["closed_within_six_months"] == {"numerator": 1, "denominator": 1,
                                                   "share": 1.0}
    # no survey, no project: no data (null), never 0
    assert figures["aware"] == {"numerator": 0, "denominator": 0, "share": None}
    assert figures["projects_with_strategy"]["share"] is None
    # the viewer's token: viewers have no case role → 0 / 0, met unknown
    assert figures["case_database"]["two_factor"]["denominator"] == 0
    assert figures["case_database"]["met"] is None
    assert figures["report_due_day"] == 10
    assert body["received"] == 2  # the existing fields are unchanged


@pytest.fixture
def records(app_context: None) -> None:
    from casework import programme

    now = datetime(2026, 3, 2, tzinfo=DAMASCUS)
    sensitive = Case(reference="6000009", channel="sms", level=5, sensitive=True,
                     created_at=now, last_activity_at=now, due_at=now, status=CaseStatus.OPEN)
    db.session.add(sensitive)
    db.session.commit()
    project = programme.save_project(db.session, None, None,
                                     {"name": "Cash", "donor": "ECHO", "has_strategy": True},
                                     now)
    programme.save_lesson(db.session, None, None, {
        "title": "Refer safely", "status": "in_progress", "case_id": sensitive.id,
        "project_id": project.id}, now)


@pytest.mark.parametrize(("role", "status", "reference"), [
    pytest.param("viewer", 200, None, id="viewer-reads"),
    pytest.param("officer", 200, None, id="officer-reads"),
    pytest.param("psea", 200, "6000009", id="psea-sees-the-sensitive-reference"),
    pytest.param("focal_point", 403, None, id="focal-point-refused"),
])
def test_lessons_and_projects_by_role(api: Callable[..., object], records: None, role: str,
                                      status: int, reference: str | None) -> None:
    client = api(role)
    lessons = client.get("/lessons?status=in_progress")  # type: ignore[attr-defined]
    projects = client.get("/projects")  # type: ignore[attr-defined]
    assert (lessons.status_code, projects.status_code) == (status, status)
    if status == 200:
        assert [(item["title"], item["case_reference"]) for item in lessons.json["items"]] \
            == [("Refer safely", reference)]
        assert [(item["name"], item["has_strategy"]) for item in projects.json["items"]] == [
            ("Cash", True)]


@pytest.mark.parametrize("path", ["/trainings", "/awareness-sessions", "/awareness-surveys",
                                  "/report-submissions", "/channel-availability"])
def test_other_records_are_listed(api: Callable[..., object], path: str) -> None:
    response = api("viewer").get(path)  # type: ignore[attr-defined]
    assert response.status_code == 200 and isinstance(response.json["items"], list)
    assert api("focal_point").get(path).status_code == 403  # type: ignore[attr-defined]
