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
