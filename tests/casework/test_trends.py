"""Trend alerts: the rule as a table, then on the database with local week edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from casework.models import Case, CaseStatus
from casework.trends import BASELINE_WEEKS, MIN_COUNT, judge, trend_alerts
from extensions import db

DAMASCUS = ZoneInfo("Asia/Damascus")
NOW = datetime(2026, 3, 18, 9, 0, tzinfo=DAMASCUS)  # a Wednesday; "this week" is 12–18 March


@pytest.mark.parametrize(
    ("baseline", "count", "alert"),
    [
        pytest.param([4] * 8, 4, False, id="at-baseline"),
        pytest.param([4] * 8, 5, False, id="flat-baseline-small-rise"),  # 4 + 3·√4 = 10
        pytest.param([4] * 8, 10, False, id="exactly-at-threshold"),
        pytest.param([4] * 8, 11, True, id="spike"),
        pytest.param([1] * 8, 3, False, id="one-to-three-is-not-a-trend"),
        pytest.param([0] * 8, 4, False, id="below-minimum-count"),
        pytest.param([0] * 8, MIN_COUNT, True, id="new-pattern-at-minimum"),
        pytest.param([0, 10] * 4, 15, False, id="noisy-baseline"),  # 5 + 3·5.35 = 21
        pytest.param([0, 10] * 4, 22, True, id="above-noisy-baseline"),
        pytest.param([100] * 8, 130, False, id="large-within-noise"),  # 100 + 3·10
        pytest.param([100] * 8, 131, True, id="large-spike"),
    ],
)
def test_the_rule(baseline: list[int], count: int, alert: bool) -> None:
    assert (judge(baseline, count) is not None) is alert


def _add(reference: int, created: datetime, *, category: str = "wash",
         location: str | None = "SY-ID-01", sensitive: bool = False,
         merged_into_id: int | None = None) -> None:
    db.session.add(Case(reference=f"{reference:07d}", channel="sms", category=category,
                        location=location, sensitive=sensitive, level=5 if sensitive else 1,
                        status=CaseStatus.OPEN, created_at=created, last_activity_at=created,
                        due_at=created + timedelta(days=15), merged_into_id=merged_into_id))


@pytest.fixture
def weeks(app_context: None) -> None:
    numbers = iter(range(1, 10_000))
    this_week = datetime(2026, 3, 12, 0, 0, tzinfo=DAMASCUS)  # local midnight, 6 days ago
    for week in range(1, BASELINE_WEEKS + 1):  # the baseline: 2 wash, 4 health a week
        start = this_week - timedelta(weeks=week)
        for day in range(2):
            _add(next(numbers), start + timedelta(days=day, hours=10), location="IQ-NI-01")
        for day in range(4):
            _add(next(numbers), start + timedelta(days=day, hours=11), category="health",
                 location="IQ-NI-01")
    # this week: wash jumps to 8 (two sensitive, in Aleppo's districts), health stays at 5
    _add(next(numbers), this_week, location="SY-HL-01", sensitive=True)  # first instant
    for day in range(7):
        _add(next(numbers), this_week + timedelta(days=day, hours=8),
             location="SY-HL-02", sensitive=day == 3)
    for day in range(5):
        _add(next(numbers), this_week + timedelta(days=day, hours=9), category="health",
             location="IQ-NI-01")
    # left out: a duplicate, a case one minute before the week (baseline), one after now
    _add(next(numbers), this_week + timedelta(hours=1), merged_into_id=1)
    _add(next(numbers), this_week - timedelta(minutes=1), category="shelter")
    _add(next(numbers), NOW + timedelta(hours=1), category="shelter")
    db.session.commit()


def test_a_category_and_a_location_that_rose(weeks: None) -> None:
    alerts = trend_alerts(db.session, NOW.astimezone(UTC), tz=DAMASCUS)
    found = {(alert.dimension, alert.code): alert for alert in alerts}
    assert set(found) == {("category", "wash"), ("location", "SY-HL")}
    wash = found["category", "wash"]
    assert wash.count == 8 and wash.baseline == (2,) * BASELINE_WEEKS
    assert (wash.mean, wash.spread, wash.threshold) == (2.0, 1.41, 6.24)  # 2 + 3·√2
    assert wash.sensitive == 2
    assert (wash.week_start.isoformat(), wash.week_end.isoformat()) == \
        ("2026-03-12", "2026-03-18")
    aleppo = found["location", "SY-HL"]  # districts roll up; no history at all before
    assert aleppo.count == 8 and aleppo.baseline == (0,) * BASELINE_WEEKS


def test_the_cases_behind_an_alert_are_a_queue_link(weeks: None) -> None:
    alert = next(item for item in trend_alerts(db.session, NOW, tz=DAMASCUS)
                 if item.dimension == "category")
    url = urlsplit(alert.queue_path())
    assert url.path == "/admin/queue"
    assert parse_qs(url.query) == {"view": ["all"], "category": ["wash"],
                                   "from": ["2026-03-12"], "to": ["2026-03-18"]}


def test_nothing_to_say_on_a_quiet_database(app_context: None) -> None:
    assert trend_alerts(db.session, NOW) == []


def test_now_must_know_its_time_zone(app_context: None) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        trend_alerts(db.session, datetime(2026, 3, 18, 9, 0))
