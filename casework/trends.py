"""Trend alerts: a category or a location whose cases this week rise well above its own past.

The rule (one table of cases in tests/casework/test_trends.py):
- weeks are blocks of 7 whole local days (``tz``): "this week" is the 7 days ending today
  (today included, so far), the baseline the 8 weeks before it;
- for each category and each location (governorate; districts roll up into it) the count of
  cases received in each week (duplicates left out);
- an alert when this week's count is at least ``MIN_COUNT`` (5) **and** above
  mean + 3·spread of the baseline, where spread = max(standard deviation, √mean, 1). Counts of
  cases behave like Poisson counts, whose natural noise is √mean: a flat baseline (standard
  deviation 0) must not make a rise from 4 to 5 an alert, and 1 → 3 never is one.
Cases without a category or a location are not a pattern of either and are left out.

An alert carries its numbers, how many of the week's cases are sensitive (a count only) and
the queue filters that list the cases behind it (``queue_path``); the queue decides what each
reader may see of them.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.models import Case
from casework.reports import (
    bucket_of,
    governorate_of,
    grouped,
    in_location,
    local_midnight,
    not_duplicate,
)

BASELINE_WEEKS = 8
MIN_COUNT = 5
SPREADS = 3.0
QUEUE_PATH = "/admin/queue"
DIMENSIONS = ("category", "location")


@dataclass(frozen=True)
class TrendAlert:
    dimension: str  # "category" or "location"
    code: str  # the category code, or the governorate code
    week_start: date  # local days, both included
    week_end: date
    count: int  # cases received this week
    baseline: tuple[int, ...]  # the weeks before, oldest first
    mean: float
    spread: float
    threshold: float  # count had to be above this (and at least MIN_COUNT)
    sensitive: int  # how many of this week's cases are sensitive

    def queue_args(self) -> dict[str, str]:
        """Filters of the console queue (admin/queue.py) listing the week's cases."""
        return {"view": "all", self.dimension: self.code,
                "from": self.week_start.isoformat(), "to": self.week_end.isoformat()}

    def queue_path(self) -> str:
        """The queue's path with those filters; prefix PUBLIC_URL for a link in a message."""
        return f"{QUEUE_PATH}?{urlencode(self.queue_args())}"


def trend_alerts(session: Session, now: datetime, *, tz: tzinfo | None = None
                 ) -> list[TrendAlert]:
    """The alerts as of ``now``, strongest rise first. Weeks are cut at midnight in ``tz``
    (default: ``now``'s own zone — pass the organisation's SAWTI_TIMEZONE)."""
    zone = tz or now.tzinfo
    if zone is None:
        raise ValueError("now must be timezone-aware")
    today = now.astimezone(zone).date()
    week_start = today - timedelta(days=6)
    firsts = [week_start - timedelta(weeks=BASELINE_WEEKS - index)
              for index in range(BASELINE_WEEKS + 1)]
    bounds = [local_midnight(first, zone) for first in firsts]
    bounds.append(max(now, bounds[-1]))
    alerts: list[TrendAlert] = []
    counts = _weekly_counts(session, bounds)
    for dimension in DIMENSIONS:
        for code, weeks in counts[dimension].items():
            alert = judge(weeks[:-1], weeks[-1])
            if alert is None:
                continue
            mean, spread, threshold = alert
            alerts.append(TrendAlert(
                dimension=dimension, code=code, week_start=week_start, week_end=today,
                count=weeks[-1], baseline=tuple(weeks[:-1]), mean=round(mean, 2),
                spread=round(spread, 2), threshold=round(threshold, 2),
                sensitive=_sensitive(session, dimension, code, bounds[-2], bounds[-1])))
    return sorted(alerts, key=lambda item: (-(item.count - item.threshold), item.dimension,
                                            item.code))


def judge(baseline: list[int] | tuple[int, ...], count: int
          ) -> tuple[float, float, float] | None:
    """(mean, spread, threshold) when ``count`` is an alert against ``baseline``, else None."""
    mean = statistics.fmean(baseline) if baseline else 0.0
    deviation = statistics.stdev(baseline) if len(baseline) > 1 else 0.0
    spread = max(deviation, math.sqrt(mean), 1.0)
    threshold = mean + SPREADS * spread
    if count >= MIN_COUNT and count > threshold:
        return mean, spread, threshold
    return None


def _weekly_counts(session: Session, bounds: list[datetime]) -> dict[str, dict[str, list[int]]]:
    """Cases per week, by category and by governorate, from one scan (GROUPING SETS on
    PostgreSQL)."""
    rows = select(Case.category.label("category"), Case.location.label("location"),
                  bucket_of(Case.created_at, bounds).label("week")).where(
        Case.created_at >= bounds[0], Case.created_at < bounds[-1], not_duplicate()).subquery()
    groups = grouped(session, rows, {dimension: (dimension, "week") for dimension in DIMENSIONS},
                     [func.count()])
    weeks: dict[str, dict[str, list[int]]] = {}
    for dimension in DIMENSIONS:
        found: dict[str, list[int]] = defaultdict(lambda: [0] * (len(bounds) - 1))
        for (code, index), (count,) in groups[dimension]:
            if code is None or index is None:
                continue
            key = code if dimension == "category" else governorate_of(code)
            found[key][int(index)] += count
        weeks[dimension] = dict(found)
    return weeks


def _sensitive(session: Session, dimension: str, code: str, begin: datetime, end: datetime
               ) -> int:
    match = Case.category == code if dimension == "category" else in_location(code)
    return session.scalar(select(func.count()).select_from(Case).where(
        match, Case.created_at >= begin, Case.created_at < end, Case.sensitive.is_(True),
        not_duplicate())) or 0
